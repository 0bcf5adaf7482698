"""Keras 3.16 reference values for issue 24's activations: every name `keras.activations.get` accepts (but
`threshold`, which needs arguments) on a grid of edge values with the gradient of a weighted sum, the ReLU,
LeakyReLU, PReLU, ELU and Softmax layers with their arguments (Softmax under an Embedding(mask_zero) mask), and a
small model of all five saved as .keras with its predictions.

Writes test/CnnLstm.Functional.Tests/Layers/KerasFixtures/activations/. Run from the repository root:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/activations.py
"""
import json
import os

import numpy as np
import torch
import keras
from keras import layers, ops
from keras.src.activations import ALL_OBJECTS_DICT

OUT = "test/CnnLstm.Functional.Tests/Layers/KerasFixtures/activations"
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(24)
out = {"keras": keras.__version__, "backend": keras.backend.backend()}


def f64(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64").tolist()


# Edge values: both sides of every kink (0, ±0.5 shrink, ±1 sparse/hard, ±3 hard_sigmoid, 6 relu6), tiny, large.
edges = [-20.0, -7.0, -3.0, -1.0, -0.75, -0.5, -1e-7, 0.0, 1e-7, 0.5, 0.75, 1.0, 3.0, 6.0, 7.0, 20.0]
grid = np.stack([np.array(edges), rng.normal(size=16) * 3]).astype("float32")
out["functions"] = {"x": grid.tolist(), "values": {}, "weights": {}, "gradients": {}}
for name in sorted(ALL_OBJECTS_DICT):
    if name == "threshold":
        continue
    fn = keras.activations.get(name)
    x = torch.tensor(grid, requires_grad=True)
    y = fn(x)
    w = torch.tensor(rng.normal(size=tuple(y.shape)).astype("float32"))
    (y * w).sum().backward()
    out["functions"]["values"][name] = f64(y.detach())
    out["functions"]["weights"][name] = f64(w)
    out["functions"]["gradients"][name] = f64(x.grad)
try:
    keras.activations.get("threshold")(ops.convert_to_tensor(grid))
except TypeError as e:
    out["threshold_error"] = str(e)

# Layers with their arguments, called eagerly on (2, 3, 4).
x = (rng.normal(size=(2, 3, 4)) * 4).astype("float32")
x[0, 0] = [0.0, 1.0, 5.0, 6.0]
cases = [
    ("ReLU", {}), ("ReLU", {"max_value": 6.0}), ("ReLU", {"max_value": 5.0, "negative_slope": 0.5, "threshold": 1.0}),
    ("ReLU", {"negative_slope": 0.1}), ("ReLU", {"threshold": 2.0}), ("ReLU", {"max_value": 3.0, "negative_slope": 0.25}),
    ("ReLU", {"negative_slope": 0.5, "threshold": 1.5}),
    ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.05}), ("LeakyReLU", {"negative_slope": 0.0}),
    ("ELU", {}), ("ELU", {"alpha": 0.5}), ("ELU", {"alpha": -1.5}),
    ("Softmax", {}), ("Softmax", {"axis": 1}), ("Softmax", {"axis": [1, 2]}), ("Softmax", {"axis": [2]}),
    ("PReLU", {}), ("PReLU", {"shared_axes": [1]}), ("PReLU", {"shared_axes": [1, 2]}), ("PReLU", {"shared_axes": 2}),
]
out["layers"] = []
for cls, kwargs in cases:
    layer = getattr(layers, cls)(**kwargs)
    weights = []
    if cls == "PReLU":
        layer.build(x.shape)
        weights = [(rng.normal(size=w.shape) * 0.5).astype("float32") for w in layer.get_weights()]
        layer.set_weights(weights)
    config = layer.get_config()
    config.pop("dtype", None)
    out["layers"].append({"class_name": cls, "kwargs": kwargs, "config": config, "x": x.tolist(),
                          "weights": [w.tolist() for w in weights], "y": f64(layer(x))})

# Softmax under an Embedding(mask_zero) mask: Keras broadcasts the (batch, steps) mask against (batch, steps, features)
# from the last axis, so batch must be 1 or steps; a row of zero ids masks a whole softmax row.
inp = keras.Input((4,), dtype="int32")
emb = layers.Embedding(6, 4, mask_zero=True)
model = keras.Model(inp, layers.Softmax()(emb(inp)))
emb_w = rng.normal(size=(6, 4)).astype("float32")
emb.set_weights([emb_w])
ids4 = np.array([[1, 2, 0, 3], [0, 0, 0, 0], [5, 4, 3, 2], [1, 0, 0, 0]], dtype="int32")
ids1 = np.array([[3, 0, 1, 0]], dtype="int32")
out["masked_softmax"] = {"embeddings": emb_w.tolist(), "ids4": ids4.tolist(), "y4": f64(model.predict(ids4, verbose=0)),
                         "ids1": ids1.tolist(), "y1": f64(model.predict(ids1, verbose=0))}
try:
    model.predict(np.array([[1, 2, 0, 3], [1, 1, 1, 0]], dtype="int32"), verbose=0)
except ValueError as e:
    out["masked_softmax"]["batch2_error"] = str(e).split("\n")[2] if "\n" in str(e) else str(e)

# A model of all five layers, saved as .keras, with trained-ish PReLU alpha.
inp = keras.Input((3, 4))
h = layers.Dense(4, name="dense")(inp)
h = layers.ReLU(max_value=5.0, negative_slope=0.5, threshold=1.0, name="relu")(h)
h = layers.LeakyReLU(negative_slope=0.1, name="leaky")(h)
prelu = layers.PReLU(shared_axes=[1], name="prelu")
h = prelu(h)
h = layers.ELU(alpha=0.5, name="elu")(h)
h = layers.Activation("sparsemax", name="sparsemax")(h)
h = layers.Dense(6, name="dense2")(h)
h = layers.Activation("glu", name="glu")(h)
h = layers.Softmax(axis=[1, 2], name="softmax")(h)
model = keras.Model(inp, h)
for layer in model.layers:
    if layer.weights:
        layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
xm = (rng.normal(size=(5, 3, 4)) * 2).astype("float32")
model.save(f"{OUT}/activation_layers.keras")
out["model"] = {"file": "activation_layers.keras", "x": xm.tolist(), "y": f64(model.predict(xm, verbose=0)),
                "output_shape": list(model.output.shape)[1:]}

with open(f"{OUT}/activations.json", "w") as f:
    json.dump(out, f)
print("wrote", OUT)
