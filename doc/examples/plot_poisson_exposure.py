"""
Poisson GLM with exposure
=========================

Claim counts observed over different exposures (policy years): the log of the
exposure enters as an ``offset``, so the model is one for the claim *rate*.
The summary reads like R's ``summary(glm(..., offset = log(years)))``.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skglmnn import GLMRegressor

rng = np.random.default_rng(1)
n = 5000
data = pd.DataFrame(
    {
        "age": rng.uniform(18, 80, n),
        "urban": rng.integers(0, 2, n).astype(float),
        "power": rng.normal(size=n),
    }
)
years = rng.uniform(0.1, 3.0, n)
rate = np.exp(-2.0 - 0.01 * (data["age"] - 40) + 0.4 * data["urban"] + 0.2 * data["power"])
claims = rng.poisson(rate * years)

model = GLMRegressor(family="poisson", link="log").fit(data, claims, offset=np.log(years))
print(model.summary())

# %%
# The rate ratios with 95% intervals: exp of the coefficients.
table = model.coef_table()
print(np.exp(table[["estimate", "ci_lower", "ci_upper"]]).round(3))

# %%
# Expected claims for one policy year, by age and area.
ages = np.linspace(18, 80, 50)
fig, ax = plt.subplots(figsize=(6, 4))
for urban in (0.0, 1.0):
    grid = pd.DataFrame({"age": ages, "urban": urban, "power": 0.0})
    ax.plot(ages, model.predict(grid, offset=np.zeros(len(ages))), label=f"urban = {urban:g}")
ax.set(xlabel="age", ylabel="expected claims per year")
ax.legend()
fig.tight_layout()
