"""Keras 3.16 reference values for issue 20's "wrong numbers, silently": activations, merges on masked inputs,
optimizer updates, loss arguments and AUC arguments.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/numerics.json. Run from the repository root with the
real-Keras environment (torch backend):
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/numerics.py
"""
import json
import os

import numpy as np
import keras
from keras import layers, ops
from keras.src import backend

rng = np.random.default_rng(20)
out = {"keras": keras.__version__}


def f64(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64").tolist()


# Activations by name, on a grid that crosses every kink (±3 for hard_sigmoid, 0, 6 for relu6).
grid = np.array([[-7.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.25, 1.0, 2.5, 3.0, 6.0, 7.5]], dtype="float32")
names = ["linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "hard_sigmoid", "hard_silu", "hard_swish", "elu",
         "selu", "softplus", "softsign", "exponential", "silu", "swish", "gelu", "mish", "leaky_relu", "log_sigmoid", "celu", "hard_tanh",
         "squareplus", "sparse_plus", "tanh_shrink", "soft_shrink", "hard_shrink", "glu", "sparsemax", "threshold", "sparse_sigmoid"]
out["activations"] = {"x": grid[0].tolist(), "values": {}}
for name in names:
    try:
        out["activations"]["values"][name] = f64(keras.activations.get(name)(ops.convert_to_tensor(grid)))[0]
    except Exception as e:  # noqa: BLE001 -- names this Keras does not have are left out
        print("skip", name, e)

# A Dense layer with hard_sigmoid / hard_silu, and an LSTM with hard_sigmoid gates: Keras 3 built in code.
x = rng.normal(size=(4, 3)).astype("float32") * 2
kernel = rng.normal(size=(3, 2)).astype("float32")
bias = np.array([0.3, -0.2], dtype="float32")
out["dense"] = {"x": x.tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(), "predictions": {}}
for name in ["hard_sigmoid", "hard_silu", "gelu", "leaky_relu", "relu6"]:
    inp = keras.Input((3,))
    dense = layers.Dense(2, activation=name)
    model = keras.Model(inp, dense(inp))
    dense.set_weights([kernel, bias])
    out["dense"]["predictions"][name] = f64(model.predict(x, verbose=0))
seq = rng.normal(size=(2, 4, 3)).astype("float32")
inp = keras.Input((4, 3))
lstm = layers.LSTM(2, recurrent_activation="hard_sigmoid")
model = keras.Model(inp, lstm(inp))
lstm_weights = [rng.normal(size=w.shape).astype("float32") for w in lstm.get_weights()]
lstm.set_weights(lstm_weights)
out["lstm_hard_sigmoid"] = {"x": seq.tolist(), "weights": [w.tolist() for w in lstm_weights], "predictions": f64(model.predict(seq, verbose=0))}

# Merges on masked inputs: two Embedding(mask_zero) of one id sequence (0 = padding), called eagerly.
ids = np.array([[3, 1, 0, 0, 2], [0, 4, 4, 1, 0], [2, 0, 3, 0, 0]], dtype="int64")
ids_b = np.array([[1, 0, 0, 2, 2], [0, 3, 0, 1, 4], [0, 0, 3, 1, 0]], dtype="int64")
emb_a = rng.normal(size=(5, 3)).astype("float32")
emb_b = rng.normal(size=(5, 3)).astype("float32")
plain = rng.normal(size=(3, 5, 3)).astype("float32")
ea = layers.Embedding(5, 3, mask_zero=True)
eb = layers.Embedding(5, 3, mask_zero=True)
ea.build((None, 5))
eb.build((None, 5))
ea.set_weights([emb_a])
eb.set_weights([emb_b])
a = ea(ids)
b = eb(ids_b)
c = ops.convert_to_tensor(plain)
merges = {
    "multiply": layers.Multiply()([a, b]), "maximum": layers.Maximum()([a, b]), "minimum": layers.Minimum()([a, b]),
    "add": layers.Add()([a, b]), "subtract": layers.Subtract()([a, b]), "average": layers.Average()([a, b]),
    "concatenate": layers.Concatenate()([a, b]), "concatenate_axis1": layers.Concatenate(axis=1)([a, b]),
    "dot": layers.Dot(axes=2)([a, b]),
    "multiply_three": layers.Multiply()([a, b, a]), "maximum_three": layers.Maximum()([a, b, a]),
    "minimum_three": layers.Minimum()([b, a, b]),
    "multiply_unmasked": layers.Multiply()([a, c]), "maximum_unmasked": layers.Maximum()([c, a]),
    "minimum_unmasked": layers.Minimum()([a, c]),
}
out["merges"] = {"ids": ids.tolist(), "ids_b": ids_b.tolist(), "embedding_a": emb_a.tolist(), "embedding_b": emb_b.tolist(), "plain": plain.tolist(),
                 "outputs": {k: {"value": f64(v), "mask": None if backend.get_keras_mask(v) is None else np.asarray(ops.convert_to_numpy(backend.get_keras_mask(v))).tolist()}
                             for k, v in merges.items()}}

# Optimizers: Dense(3, tanh) > Dense(1), mse, 2 epochs of 2 batches (8 samples each, no shuffle), from fixed weights.
xo = rng.normal(size=(16, 4)).astype("float32")
yo = (xo[:, :1] * 0.5 - xo[:, 1:2] ** 2 * 0.3 + 0.1).astype("float32")
w0 = [rng.normal(size=(4, 3)).astype("float32") * 0.5, rng.normal(size=(3,)).astype("float32") * 0.1,
      rng.normal(size=(3, 1)).astype("float32") * 0.5, np.array([0.05], dtype="float32")]
O = keras.optimizers
optimizers = {
    "adam": O.Adam(learning_rate=0.05), "adam_amsgrad": O.Adam(learning_rate=0.05, amsgrad=True),
    "adam_betas": O.Adam(learning_rate=0.02, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
    "sgd": O.SGD(learning_rate=0.1), "sgd_momentum": O.SGD(learning_rate=0.1, momentum=0.9),
    "sgd_nesterov": O.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "rmsprop": O.RMSprop(learning_rate=0.01), "rmsprop_rho": O.RMSprop(learning_rate=0.01, rho=0.5, epsilon=1e-3),
    "rmsprop_momentum": O.RMSprop(learning_rate=0.01, momentum=0.5), "rmsprop_centered": O.RMSprop(learning_rate=0.01, centered=True),
    "rmsprop_centered_momentum": O.RMSprop(learning_rate=0.01, momentum=0.3, centered=True, epsilon=1e-2),
}
out["optimizers"] = {"x": xo.tolist(), "y": yo.tolist(), "weights": [w.tolist() for w in w0], "cases": {}}
for name, optimizer in optimizers.items():
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(1)(layers.Dense(3, activation="tanh")(inp)))
    model.set_weights(w0)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(xo, yo, batch_size=8, epochs=2, shuffle=False, verbose=0)
    config = {k: v for k, v in optimizer.get_config().items() if k not in ("name",)}
    out["optimizers"]["cases"][name] = {"class_name": optimizer.__class__.__name__, "config": json.loads(json.dumps(config)),
                                        "weights_after": [np.asarray(w, dtype="float64").tolist() for w in model.get_weights()]}


def identity(units):
    inp = keras.Input((units,))
    return keras.Model(inp, layers.Activation("linear")(inp))


# Losses with their arguments: evaluate of an identity model on given predictions, one batch.
out["losses"] = {}


def loss_case(name, loss, p, y, w=None):
    model = identity(p.shape[1])
    model.compile(optimizer="sgd", loss=loss)
    value = model.evaluate(p, y, batch_size=len(p), sample_weight=w, verbose=0)
    out["losses"][name] = {"class_name": loss.__class__.__name__, "config": {k: v for k, v in loss.get_config().items() if k not in ("name", "fn")},
                           "p": p.tolist(), "y": y.tolist(), "w": None if w is None else w.tolist(), "loss": float(value)}


pb = rng.uniform(0.05, 0.95, (6, 2)).astype("float32")
yb = (rng.uniform(size=(6, 2)) > 0.5).astype("float32")
zb = rng.normal(size=(6, 2)).astype("float32") * 2
wb = rng.uniform(0.0, 2.0, (6,)).astype("float32")
L = keras.losses
loss_case("bce_smoothing", L.BinaryCrossentropy(label_smoothing=0.2), pb, yb)
loss_case("bce_logits", L.BinaryCrossentropy(from_logits=True), zb, yb)
loss_case("bce_logits_smoothing", L.BinaryCrossentropy(from_logits=True, label_smoothing=0.3), zb, yb)
loss_case("bce_sum", L.BinaryCrossentropy(reduction="sum"), pb, yb, wb)
loss_case("bce_mean_with_sample_weight", L.BinaryCrossentropy(label_smoothing=0.1, reduction="mean_with_sample_weight"), pb, yb, wb)
loss_case("bce_axis0", L.BinaryCrossentropy(axis=0), pb, yb)
logits3 = rng.normal(size=(6, 3)).astype("float32")
probs3 = (np.exp(logits3) / np.exp(logits3).sum(1, keepdims=True)).astype("float32")
ids3 = rng.integers(0, 3, size=(6,))
onehot3 = np.eye(3, dtype="float32")[ids3]
loss_case("cce_smoothing", L.CategoricalCrossentropy(label_smoothing=0.1), probs3, onehot3)
loss_case("cce_logits", L.CategoricalCrossentropy(from_logits=True), logits3, onehot3)
loss_case("cce_logits_smoothing_sum", L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.25, reduction="sum"), logits3, onehot3, wb)
loss_case("scce_logits", L.SparseCategoricalCrossentropy(from_logits=True), logits3, ids3.astype("float32").reshape(6, 1))
loss_case("scce_ignore_class", L.SparseCategoricalCrossentropy(ignore_class=1), probs3, ids3.astype("float32").reshape(6, 1))
loss_case("scce_sum", L.SparseCategoricalCrossentropy(reduction="sum"), probs3, ids3.astype("float32").reshape(6, 1), wb)
loss_case("mse_sum", L.MeanSquaredError(reduction="sum"), pb, yb, wb)
loss_case("mae_mean_with_sample_weight", L.MeanAbsoluteError(reduction="mean_with_sample_weight"), pb, yb, wb)

