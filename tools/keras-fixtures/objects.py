"""Keras 3.16 reference values for issue 21's eager losses, metrics and optimizers: each loss called on arrays with
and without sample weights under every reduction (and with a mask on y_pred), each metric's result after every
update_state of three batches with sample weights, and a few apply_gradients steps of each optimizer on a fixed
variable and gradients.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/objects.json. Run from the repository root with the
real-Keras environment (torch backend):
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/objects.py
"""
import json
import os
import sys

import numpy as np
import keras
from keras import ops
from keras.src import backend

sys.path.insert(0, os.path.dirname(__file__))
from common import f64  # noqa: E402

rng = np.random.default_rng(21)
out = {"keras": keras.__version__}


# Losses: (batch 4, units 3) predictions in (0, 1); targets per loss; sample weights (4,).
p = rng.uniform(0.05, 0.95, size=(4, 3)).astype("float32")
probabilities = p / p.sum(axis=-1, keepdims=True)
binary = rng.integers(0, 2, size=(4, 3)).astype("float32")
onehot = np.eye(3, dtype="float32")[[0, 2, 1, 2]]
sparse = np.array([0, 2, 1, 2], dtype="float32")
regression = rng.normal(size=(4, 3)).astype("float32")
w = np.array([0.5, 2.0, 0.0, 1.5], dtype="float32")
cases = {
    "BinaryCrossentropy": (keras.losses.BinaryCrossentropy, {}, binary, p),
    "BinaryCrossentropy_smoothing_logits": (keras.losses.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.2}, binary, regression),
    "CategoricalCrossentropy": (keras.losses.CategoricalCrossentropy, {}, onehot, probabilities),
    "SparseCategoricalCrossentropy": (keras.losses.SparseCategoricalCrossentropy, {}, sparse, probabilities),
    "SparseCategoricalCrossentropy_ignore_class": (keras.losses.SparseCategoricalCrossentropy, {"ignore_class": 1}, sparse, probabilities),
    "MeanSquaredError": (keras.losses.MeanSquaredError, {}, regression, p),
    "MeanAbsoluteError": (keras.losses.MeanAbsoluteError, {}, regression, p),
}
reductions = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]
out["losses"] = {}
for name, (cls, args, y, pred) in cases.items():
    case = {"class_name": cls.__name__, "args": args, "y": y.tolist(), "p": pred.tolist(), "w": w.tolist(), "values": {}}
    for reduction in reductions:
        loss = cls(reduction=reduction, **args)
        case["values"][reduction] = {"plain": f64(loss(y, pred)), "weighted": f64(loss(y, pred, sample_weight=w))}
    out["losses"][name] = case

# Masked per-step losses: y_pred (2, 3 steps, 2 units) carrying a mask, as a masked output would.
seq_p = rng.uniform(0.05, 0.95, size=(2, 3, 2)).astype("float32")
seq_y = rng.normal(size=(2, 3, 2)).astype("float32")
seq_mask = np.array([[True, True, False], [True, False, False]])
seq_w = np.array([[2.0, 1.0, 0.5], [0.5, 3.0, 1.0]], dtype="float32")  # per step: Keras broadcasts neither (batch,) nor (batch, 1) weights against a (batch, steps) mask
out["masked"] = {"y": seq_y.tolist(), "p": seq_p.tolist(), "mask": seq_mask.tolist(), "w": seq_w.tolist(), "values": {}}
for reduction in reductions:
    loss = keras.losses.MeanSquaredError(reduction=reduction)
    tensor = ops.convert_to_tensor(seq_p)
    backend.set_keras_mask(tensor, ops.convert_to_tensor(seq_mask))
    plain = f64(loss(seq_y, tensor))
    backend.set_keras_mask(tensor, ops.convert_to_tensor(seq_mask))
    out["masked"]["values"][reduction] = {"plain": plain, "weighted": f64(loss(seq_y, tensor, sample_weight=seq_w))}

