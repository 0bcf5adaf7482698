"""Keras 3.16 reference values for issue 16's metrics, sample weights and class weights.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/metrics.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/metrics.py
"""
import json
import os

import numpy as np
import keras

rng = np.random.default_rng(16)
out = {"keras": keras.__version__, "cases": {}}


def identity(units):
    inp = keras.Input((units,))
    return keras.Model(inp, keras.layers.Activation("linear")(inp))


def evaluate(name, loss, metrics, p, y, w=None, batch=4, weighted=None):
    model = identity(p.shape[1])
    model.compile(optimizer="sgd", loss=loss, metrics=metrics, weighted_metrics=weighted)
    result = model.evaluate(p, y, batch_size=batch, sample_weight=w, verbose=0, return_dict=True)
    out["cases"][name] = {"loss": loss, "metrics": metrics, "weighted_metrics": weighted or [], "batch": batch, "p": p.tolist(),
                          "y": y.tolist(), "w": None if w is None else w.tolist(), "result": {k: float(v) for k, v in result.items()}}


# Binary: 10 samples, one unit, probabilities; batches of 4, 4, 2 (the metrics are stateful across them).
p = rng.uniform(0.02, 0.98, (10, 1)).astype("float32")
y = (rng.uniform(size=(10, 1)) > 0.5).astype("float32")
w = rng.uniform(0.0, 2.0, (10,)).astype("float32")
binary = ["binary_accuracy", "accuracy", "precision", "recall", "auc", "mse", "mae", "root_mean_squared_error"]
evaluate("binary", "binary_crossentropy", binary, p, y)
evaluate("binary_weighted", "binary_crossentropy", binary, p, y, w)
evaluate("binary_mse_weighted", "mse", ["mse", "mae"], p, y, w)
evaluate("binary_weighted_metrics", "binary_crossentropy", ["auc"], p, y, w,
         weighted=["binary_accuracy", "precision", "recall", "auc", "mse", "mae", "root_mean_squared_error"])

# Three classes: one-hot targets, softmax-like rows.
logits = rng.normal(size=(9, 3)).astype("float32")
probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype("float32")
ids = rng.integers(0, 3, size=(9,))
onehot = np.eye(3, dtype="float32")[ids]
w3 = rng.uniform(0.0, 2.0, (9,)).astype("float32")
evaluate("categorical_weighted", "categorical_crossentropy", ["categorical_accuracy", "accuracy", "precision", "recall", "auc"], probs, onehot, w3,
         weighted=["categorical_accuracy", "precision", "recall", "auc"])
evaluate("sparse_weighted", "sparse_categorical_crossentropy", ["sparse_categorical_accuracy", "accuracy"], probs, ids.astype("float32").reshape(9, 1), w3)

# Class weights in fit: one SGD step (batch = all 8 samples) on Dense(1, sigmoid); the weights after it.
x = rng.normal(size=(8, 3)).astype("float32")
yb = np.array([0, 1, 1, 0, 1, 0, 0, 1], dtype="float32").reshape(8, 1)
kernel = rng.normal(size=(3, 1)).astype("float32") * 0.5
bias = np.array([0.1], dtype="float32")
for label, kwargs in {"class_weight": {"class_weight": {0: 0.5, 1: 2.0}},
                      "sample_weight": {"sample_weight": np.linspace(0.2, 1.6, 8).astype("float32")}}.items():
    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp))
    model.layers[1].set_weights([kernel, bias])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="binary_crossentropy", metrics=["accuracy", "auc"])
    history = model.fit(x, yb, batch_size=8, epochs=1, shuffle=False, verbose=0, **kwargs)
    out["cases"]["fit_" + label] = {
        "x": x.tolist(), "y": yb.tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(),
        "class_weight": {"0": 0.5, "1": 2.0} if label == "class_weight" else None,
        "sample_weight": kwargs["sample_weight"].tolist() if label == "sample_weight" else None,
        "history": {k: float(v[0]) for k, v in history.history.items()},
        "kernel_after": model.layers[1].get_weights()[0].tolist(), "bias_after": model.layers[1].get_weights()[1].tolist()}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "metrics.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path, {k: v.get("result", v.get("history")) for k, v in out["cases"].items()})
