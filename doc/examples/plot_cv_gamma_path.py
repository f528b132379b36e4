"""
A lasso path for claim sizes, chosen by cross-validation
========================================================

Claim amounts are positive and skewed: a gamma GLM with a log link. Which of
twelve rating factors matter? :class:`~skglmnn.GLMRegressorCV` walks the lasso
path from the model with no factor at all (``alpha_max``) down to a light
penalty, cross-validates every point on five folds, and marks the two usual
choices: the smallest mean test deviance and glmnet's one-standard-error rule,
the sparser model the folds cannot tell apart from the best.

The penalty acts on the coefficients in X's units (as in scikit-learn), so the
factors are standardised first -- an age in years and an income in euros then
compete on equal terms, as they do in glmnet, which standardises by default.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skglmnn import GLMRegressorCV
from skglmnn.plotting import CVCurveDisplay, PathDisplay

rng = np.random.default_rng(0)
n = 3000
factors = pd.DataFrame({
    "driver_age": rng.uniform(18, 85, n),
    "vehicle_age": rng.integers(0, 20, n).astype(float),
    "power_kw": rng.lognormal(4.4, 0.3, n),
    "urban": rng.integers(0, 2, n).astype(float),
    "year": rng.integers(2015, 2025, n).astype(float),
    "income": rng.lognormal(10.5, 0.5, n),
    **{f"noise_{k}": rng.normal(size=n) for k in range(6)},
})  # fmt: skip
eta = (7.5 + 0.01 * (factors["driver_age"] - 50) + 0.004 * factors["power_kw"]
       + 0.3 * factors["urban"])  # fmt: skip
amount = rng.gamma(2.0, np.exp(eta) / 2.0)

model = make_pipeline(
    StandardScaler(), GLMRegressorCV("gamma", link="log", alphas=60, cv=5, selection="1se")
).set_output(transform="pandas")
model.fit(factors, amount)
cv = model[-1]
print(f"alpha_min = {cv.alpha_min_:.3g}, alpha_1se = {cv.alpha_1se_:.3g} (chosen)")
print("non-zero at the chosen point:", list(factors.columns[cv.coef_ != 0]))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
PathDisplay.from_estimator(cv, ax=left, legend=False)
left.set_title("coefficients along the path (standardised factors)")
CVCurveDisplay.from_estimator(cv, ax=right)
right.set_title("5-fold CV: mean test deviance +- 1 SE")
fig.tight_layout()
plt.show()
