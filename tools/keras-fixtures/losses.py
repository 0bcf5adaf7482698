"""Keras 3.16 reference values for issue 25's losses: each loss with each argument set called on fixed arrays under
every reduction, without weights, with (batch,) and (batch, 1) sample weights (and per-step weights on a rank-3
case); its get_config; the function names keras.losses.get accepts; three SGD train_on_batch steps of a Dense model
compiled with a few of them. Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/losses.json."""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras

L = keras.losses
rng = np.random.default_rng(25)
f32 = lambda a: np.asarray(a, dtype="float32")
reg_y = f32(rng.normal(size=(4, 3)))
reg_p = f32(rng.normal(size=(4, 3)))
pos_y = f32(rng.uniform(0.05, 2.0, size=(4, 3)))
pos_p = f32(rng.uniform(0.05, 2.0, size=(4, 3)))
prob_p = f32(rng.dirichlet([1, 1, 1], size=4))
prob_y = f32(rng.dirichlet([1, 1, 1], size=4))
onehot = f32(np.eye(3)[[0, 2, 1, 2]])
binary = f32(rng.integers(0, 2, size=(4, 3)))
signs = f32(2 * rng.integers(0, 2, size=(4, 3)) - 1)
unit_p = f32(rng.uniform(0.02, 0.98, size=(4, 3)))
w = f32([0.5, 1.0, 2.0, 0.0])
seq_y = f32(rng.normal(size=(4, 2, 3)))
seq_p = f32(rng.normal(size=(4, 2, 3)))
seq_w = f32(rng.uniform(0, 2, size=(4, 2)))

# name: (class, kwargs, y, p)
CASES = {
    "Huber": (L.Huber, {}, reg_y, reg_p),
    "Huber_delta": (L.Huber, {"delta": 0.4}, reg_y, reg_p),
    "LogCosh": (L.LogCosh, {}, reg_y, reg_p),
    "KLDivergence": (L.KLDivergence, {}, prob_y, prob_p),
    "KLDivergence_zeros": (L.KLDivergence, {}, onehot, prob_p),
    "Poisson": (L.Poisson, {}, pos_y, pos_p),
    "CosineSimilarity": (L.CosineSimilarity, {}, reg_y, reg_p),
    "CosineSimilarity_axis0": (L.CosineSimilarity, {"axis": 0}, reg_y, reg_p),
    "Hinge_binary": (L.Hinge, {}, binary, reg_p),
    "Hinge_signs": (L.Hinge, {}, signs, reg_p),
    "SquaredHinge_binary": (L.SquaredHinge, {}, binary, reg_p),
    "SquaredHinge_signs": (L.SquaredHinge, {}, signs, reg_p),
    "CategoricalHinge": (L.CategoricalHinge, {}, onehot, reg_p),
    "MeanAbsolutePercentageError": (L.MeanAbsolutePercentageError, {}, reg_y, reg_p),
    "MeanSquaredLogarithmicError": (L.MeanSquaredLogarithmicError, {}, pos_y, reg_p),
    "BinaryFocalCrossentropy": (L.BinaryFocalCrossentropy, {}, binary, unit_p),
    "BinaryFocalCrossentropy_balanced": (L.BinaryFocalCrossentropy, {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}, binary, unit_p),
    "BinaryFocalCrossentropy_logits_smoothing": (L.BinaryFocalCrossentropy, {"from_logits": True, "label_smoothing": 0.2, "gamma": 3.0}, binary, reg_p),
    "BinaryFocalCrossentropy_axis0": (L.BinaryFocalCrossentropy, {"axis": 0}, binary, unit_p),
    "CategoricalFocalCrossentropy": (L.CategoricalFocalCrossentropy, {}, onehot, prob_p),
    "CategoricalFocalCrossentropy_args": (L.CategoricalFocalCrossentropy, {"alpha": 0.6, "gamma": 1.0, "label_smoothing": 0.1}, onehot, prob_p),
    "CategoricalFocalCrossentropy_logits": (L.CategoricalFocalCrossentropy, {"from_logits": True}, onehot, reg_p),
    "CategoricalFocalCrossentropy_axis0": (L.CategoricalFocalCrossentropy, {"axis": 0}, onehot, prob_p),
    "Huber_rank3": (L.Huber, {"delta": 0.7}, seq_y, seq_p),
    "LogCosh_rank3": (L.LogCosh, {}, seq_y, seq_p),
}


def f64(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype="float64").tolist()


