"""Keras 3.16 reference values for issue 25's learning-rate schedules (keras.optimizers.schedules): each schedule's
get_config, serialized form and values at steps 0..N; Adam with a schedule on one variable (weights and
optimizer.learning_rate after each apply_gradients); a small Dense model compiled with SGD(ExponentialDecay) trained
two epochs, saved as .keras, with its predictions, optimizer config and optimizer variable count; and the errors
Keras raises when the learning-rate callbacks set the rate of an optimizer built on a schedule.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/schedules.{json,keras}. Run from the repository root:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/schedules.py
"""
import json
import os

import numpy as np
import keras
from keras import layers, ops
from keras.optimizers import schedules as S

OUT = "test/CnnLstm.Functional.Tests/Training/KerasFixtures"
os.makedirs(OUT, exist_ok=True)
out = {"keras": keras.__version__, "backend": keras.backend.backend()}


def f64(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64").tolist()


cases = {
    "exponential": S.ExponentialDecay(0.1, 3, 0.5),
    "exponential_staircase": S.ExponentialDecay(0.1, 3, 0.96, staircase=True),
    "piecewise": S.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
    "piecewise_one": S.PiecewiseConstantDecay([3], [0.3, 0.03]),
    "polynomial": S.PolynomialDecay(0.1, 4, end_learning_rate=0.01, power=0.5),
    "polynomial_default": S.PolynomialDecay(0.1, 5),
    "polynomial_cycle": S.PolynomialDecay(0.1, 3, end_learning_rate=0.001, power=2.0, cycle=True),
    "inverse_time": S.InverseTimeDecay(0.1, 2, 0.5),
    "inverse_time_staircase": S.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
    "cosine": S.CosineDecay(0.1, 6),
    "cosine_alpha": S.CosineDecay(0.1, 6, alpha=0.1),
    "cosine_warmup": S.CosineDecay(0.0, 5, alpha=0.2, warmup_target=0.2, warmup_steps=3),
    "cosine_warmup_from": S.CosineDecay(0.05, 4, warmup_target=0.1, warmup_steps=2),
    "cosine_restarts": S.CosineDecayRestarts(0.1, 3),
    "cosine_restarts_mul": S.CosineDecayRestarts(0.1, 2, t_mul=1.0, m_mul=0.5, alpha=0.1),
    "cosine_restarts_geo": S.CosineDecayRestarts(0.1, 2, t_mul=1.5, m_mul=0.8, alpha=0.05),
}
steps = list(range(0, 21))
out["steps"] = steps
out["schedules"] = {}
for key, s in cases.items():
    out["schedules"][key] = {
        "config": s.get_config(),
        "serialized": S.serialize(s),
        "values": [float(np.float32(ops.convert_to_numpy(s(step)))) for step in steps],
    }

# Adam with a schedule on one variable, fixed gradients.
rng = np.random.default_rng(25)
w0 = rng.normal(size=(3,)).astype("float32")
grads = rng.normal(size=(5, 3)).astype("float32")
v = keras.Variable(w0)
adam = keras.optimizers.Adam(learning_rate=S.ExponentialDecay(0.1, 2, 0.5, staircase=True))
out["adam"] = {"initial": f64(w0), "gradients": f64(grads), "learning_rate_before": float(ops.convert_to_numpy(adam.learning_rate)),
               "weights": [], "learning_rate": [], "config": adam.get_config(),
               "variables": [vv.path for vv in adam.variables]}
for g in grads:
    adam.apply_gradients([(ops.convert_to_tensor(g), v)])
    out["adam"]["weights"].append(f64(v))
    out["adam"]["learning_rate"].append(float(ops.convert_to_numpy(adam.learning_rate)))
out["adam"]["variables_built"] = [vv.path for vv in adam.variables]

# A model trained with SGD(ExponentialDecay) + momentum, saved.
x = rng.normal(size=(12, 4)).astype("float32")
y = rng.normal(size=(12, 2)).astype("float32")
keras.utils.set_random_seed(25)
inp = keras.Input((4,))
model = keras.Model(inp, layers.Dense(2, name="dense")(inp), name="scheduled")
model.compile(optimizer=keras.optimizers.SGD(learning_rate=S.PolynomialDecay(0.1, 5, end_learning_rate=0.01), momentum=0.5), loss="mse")
kernel0 = [f64(w) for w in model.get_weights()]
history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
out["model"] = {
    "x": f64(x), "y": f64(y), "initial_weights": kernel0,
    "weights": [f64(w) for w in model.get_weights()],
    "loss": history.history["loss"],
    "history_keys": sorted(history.history.keys()),
    "learning_rate": float(ops.convert_to_numpy(model.optimizer.learning_rate)),
    "iterations": int(ops.convert_to_numpy(model.optimizer.iterations)),
    "optimizer_config": model.optimizer.get_config(),
    "optimizer_variables": [vv.path for vv in model.optimizer.variables],
    "predictions": f64(model.predict(x, verbose=0)),
}
model.save(os.path.join(OUT, "schedules.keras"))
loaded = keras.saving.load_model(os.path.join(OUT, "schedules.keras"))
out["model"]["loaded_learning_rate"] = float(ops.convert_to_numpy(loaded.optimizer.learning_rate))
out["model"]["compile_config"] = loaded.get_compile_config()


# Callbacks on a schedule-driven optimizer.
def errors(callback):
    keras.utils.set_random_seed(25)
    m = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=S.ExponentialDecay(0.1, 3, 0.5)), loss="mse")
    try:
        h = m.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0, callbacks=[callback])
        return {"history": h.history}
    except Exception as e:
        return {"error": type(e).__name__, "message": str(e)}


out["callbacks"] = {
    "scheduler": errors(keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)),
    "plateau": errors(keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=10.0)),
    "plateau_never": errors(keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=100)),
}
try:
    keras.optimizers.SGD(learning_rate=S.ExponentialDecay(0.1, 3, 0.5)).learning_rate = 0.5
except Exception as e:
    out["setter_error"] = {"error": type(e).__name__, "message": str(e)}
for bad in ["ExponentialDecay(0.1, 0, 0.5)", "PolynomialDecay(0.1, -1)", "CosineDecay(0.1, 0)",
            "CosineDecayRestarts(0.1, 0)", "PiecewiseConstantDecay([1, 2], [0.1, 0.2])", "InverseTimeDecay(0.1, 0, 0.5)"]:
    try:
        eval("S." + bad)
        out.setdefault("bad", {})[bad] = None
    except Exception as e:
        out.setdefault("bad", {})[bad] = {"error": type(e).__name__, "message": str(e)}

with open(os.path.join(OUT, "schedules.json"), "w") as f:
    json.dump(out, f, indent=1)
print("wrote", OUT)
