"""Keras 3.16 reference values for the losses' arguments (issue 25): every loss class with each of its arguments
(from_logits, label_smoothing, axis, ignore_class, its own), under every reduction Keras accepts ("sum_over_batch_size",
"sum", "mean", "mean_with_sample_weight", "none" and None), without sample weights and with sample weights of each rank
Keras takes ((batch,), (batch, 1), and on a sequence output (batch, steps), (batch, steps, 1)), and with the output's
mask (Keras' _keras_mask on y_pred) alone and with weights, called eagerly; an error where Keras raises one. Then three
compiled models trained 3 SGD steps (train_on_batch) and evaluated: sparse categorical cross-entropy with ignore_class
on a sequence output, mse with (batch, steps) sample weights on a masked sequence output, and reduction "sum".
Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/loss_arguments.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/loss_arguments.py
"""
import json
import os

import numpy as np
import keras
from keras import ops
from keras.src import backend

L = keras.losses
rng = np.random.default_rng(2526)
f32 = lambda a: np.asarray(a, dtype="float32")

inputs = {}


def add(name, array):
    inputs[name] = np.asarray(array)
    return name


# rank 2: (4, 3); rank 3: (3, 2, 3)
add("reg_y", f32(rng.normal(size=(4, 3))))
add("reg_p", f32(rng.normal(size=(4, 3))))
add("pos_y", f32(rng.uniform(0.05, 2.0, size=(4, 3))))
add("pos_p", f32(rng.uniform(0.05, 2.0, size=(4, 3))))
add("prob_y", f32(rng.dirichlet([1, 1, 1], size=4)))
add("prob_p", f32(rng.dirichlet([1, 1, 1], size=4)))
add("onehot", f32(np.eye(3)[[0, 2, 1, 2]]))
add("binary", f32(rng.integers(0, 2, size=(4, 3))))
add("unit_p", f32(rng.uniform(0.02, 0.98, size=(4, 3))))
add("ids", np.asarray([0, 2, 1, 2], dtype="int64"))
add("ids_col", np.asarray([[0], [2], [1], [2]], dtype="int64"))
add("ids_void", np.asarray([0, -1, 1, 2], dtype="int64"))
add("seq_reg_y", f32(rng.normal(size=(3, 2, 3))))
add("seq_reg_p", f32(rng.normal(size=(3, 2, 3))))
add("seq_pos_y", f32(rng.uniform(0.05, 2.0, size=(3, 2, 3))))
add("seq_pos_p", f32(rng.uniform(0.05, 2.0, size=(3, 2, 3))))
add("seq_prob_p", f32(rng.dirichlet([1, 1, 1], size=(3, 2))))
add("seq_onehot", f32(np.eye(3)[[[0, 2], [1, 2], [1, 0]]]))
add("seq_binary", f32(rng.integers(0, 2, size=(3, 2, 3))))
add("seq_unit_p", f32(rng.uniform(0.02, 0.98, size=(3, 2, 3))))
add("seq_ids", np.asarray([[0, 2], [1, 1], [2, 0]], dtype="int64"))
add("seq_ids_void", np.asarray([[0, 1], [1, 1], [2, 0]], dtype="int64"))
add("seq_ids_ax1", np.asarray([[0, 1, 1], [1, 0, 0], [1, 1, 0]], dtype="int64"))
add("w_b4", f32([0.5, 1.0, 2.0, 0.0]))
add("w_b4x1", f32([[0.5], [1.0], [2.0], [0.0]]))
add("w_b3", f32([0.5, 2.0, 1.5]))
add("w_b3x1", f32([[0.5], [2.0], [1.5]]))
add("w_b3s2", f32([[0.5, 1.0], [2.0, 0.0], [1.5, 0.25]]))
add("w_b3s2x1", f32([[[0.5], [1.0]], [[2.0], [0.0]], [[1.5], [0.25]]]))
add("mask_b3s2", np.asarray([[True, False], [True, True], [False, True]]))

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]
FLAT_WEIGHTS = [None, "w_b4", "w_b4x1"]
SEQ_WEIGHTS = [None, "w_b3", "w_b3x1", "w_b3s2", "w_b3s2x1"]

