"""Keras 3.16 reference values for weight constraints (issue 25: MaxNorm, MinMaxNorm, NonNeg, UnitNorm).

Direct calls of each constraint on an array (several axes), keras.constraints.get on the names and serialize, and one
Embedding -> Conv1D -> LSTM -> Dense model with a constraint on every kind of argument, trained a few SGD steps from
its initial weights (Keras applies each constraint after every optimizer update): initial weights, loss per epoch,
final weights and the layer configs Keras writes.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/constraints.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/constraints.py
"""
import json
import os

import numpy as np
import keras
from keras import constraints

rng = np.random.default_rng(25)
out = {"keras": keras.__version__}

w = rng.uniform(-1.5, 1.5, (3, 2, 4)).astype("float32")
w[0, 0, 0] = 0.0
calls = {"w": w.tolist()}
cases = {
    "MaxNorm()": constraints.MaxNorm(),
    "MaxNorm(0.7,axis=1)": constraints.MaxNorm(0.7, axis=1),
    "MaxNorm(1.0,axis=[0,1])": constraints.MaxNorm(1.0, axis=[0, 1]),
    "MinMaxNorm()": constraints.MinMaxNorm(),
    "MinMaxNorm(1.2,2.0,0.5,axis=-1)": constraints.MinMaxNorm(1.2, 2.0, 0.5, axis=-1),
    "NonNeg()": constraints.NonNeg(),
    "UnitNorm()": constraints.UnitNorm(),
    "UnitNorm(axis=[0,2])": constraints.UnitNorm(axis=[0, 2]),
}
for name, c in cases.items():
    calls[name] = np.asarray(c(w)).tolist()
out["calls"] = calls
out["get"] = {name: constraints.serialize(constraints.get(name)) for name in
              ["max_norm", "MaxNorm", "min_max_norm", "MinMaxNorm", "non_neg", "NonNeg", "unit_norm", "UnitNorm"]}
refused = {}
for name in ["maxnorm", "nonneg", "unitnorm", "l2"]:
    try:
        constraints.get(name)
        refused[name] = None
    except ValueError as e:
        refused[name] = str(e)
out["get_refused"] = refused
out["serialize"] = {name: constraints.serialize(c) for name, c in cases.items()}


def build():
    keras.utils.set_random_seed(7)
    inp = keras.Input((6,), dtype="int32")
    h = keras.layers.Embedding(10, 4, embeddings_constraint=constraints.UnitNorm(axis=1), name="embedding")(inp)
    h = keras.layers.Conv1D(3, 2, kernel_constraint=constraints.MaxNorm(0.4, axis=[0, 1]), bias_constraint=constraints.NonNeg(),
                            name="conv1d")(h)
    h = keras.layers.LSTM(4, kernel_constraint=constraints.UnitNorm(), recurrent_constraint=constraints.MinMaxNorm(0.3, 0.6, rate=0.5),
                          bias_constraint=constraints.MaxNorm(0.5), name="lstm")(h)
    h = keras.layers.Dense(3, activation="tanh", kernel_constraint=constraints.MinMaxNorm(0.5, 0.9, axis=0),
                           bias_constraint=constraints.NonNeg(), name="dense")(h)
    return keras.Model(inp, keras.layers.Dense(2, kernel_constraint=constraints.MaxNorm(0.8), name="out")(h))


ids = rng.integers(0, 10, (7, 6)).astype("int32")
y = rng.uniform(-1.0, 1.0, (7, 2)).astype("float32")
out["x"] = ids.tolist()
out["y"] = y.tolist()
model = build()
model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
out["initial_weights"] = [v.tolist() for v in model.get_weights()]
history = model.fit(ids, y, batch_size=3, epochs=2, shuffle=False, verbose=0)
out["history"] = {k: [float(v) for v in vs] for k, vs in history.history.items()}
out["weights"] = [v.tolist() for v in model.get_weights()]
out["configs"] = {layer.name: layer.get_config() for layer in model.layers}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "constraints.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