# Metrics: three update_state calls (batches of 4, 3 and 2) with sample weights; result after each, then after
# reset_state and one unweighted update.
batches = []
for size in [4, 3, 2]:
    probs = rng.uniform(0.02, 0.98, size=(size, 3)).astype("float32")
    batches.append({
        "p": probs.tolist(),
        "p_norm": (probs / probs.sum(-1, keepdims=True)).tolist(),
        "binary": rng.integers(0, 2, size=(size, 3)).astype("float32").tolist(),
        "classes": rng.integers(0, 3, size=(size,)).astype("float32").tolist(),
        "regression": rng.normal(size=(size, 3)).astype("float32").tolist(),
        "w": rng.uniform(0, 2, size=(size,)).astype("float32").tolist(),
    })
metrics = {
    "BinaryAccuracy": (lambda: keras.metrics.BinaryAccuracy(), "binary", "p"),
    "CategoricalAccuracy": (lambda: keras.metrics.CategoricalAccuracy(), "onehot", "p_norm"),
    "SparseCategoricalAccuracy": (lambda: keras.metrics.SparseCategoricalAccuracy(), "classes", "p_norm"),
    "MeanSquaredError": (lambda: keras.metrics.MeanSquaredError(), "regression", "p"),
    "MeanAbsoluteError": (lambda: keras.metrics.MeanAbsoluteError(), "regression", "p"),
    "RootMeanSquaredError": (lambda: keras.metrics.RootMeanSquaredError(), "regression", "p"),
    "Precision": (lambda: keras.metrics.Precision(), "binary", "p"),
    "Recall": (lambda: keras.metrics.Recall(thresholds=0.4), "binary", "p"),
    "AUC": (lambda: keras.metrics.AUC(num_thresholds=50), "binary", "p"),
}
for batch in batches:
    batch["onehot"] = np.eye(3, dtype="float32")[np.asarray(batch["classes"], dtype="int64")].tolist()
out["metric_batches"] = batches
out["metrics"] = {}
for name, (make, target, prediction) in metrics.items():
    metric = make()
    results = []
    for batch in batches:
        metric.update_state(np.asarray(batch[target], "float32"), np.asarray(batch[prediction], "float32"), sample_weight=np.asarray(batch["w"], "float32"))
        results.append(float(ops.convert_to_numpy(metric.result())))
    metric.reset_state()
    after_reset = float(ops.convert_to_numpy(metric.result()))
    called = float(ops.convert_to_numpy(metric(np.asarray(batches[0][target], "float32"), np.asarray(batches[0][prediction], "float32"))))
    out["metrics"][name] = {"target": target, "prediction": prediction, "results": results, "after_reset": after_reset, "called": called}

# Optimizers: a (2, 3) variable and a (3,) one, four apply_gradients steps with fixed gradients.
start = [rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]
grads = [[rng.normal(size=v.shape).astype("float32") for v in start] for _ in range(4)]
optimizers = {
    "Adam": lambda: keras.optimizers.Adam(learning_rate=0.05),
    "Adam_amsgrad": lambda: keras.optimizers.Adam(learning_rate=0.05, beta_1=0.8, amsgrad=True),
    "SGD": lambda: keras.optimizers.SGD(learning_rate=0.1),
    "SGD_momentum": lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
    "SGD_nesterov": lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "RMSprop": lambda: keras.optimizers.RMSprop(learning_rate=0.01),
    "RMSprop_centered": lambda: keras.optimizers.RMSprop(learning_rate=0.01, centered=True),
    "RMSprop_momentum": lambda: keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.5),
    "RMSprop_centered_momentum": lambda: keras.optimizers.RMSprop(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True),
}
out["optimizer_start"] = [v.tolist() for v in start]
out["optimizer_grads"] = [[g.tolist() for g in step] for step in grads]
out["optimizers"] = {}
for name, make in optimizers.items():
    optimizer = make()
    variables = [keras.Variable(v) for v in start]
    steps = []
    for step in grads:
        optimizer.apply_gradients(zip([ops.convert_to_tensor(g) for g in step], variables))
        steps.append([f64(v) for v in variables])
    out["optimizers"][name] = {"config": {k: v for k, v in optimizer.get_config().items() if k in ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho", "centered")},
                               "iterations": int(ops.convert_to_numpy(optimizer.iterations)), "steps": steps}

path = os.path.join("test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "objects.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