# (class, args, y, p); rank-3 inputs get the sequence weights and the mask.
SETS = [
    ("MeanSquaredError", {}, "reg_y", "reg_p"),
    ("MeanAbsoluteError", {}, "reg_y", "reg_p"),
    ("MeanAbsolutePercentageError", {}, "reg_y", "reg_p"),
    ("MeanSquaredLogarithmicError", {}, "pos_y", "pos_p"),
    ("Huber", {"delta": 0.5}, "reg_y", "reg_p"),
    ("LogCosh", {}, "reg_y", "reg_p"),
    ("Poisson", {}, "pos_y", "pos_p"),
    ("KLDivergence", {}, "prob_y", "prob_p"),
    ("CosineSimilarity", {}, "reg_y", "reg_p"),
    ("CosineSimilarity", {"axis": 0}, "reg_y", "reg_p"),
    ("Hinge", {}, "binary", "reg_p"),
    ("SquaredHinge", {}, "binary", "reg_p"),
    ("CategoricalHinge", {}, "onehot", "reg_p"),
    ("BinaryCrossentropy", {}, "binary", "unit_p"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "binary", "reg_p"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1, "axis": 0}, "binary", "unit_p"),
    ("CategoricalCrossentropy", {}, "onehot", "prob_p"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.3}, "onehot", "reg_p"),
    ("CategoricalCrossentropy", {"axis": 0, "label_smoothing": 0.1}, "onehot", "prob_p"),
    ("SparseCategoricalCrossentropy", {}, "ids", "prob_p"),
    ("SparseCategoricalCrossentropy", {}, "ids_col", "prob_p"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "ids", "reg_p"),
    ("SparseCategoricalCrossentropy", {"ignore_class": -1}, "ids_void", "prob_p"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2, "from_logits": True}, "ids", "reg_p"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.0, "label_smoothing": 0.1}, "binary", "unit_p"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "axis": 0}, "binary", "reg_p"),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 1.5, "from_logits": True, "label_smoothing": 0.2}, "onehot", "reg_p"),
    ("CategoricalFocalCrossentropy", {"axis": 0}, "onehot", "prob_p"),
    # sequence outputs (batch 3, steps 2, units 3)
    ("MeanSquaredError", {}, "seq_reg_y", "seq_reg_p"),
    ("Huber", {}, "seq_reg_y", "seq_reg_p"),
    ("Poisson", {}, "seq_pos_y", "seq_pos_p"),
    ("CosineSimilarity", {"axis": 1}, "seq_reg_y", "seq_reg_p"),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "seq_binary", "seq_unit_p"),
    ("BinaryCrossentropy", {"axis": 1}, "seq_binary", "seq_unit_p"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "seq_onehot", "seq_prob_p"),
    ("CategoricalCrossentropy", {"axis": 1}, "seq_onehot", "seq_prob_p"),
    ("SparseCategoricalCrossentropy", {}, "seq_ids", "seq_prob_p"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "seq_ids_void", "seq_prob_p"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1, "from_logits": True}, "seq_ids_void", "seq_reg_p"),
    ("SparseCategoricalCrossentropy", {"axis": 1}, "seq_ids_ax1", "seq_unit_p"),
    ("SparseCategoricalCrossentropy", {"axis": 1, "from_logits": True, "ignore_class": 0}, "seq_ids_ax1", "seq_reg_p"),
    ("CategoricalFocalCrossentropy", {"label_smoothing": 0.1}, "seq_onehot", "seq_prob_p"),
    ("BinaryFocalCrossentropy", {"gamma": 3.0}, "seq_binary", "seq_unit_p"),
    ("KLDivergence", {}, "seq_onehot", "seq_prob_p"),
]


def f64(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype="float64").tolist()


