"""
A Poisson network in ONNX
=========================

A network whose output layer is a Poisson GLM with a log link, exported to ONNX
and scored by onnxruntime: the graph ends in ``Exp``, so the runtime returns
claim *rates*, as ``predict`` does, with the log exposure as a second input.
scikit-learn's own converters cannot express this (``MLPRegressor(loss="poisson")``
exports without the exponential).
"""

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as rt
from skl2onnx import to_onnx

from skglmnn import NeuralGLM
from skglmnn.onnx_export import register_converters

rng = np.random.default_rng(0)
n = 4000
X = np.column_stack([rng.uniform(18, 80, n), rng.normal(size=n), rng.integers(0, 2, n)])
years = rng.uniform(0.2, 3.0, n)
rate = np.exp(-2.0 + 0.5 * np.sin((X[:, 0] - 18) / 10) + 0.3 * X[:, 1] * X[:, 2])
claims = rng.poisson(rate * years)

net = NeuralGLM(hidden=(16,), activation="tanh", family="poisson", solver="lbfgs",
                max_iter=2000, random_state=0).fit(X, claims, offset=np.log(years))

register_converters()  # once per process
onx = to_onnx(net, X[:1].astype(np.float32), options={id(net): {"offset": True}})
session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
print("inputs:", [(i.name, i.shape) for i in session.get_inputs()])

feeds = {"X": X.astype(np.float32), "offset": np.log(years).astype(np.float32)[:, None]}
onnx_mean = session.run(None, feeds)[0].ravel()
ours = net.predict(X, offset=np.log(years))
print(f"largest relative difference (float32 graph): {np.max(np.abs(onnx_mean / ours - 1)):.2e}")

fig, ax = plt.subplots(figsize=(5, 4))
ax.loglog(ours, onnx_mean, ".", ms=2)
ax.set_xlabel("NeuralGLM.predict")
ax.set_ylabel("onnxruntime")
ax.set_title("Expected claims, two runtimes")
plt.show()
