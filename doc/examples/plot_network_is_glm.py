"""
A network without hidden layers is the GLM
==========================================

The demo's first argument, as plots: ``NeuralGLM(hidden=())`` fits the same
coefficients as the closed-form least-squares solution and ``GLMRegressor``;
``NeuralGLMClassifier(hidden=())`` the same as logistic regression. Then one
hidden layer of tanh GLM nodes learns features that a Poisson GLM uses.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from skglmnn import GLMClassifier, GLMRegressor, NeuralGLM, NeuralGLMClassifier

rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 3))
y = 1.0 + X @ [2.0, -1.0, 0.5] + rng.normal(size=2000)

Xa = np.column_stack([np.ones(len(y)), X])
closed_form = np.linalg.solve(Xa.T @ Xa, Xa.T @ y)
glm = GLMRegressor(family="normal", link="identity").fit(X, y)
net = NeuralGLM(hidden=(), activation="identity", alpha=0.0, solver="lbfgs", tol=1e-12).fit(X, y)
print("closed form ", closed_form.round(6))
print("GLMRegressor", np.r_[glm.intercept_, glm.coef_].round(6))
print("NeuralGLM() ", np.r_[net.intercept_, net.coef_].round(6))

# %%
# Logistic regression, three ways, without a penalty.
labels = rng.binomial(1, 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.25] - 0.5))))
clf = GLMClassifier(C=np.inf).fit(X, labels)
net_clf = NeuralGLMClassifier(hidden=(), alpha=0.0, solver="lbfgs", tol=1e-12).fit(X, labels)
ref = LogisticRegression(C=np.inf).fit(X, labels)
print(
    "largest coefficient difference to scikit-learn:",
    np.abs(net_clf.coef_ - ref.coef_).max(),
    np.abs(clf.coef_ - ref.coef_).max(),
)

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
axes[0].scatter(glm.predict(X), net.predict(X), s=3)
axes[0].set(xlabel="GLMRegressor", ylabel="NeuralGLM(hidden=())", title="predicted means")
axes[1].scatter(clf.predict_proba(X)[:, 1], net_clf.predict_proba(X)[:, 1], s=3)
axes[1].set(xlabel="GLMClassifier", ylabel="NeuralGLMClassifier(hidden=())", title="P(y = 1)")
for ax in axes:
    ax.axline((0, 0), slope=1, color="black", linewidth=0.8)
fig.tight_layout()

# %%
# One hidden layer: learned features feeding a Poisson GLM
# ---------------------------------------------------------
# The mean is not log-linear in x0; eight tanh nodes (each a GLM with the atanh
# link on X) learn features on which the output Poisson GLM is log-linear.
Z = rng.uniform(-2, 2, size=(4000, 2))
counts = rng.poisson(np.exp(0.5 + np.sin(2 * Z[:, 0]) + 0.5 * Z[:, 1]))
deep = NeuralGLM(
    hidden=(8,),
    activation="tanh",
    family="poisson",
    solver="lbfgs",
    alpha=1e-3,
    max_iter=3000,
    tol=1e-8,
    random_state=0,
).fit(Z, counts)
plain = GLMRegressor(family="poisson").fit(Z, counts)
print(f"D^2: GLM on X {plain.score(Z, counts):.3f}, network {deep.score(Z, counts):.3f}")

grid = np.column_stack([np.linspace(-2, 2, 200), np.zeros(200)])
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].plot(grid[:, 0], deep.transform(grid))
axes[0].set(xlabel="x0", title="learned features (hidden units)")
axes[1].plot(grid[:, 0], np.exp(0.5 + np.sin(2 * grid[:, 0])), "k", label="true mean")
axes[1].plot(grid[:, 0], deep.predict(grid), label="NeuralGLM")
axes[1].plot(grid[:, 0], plain.predict(grid), label="GLMRegressor on X")
axes[1].set(xlabel="x0", title="the output GLM on those features")
axes[1].legend()
fig.tight_layout()

# %%
# A plain GLM refitted on the learned features gives back the output layer.
refit = GLMRegressor(family="poisson", alpha=deep.alpha, tol=1e-10).fit(deep.transform(Z), counts)
print("largest difference:", np.abs(refit.coef_ - deep.coef_).max())