# AUC with its arguments: evaluate in batches of 4 (the confusion counts add up across batches).
out["auc"] = {}
pa = rng.uniform(0.0, 1.0, (10, 3)).astype("float32")
ya = (rng.uniform(size=(10, 3)) > 0.5).astype("float32")
ya[:, 0] = (pa[:, 0] + rng.normal(scale=0.3, size=10) > 0.5)
wa = rng.uniform(0.0, 2.0, (10,)).astype("float32")
za = rng.normal(size=(10, 3)).astype("float32") * 2
M = keras.metrics
aucs = {
    "roc": (M.AUC(), pa, None), "pr": (M.AUC(curve="PR"), pa, None), "pr_weighted": (M.AUC(curve="PR"), pa, wa),
    "roc_minoring": (M.AUC(summation_method="minoring"), pa, None), "roc_majoring": (M.AUC(summation_method="majoring"), pa, wa),
    "pr_minoring": (M.AUC(curve="PR", summation_method="minoring"), pa, None), "pr_majoring": (M.AUC(curve="PR", summation_method="majoring"), pa, None),
    "roc_thresholds_20": (M.AUC(num_thresholds=20), pa, None), "pr_thresholds_list": (M.AUC(curve="PR", thresholds=[0.7, 0.2, 0.5, 0.33]), pa, wa),
    "roc_thresholds_list": (M.AUC(thresholds=[0.1, 0.4, 0.45, 0.9]), pa, None),
    "multi_label": (M.AUC(multi_label=True), pa, None), "multi_label_pr": (M.AUC(multi_label=True, curve="PR"), pa, wa),
    "multi_label_weights": (M.AUC(multi_label=True, num_labels=3, label_weights=[0.2, 1.0, 0.5]), pa, None),
    "label_weights": (M.AUC(label_weights=[0.2, 1.0, 0.5]), pa, wa),
    "from_logits": (M.AUC(from_logits=True), za, None), "pr_from_logits_multi": (M.AUC(from_logits=True, curve="PR", multi_label=True), za, None),
    "prgain": (M.AUC(curve="PRGAIN"), pa, None),
}
for name, (metric, p, w) in aucs.items():
    model = identity(3)
    # Sample weights reach only weighted_metrics, as in Keras.
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metric] if w is None else None, weighted_metrics=None if w is None else [metric])
    result = model.evaluate(p, ya, batch_size=4, sample_weight=w, verbose=0, return_dict=True)
    config = {k: (np.asarray(v).tolist() if k == "label_weights" and v is not None else v) for k, v in metric.get_config().items() if k not in ("name", "dtype")}
    out["auc"][name] = {"config": config, "p": p.tolist(), "y": ya.tolist(), "w": None if w is None else w.tolist(),
                        "auc": float([v for k, v in result.items() if k != "loss"][0])}

# Precision and recall with a threshold.
out["confusion"] = {}
for name, metric in {"precision_07": M.Precision(thresholds=0.7), "recall_03": M.Recall(thresholds=0.3),
                     "precision_class_1": M.Precision(class_id=1), "recall_class_2": M.Recall(class_id=2)}.items():
    model = identity(3)
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metric])
    result = model.evaluate(pa, ya, batch_size=4, verbose=0, return_dict=True)
    out["confusion"][name] = {"class_name": metric.__class__.__name__, "config": {k: v for k, v in metric.get_config().items() if k not in ("name", "dtype")},
                              "value": float([v for k, v in result.items() if k != "loss"][0])}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "numerics.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
print({k: v["auc"] for k, v in out["auc"].items()})
print({k: v["loss"] for k, v in out["losses"].items()})
print({k: v["value"] for k, v in out["confusion"].items()})
