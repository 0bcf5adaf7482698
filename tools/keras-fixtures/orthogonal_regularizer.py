"""Keras 3.16 reference values for OrthogonalRegularizer (issue 25): direct calls in both modes, keras.regularizers.get
on its names, the serialized form, Keras' refusals (mode, rank, factor), and a model with it on two Dense kernels
(rows and columns) and on both layers' activity (columns mode on one, rows mode on the other: there the rows are the
batch's samples), trained with SGD on 8 samples in batches of 4 (Keras divides the activity penalty by the batch size).
The logged loss, evaluate and the final weights. Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/orthogonal_regularizer.json.
Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/orthogonal_regularizer.py
"""
import json
import os

import numpy as np
import keras
from keras import regularizers

R = regularizers.OrthogonalRegularizer
rng = np.random.default_rng(2525)
out = {"keras": keras.__version__}
x34 = rng.normal(size=(3, 4)).astype("float32")
x52 = rng.normal(size=(5, 2)).astype("float32")
x34[1] = 0.0  # a zero row: Keras' normalize clamps the squared norm at 1e-14
out["calls"] = {
    "x34": x34.tolist(), "x52": x52.tolist(),
    "rows(0.1)_x34": float(R(0.1, "rows")(x34)),
    "columns(0.1)_x34": float(R(0.1, "columns")(x34)),
    "rows(0.01)_x52": float(R()(x52)),
    "columns(2.5)_x52": float(R(2.5, "columns")(x52)),
}
out["get"] = {name: regularizers.serialize(regularizers.get(name)) for name in ["orthogonal_regularizer", "OrthogonalRegularizer"]}
out["serialize"] = regularizers.serialize(R(0.3, "columns"))
refused = {}
try:
    R(0.01, "diagonal")
except ValueError as e:
    refused["mode"] = str(e)
try:
    R(0.01)(np.ones((2, 2, 2), "float32"))
except ValueError as e:
    refused["rank3"] = str(e)
try:
    R(-1.0)
except ValueError as e:
    refused["negative"] = str(e)
out["refused"] = refused


def build():
    keras.utils.set_random_seed(7)
    inp = keras.Input((5,))
    h = keras.layers.Dense(4, activation="tanh", kernel_regularizer=R(0.2, "rows"), bias_regularizer=regularizers.L2(0.1),
                           activity_regularizer=R(0.05, "columns"), name="dense")(inp)
    h = keras.layers.Dense(3, kernel_regularizer=R(0.1, "columns"), activity_regularizer=R(0.3, "rows"), name="dense_1")(h)
    return keras.Model(inp, h)


x = rng.normal(size=(8, 5)).astype("float32")
y = rng.normal(size=(8, 3)).astype("float32")
model = build()
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
out["x"] = x.tolist()
out["y"] = y.tolist()
out["initial_weights"] = [w.tolist() for w in model.get_weights()]
model(x[:4])
out["losses_after_call"] = [float(v) for v in model.losses]
history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
out["history"] = [float(v) for v in history.history["loss"]]
out["evaluate"] = float(model.evaluate(x, y, batch_size=4, verbose=0))
out["weights"] = [w.tolist() for w in model.get_weights()]
out["configs"] = {layer.name: layer.get_config() for layer in model.layers[1:]}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "orthogonal_regularizer.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