cases = []
for cls, args, y, p in SETS:
    seq = inputs[p].ndim == 3
    variants = [(w, None) for w in (SEQ_WEIGHTS if seq else FLAT_WEIGHTS)]
    if seq:
        variants += [(None, "mask_b3s2"), ("w_b3s2", "mask_b3s2"), ("w_b3", "mask_b3s2"), ("w_b3x1", "mask_b3s2")]
    for reduction in REDUCTIONS:
        for weight, mask in variants:
            loss = getattr(L, cls)(reduction=reduction, **args)
            y_pred = ops.convert_to_tensor(inputs[p])
            if mask is not None:
                backend.set_keras_mask(y_pred, ops.convert_to_tensor(inputs[mask]))
            case = {"class_name": cls, "config": {**args, "reduction": reduction}, "y": y, "p": p, "weight": weight, "mask": mask}
            try:
                sw = None if weight is None else inputs[weight]
                case["value"] = f64(loss(inputs[y], y_pred, sample_weight=sw))
            except Exception as e:
                case["error"] = type(e).__name__ + ": " + str(e).splitlines()[0][:160]
            cases.append(case)

# Keras' own refusals of arguments.
refused = {}
for label, make in {
    "reduction_auto": lambda: L.MeanSquaredError(reduction="auto"),
    "reduction_mean_sum": lambda: L.MeanSquaredError(reduction="Sum"),
}.items():
    try:
        make()
        refused[label] = None
    except Exception as e:
        refused[label] = type(e).__name__ + ": " + str(e)

out = {"keras": keras.__version__, "inputs": {k: v.tolist() for k, v in inputs.items()}, "cases": cases, "refused": refused, "models": {}}

# Compiled models: 3 SGD steps then evaluate.
x_seq = f32(rng.normal(size=(4, 3, 2)))
x_seq[1, 2:] = 0.0
x_seq[3, 1:] = 0.0
kernel = f32(rng.normal(size=(2, 3)) * 0.5)
bias = f32([0.1, -0.2, 0.05])
MODELS = {
    "sparse_ignore_class_sequence": ({"class_name": "SparseCategoricalCrossentropy", "config": {"ignore_class": 1}}, "softmax", False,
                                     np.asarray([[0, 1, 2], [2, 1, 1], [0, 0, 1], [1, 2, 0]], dtype="int64"), None),
    "mse_weights_rank2_masked_sequence": ("mse", None, True, f32(rng.normal(size=(4, 3, 3))), f32(rng.uniform(0, 2, size=(4, 3)))),
    "mse_weights_rank2_sequence": ("mse", None, False, f32(rng.normal(size=(4, 3, 3))), f32(rng.uniform(0, 2, size=(4, 3)))),
    "reduction_sum_categorical": ({"class_name": "CategoricalCrossentropy", "config": {"reduction": "sum", "label_smoothing": 0.1}}, "softmax", False,
                                  f32(np.eye(3)[rng.integers(0, 3, size=(4, 3))]), None),
    "reduction_sum_weighted_masked": ({"class_name": "MeanSquaredError", "config": {"reduction": "sum"}}, None, True,
                                      f32(rng.normal(size=(4, 3, 3))), f32(rng.uniform(0, 2, size=(4, 3)))),
}
for name, (loss, activation, masking, target, weights) in MODELS.items():
    keras.utils.clear_session()
    inp = keras.Input((3, 2))
    h = keras.layers.Masking(0.0)(inp) if masking else inp
    model = keras.Model(inp, keras.layers.Dense(3, activation=activation)(h))
    model.layers[-1].set_weights([kernel, bias])
    model.compile(keras.optimizers.SGD(0.05), L.deserialize(loss) if isinstance(loss, dict) else loss)
    losses = [float(model.train_on_batch(x_seq, target, sample_weight=weights)) for _ in range(3)]
    evaluate = float(model.evaluate(x_seq, target, sample_weight=weights, batch_size=4, verbose=0))
    out["models"][name] = {"loss": loss, "activation": activation, "masking": masking, "x": x_seq.tolist(), "y": target.tolist(),
                           "sample_weight": None if weights is None else weights.tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(),
                           "losses": losses, "evaluate": evaluate,
                           "weights_after": [np.asarray(w, dtype="float64").tolist() for w in model.layers[-1].get_weights()]}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "loss_arguments.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes,", len(cases), "cases,", sum("error" in c for c in cases), "errors")
