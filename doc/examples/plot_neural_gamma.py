"""
A network with a Gamma output
=============================

Positive, right-skewed targets (claim sizes, durations) call for a Gamma
family; scikit-learn's ``MLPRegressor`` offers only squared error. Here the
output GLM of a ``NeuralGLM`` is Gamma with a log link, so predictions stay
positive and the fit is judged by Gamma deviance.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_gamma_deviance
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor

from skglmnn import GLMRegressor, NeuralGLM

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # the MLP's lbfgs stops early
rng = np.random.default_rng(2)
X = rng.uniform(-1, 1, size=(6000, 3))
mu = np.exp(1.0 + np.cos(3 * X[:, 0]) + X[:, 1] * X[:, 2])
y = rng.gamma(shape=2.0, scale=mu / 2.0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

net = NeuralGLM(
    hidden=(32,),
    activation="tanh",
    family="gamma",
    link="log",
    solver="lbfgs",
    alpha=1e-4,
    max_iter=1000,
    random_state=0,
).fit(X_train, y_train)
glm = GLMRegressor(family="gamma", link="log").fit(X_train, y_train)
mlp = MLPRegressor(
    hidden_layer_sizes=(32,), activation="tanh", solver="lbfgs", max_iter=1000, random_state=0
).fit(X_train, y_train)

for name, pred in [
    ("NeuralGLM (gamma, log)", net.predict(X_test)),
    ("GLMRegressor (gamma, log)", glm.predict(X_test)),
    ("MLPRegressor (squared error)", np.clip(mlp.predict(X_test), 1e-3, None)),
]:
    print(f"{name:30s} mean Gamma deviance {mean_gamma_deviance(y_test, pred):.4f}")
print("smallest network prediction:", net.predict(X_test).min().round(3))

# %%
# The output layer's table, conditional on the learned features.
print(net.summary())

# %%
true_mean = np.exp(1.0 + np.cos(3 * X_test[:, 0]) + X_test[:, 1] * X_test[:, 2])
fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(true_mean[:1000], net.predict(X_test)[:1000], s=4)
ax.axline((1, 1), slope=1, color="black", linewidth=0.8)
ax.set(xscale="log", yscale="log", xlabel="true mean", ylabel="NeuralGLM prediction")
fig.tight_layout()