out = {"values": {}, "names": {}, "training": {}}
for name, (cls, args, y, p) in CASES.items():
    case = {"class_name": cls.__name__, "args": args, "y": y.tolist(), "p": p.tolist(), "values": {}}
    case["config"] = cls(**args).get_config()
    weights = {"batch": w, "batch1": w.reshape(4, 1)}
    if y.ndim == 3:
        weights["steps"] = seq_w
    case["weights"] = {k: v.tolist() for k, v in weights.items()}
    for reduction in ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]:
        loss = cls(reduction=reduction, **args)
        values = {"plain": f64(loss(y, p))}
        for k, v in weights.items():
            try:
                values[k] = f64(loss(y, p, sample_weight=v))
            except Exception as e:  # Keras cannot broadcast (axis 0): recorded so the test expects a refusal
                values[k] = "error: " + type(e).__name__
        case["values"][reduction] = values
    out["values"][name] = case

for fname, (y, p) in {"huber": (reg_y, reg_p), "log_cosh": (reg_y, reg_p), "kl_divergence": (prob_y, prob_p), "kld": (prob_y, prob_p),
                      "KLD": (prob_y, prob_p), "poisson": (pos_y, pos_p), "cosine_similarity": (reg_y, reg_p), "hinge": (binary, reg_p),
                      "squared_hinge": (signs, reg_p), "categorical_hinge": (onehot, reg_p), "mape": (reg_y, reg_p), "MAPE": (reg_y, reg_p),
                      "mean_absolute_percentage_error": (reg_y, reg_p), "msle": (pos_y, reg_p), "MSLE": (pos_y, reg_p),
                      "mean_squared_logarithmic_error": (pos_y, reg_p), "binary_focal_crossentropy": (binary, unit_p),
                      "categorical_focal_crossentropy": (onehot, prob_p), "bce": (binary, unit_p), "BCE": (binary, unit_p),
                      "MSE": (reg_y, reg_p), "MAE": (reg_y, reg_p), "Huber": (reg_y, reg_p), "KLDivergence": (prob_y, prob_p)}.items():
    fn = L.get(fname)
    out["names"][fname] = {"y": y.tolist(), "p": p.tolist(), "value": float(np.mean(f64(fn(y, p))))}

x = f32(rng.normal(size=(6, 4)))
kernel = f32(rng.normal(size=(4, 3)) * 0.5)
TRAIN = {
    "huber": ("huber", None, reg_y),
    "Huber_delta": ({"class_name": "Huber", "config": {"delta": 0.3}}, None, reg_y),
    "log_cosh": ("log_cosh", None, reg_y),
    "kld_softmax": ("kld", "softmax", prob_y),
    "poisson_softplus": ("poisson", "softplus", pos_y),
    "cosine_similarity": ("cosine_similarity", None, reg_y),
    "hinge": ("hinge", None, binary),
    "categorical_hinge": ("categorical_hinge", None, onehot),
    "msle": ("msle", None, pos_y),
    "BinaryFocal_sigmoid": ({"class_name": "BinaryFocalCrossentropy", "config": {"apply_class_balancing": True, "gamma": 1.5}}, "sigmoid", binary),
    "BinaryFocal_logits": ({"class_name": "BinaryFocalCrossentropy", "config": {"from_logits": True, "label_smoothing": 0.1}}, None, binary),
    "CategoricalFocal_softmax": ({"class_name": "CategoricalFocalCrossentropy", "config": {"alpha": 0.5}}, "softmax", onehot),
}
for name, (loss, activation, target) in TRAIN.items():
    yt = np.concatenate([target, target[:2]])
    keras.utils.clear_session()
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(3, activation=activation, use_bias=False)(inp))
    model.layers[1].set_weights([kernel])
    keras_loss = L.deserialize(loss) if isinstance(loss, dict) else loss
    model.compile(keras.optimizers.SGD(0.1), keras_loss)
    losses = [float(model.train_on_batch(x, yt)) for _ in range(3)]
    out["training"][name] = {"loss": loss, "activation": activation, "x": x.tolist(), "y": yt.tolist(), "kernel": kernel.tolist(),
                             "losses": losses, "kernel_after": np.asarray(model.layers[1].get_weights()[0], dtype="float64").tolist()}

path = "test/CnnLstm.Functional.Tests/Training/KerasFixtures/losses.json"
with open(path, "w") as f:
    json.dump({"keras": keras.__version__, **out}, f, indent=1)
print("wrote", path)
