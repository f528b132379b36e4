"""
A drop-in LogisticRegression
============================

``GLMClassifier`` takes scikit-learn's ``LogisticRegression`` parameters and
gives its answers; then it offers more: other links, an offset and inference.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skglmnn import GLMClassifier

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
for C in (0.01, 1.0):
    ours = make_pipeline(StandardScaler(), GLMClassifier(C=C, tol=1e-8)).fit(X, y)
    theirs = make_pipeline(StandardScaler(), LogisticRegression(C=C, tol=1e-8)).fit(X, y)
    gap = np.abs(ours.predict_proba(X) - theirs.predict_proba(X)).max()
    print(f"C={C}: largest probability difference {gap:.1e}")

# %%
# The same classifier with a probit link, and a table of its coefficients.
Xs = StandardScaler().fit_transform(X[["mean radius", "mean texture", "mean smoothness"]])
probit = GLMClassifier(C=np.inf, link="probit").fit(Xs, y)
logit = GLMClassifier(C=np.inf).fit(Xs, y)
print(probit.coef_table().round(4))

# %%
# Logit and probit coefficients differ by about the ratio of the two
# distributions' scales (about 1.6); their fitted probabilities hardly differ.
fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(logit.predict_proba(Xs)[:, 1], probit.predict_proba(Xs)[:, 1], s=4)
ax.axline((0, 0), slope=1, color="black", linewidth=0.8)
ax.set(xlabel="logit link", ylabel="probit link", title="P(benign)")
fig.tight_layout()
print("coefficient ratios logit / probit:", (logit.coef_ / probit.coef_).round(2))
