"""Keras 3.16 (torch backend) optimizer base options (issue 25): clipnorm, clipvalue, global_clipnorm, weight_decay
(with exclude_from_weight_decay), use_ema (+ ema_momentum, ema_overwrite_frequency, finalize at the end of fit),
gradient_accumulation_steps and loss_scale_factor, on Adam and SGD. A Dense(3, tanh) > Dense(2) model from fixed
weights takes four train_on_batch steps (weights after each), then the same model is fitted two epochs of two batches
(final weights, after finalize_variable_values); the optimizer variables' paths and values after the steps, and the
configs. An Embedding(6, 3) > GlobalAveragePooling1D > Dense(1) model takes three steps with clipnorm and
global_clipnorm. Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/optimizer_options.json.

Run: source /work/shared/tools/real-keras/env.sh /work/real-keras && /usr/bin/python3 tools/keras-fixtures/optimizer_options.py
"""
import json
import os

import numpy as np
import keras
from keras import layers

rng = np.random.default_rng(25)
x = rng.normal(size=(8, 4)).astype("float32")
y = rng.normal(size=(8, 2)).astype("float32")
w0 = [rng.normal(size=(4, 3)).astype("float32") * 0.8, rng.normal(size=(3,)).astype("float32") * 0.1,
      rng.normal(size=(3, 2)).astype("float32") * 0.8, rng.normal(size=(2,)).astype("float32") * 0.1]
O = keras.optimizers

options = {
    "clipnorm": {"clipnorm": 0.3},
    "clipvalue": {"clipvalue": 0.05},
    "global_clipnorm": {"global_clipnorm": 0.4},
    "weight_decay": {"weight_decay": 0.5},
    "weight_decay_exclude_bias": {"weight_decay": 0.5, "exclude": ["bias"]},
    "ema": {"use_ema": True, "ema_momentum": 0.8},
    "ema_overwrite": {"use_ema": True, "ema_momentum": 0.7, "ema_overwrite_frequency": 2},
    "accumulation": {"gradient_accumulation_steps": 2},
    "accumulation_clip_decay": {"gradient_accumulation_steps": 3, "global_clipnorm": 0.4, "weight_decay": 0.2},
    "accumulation_ema": {"gradient_accumulation_steps": 2, "use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 1},
    "loss_scale": {"loss_scale_factor": 64.0},
    "plain": {},
}
bases = {"Adam": lambda **k: O.Adam(learning_rate=0.05, **k), "SGD": lambda **k: O.SGD(learning_rate=0.1, momentum=0.5, **k),
         # Merged with the optimizers and schedules of issue 25: AdamW's weight_decay is the base option; Nadam's
         # u_product comes after the base variables; a schedule reads Keras' _iterations (every call).
         "AdamW": lambda **k: O.AdamW(learning_rate=0.05, **k), "Nadam": lambda **k: O.Nadam(learning_rate=0.05, **k),
         "Adam_schedule": lambda **k: O.Adam(learning_rate=O.schedules.ExponentialDecay(0.05, 1, 0.5), **k)}
# Which options each base takes (the first two: every one but "plain").
only = {"AdamW": ["plain", "weight_decay_exclude_bias", "accumulation", "ema"],
        "Nadam": ["plain", "ema", "accumulation_ema", "clipnorm"],
        "Adam_schedule": ["plain", "accumulation", "accumulation_ema", "weight_decay"]}


def build():
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(2)(layers.Dense(3, activation="tanh")(inp)))
    model.set_weights(w0)
    return model


def make(cls, opts):
    opts = dict(opts)
    exclude = opts.pop("exclude", None)
    optimizer = bases[cls](**opts)
    if exclude:
        optimizer.exclude_from_weight_decay(var_names=exclude)
    return optimizer


def as_list(ws):
    return [np.asarray(w, dtype="float64").tolist() for w in ws]


out = {"x": x.tolist(), "y": y.tolist(), "weights": as_list(w0), "cases": {}}
for cls in bases:
    for name, opts in options.items():
        if name not in only.get(cls, [n for n in options if n != "plain"]):
            continue
        optimizer = make(cls, opts)
        model = build()
        model.compile(optimizer=optimizer, loss="mse")
        steps = []
        for _ in range(4):
            model.train_on_batch(x, y)
            steps.append(as_list(model.get_weights()))
        variables = [{"path": v.path, "value": np.asarray(v.numpy(), dtype="float64").tolist()} for v in optimizer.variables]
        iterations = int(optimizer.iterations.numpy())
        config = json.loads(json.dumps(optimizer.get_config()))

        optimizer = make(cls, opts)
        fitted = build()
        fitted.compile(optimizer=optimizer, loss="mse")
        fitted.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        out["cases"][f"{cls}_{name}"] = {
            "class_name": optimizer.__class__.__name__, "options": {k: v for k, v in opts.items()}, "config": config,
            "steps": steps, "iterations_after_steps": iterations, "variables": variables,
            "fit_weights": as_list(fitted.get_weights())}

# Embedding: the gradient of the table touches some rows only.
ids = np.array([[0, 1, 1, 4], [2, 4, 4, 4], [5, 0, 3, 3]], dtype="int32")
ey = np.array([[1.0], [-2.0], [0.5]], dtype="float32")
e0 = [rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(3, 1)).astype("float32"), np.zeros((1,), "float32")]
out["embedding"] = {"ids": ids.tolist(), "y": ey.tolist(), "weights": as_list(e0), "cases": {}}
for cls in ["Adam", "SGD"]:
    for name, opts in {"clipnorm": {"clipnorm": 0.2}, "global_clipnorm": {"global_clipnorm": 0.3}, "weight_decay": {"weight_decay": 0.3}}.items():
        optimizer = make(cls, opts)
        inp = keras.Input((4,), dtype="int32")
        model = keras.Model(inp, layers.Dense(1)(layers.GlobalAveragePooling1D()(layers.Embedding(6, 3)(inp))))
        model.set_weights(e0)
        model.compile(optimizer=optimizer, loss="mse")
        steps = []
        for _ in range(3):
            model.train_on_batch(ids, ey)
            steps.append(as_list(model.get_weights()))
        out["embedding"]["cases"][f"{cls}_{name}"] = {"class_name": cls, "options": opts, "config": json.loads(json.dumps(optimizer.get_config())), "steps": steps}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "optimizer_options.json")
with open(path, "w") as f:
    json.dump(out, f)
print(keras.__version__, len(out["cases"]), "cases")
