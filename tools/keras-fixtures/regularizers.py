"""Keras 3.16 reference values for weight and activity regularizers (issue 22: L1, L2, L1L2).

Direct calls of each regularizer on an array, keras.regularizers.get on the names and the serialized forms, and one
model with a regularizer on every kind of argument (Embedding embeddings, Conv1D kernel, LSTM kernel/recurrent
kernel/bias and activity, Dense kernel/bias and activity) trained with SGD and with Adam: initial weights, the loss
per epoch (it includes the penalties), evaluate, train_on_batch, the final weights and the layer configs Keras writes.
7 samples in batches of 3 leave a last batch of 1, which the activity penalty's division by the batch size shows.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/regularizers.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/regularizers.py
"""
import json
import os

import numpy as np
import keras
from keras import regularizers

rng = np.random.default_rng(22)
out = {"keras": keras.__version__}

x = rng.uniform(-1.0, 1.0, (2, 3)).astype("float32")
out["calls"] = {
    "x": x.tolist(),
    "L1(0.3)": float(regularizers.L1(0.3)(x)),
    "L2(0.1)": float(regularizers.L2(0.1)(x)),
    "L1L2(0.01,0.02)": float(regularizers.L1L2(0.01, 0.02)(x)),
    "L1L2(0,0.5)": float(regularizers.L1L2(l2=0.5)(x)),
}
out["get"] = {name: regularizers.serialize(regularizers.get(name)) for name in ["l1", "l2", "l1l2", "L1", "L2", "L1L2"]}
refused = {}
for name in ["l1_l2", "orthogonal"]:
    try:
        regularizers.get(name)
    except ValueError as e:
        refused[name] = str(e)
out["get_refused"] = refused
out["serialize"] = {
    "L1(0.01)": regularizers.serialize(regularizers.L1(0.01)),
    "L2(0.01)": regularizers.serialize(regularizers.L2(0.01)),
    "L1L2(0.01,0.02)": regularizers.serialize(regularizers.L1L2(0.01, 0.02)),
}


def build():
    keras.utils.set_random_seed(5)
    inp = keras.Input((6,), dtype="int32")
    h = keras.layers.Embedding(10, 4, embeddings_regularizer=regularizers.L2(0.01), name="embedding")(inp)
    h = keras.layers.Conv1D(3, 2, kernel_regularizer=regularizers.L2(0.02), bias_regularizer=regularizers.L1(0.05), name="conv1d")(h)
    h = keras.layers.LSTM(4, kernel_regularizer=regularizers.L2(0.01), recurrent_regularizer=regularizers.L1(0.01),
                          bias_regularizer=regularizers.L1L2(0.01, 0.01), activity_regularizer=regularizers.L2(0.05), name="lstm")(h)
    h = keras.layers.Dense(3, activation="tanh", kernel_regularizer=regularizers.L1L2(0.01, 0.02),
                           bias_regularizer=regularizers.L2(0.03), activity_regularizer=regularizers.L1(0.02), name="dense")(h)
    return keras.Model(inp, keras.layers.Dense(2, name="out")(h))


ids = rng.integers(0, 10, (7, 6)).astype("int32")
y = rng.uniform(-1.0, 1.0, (7, 2)).astype("float32")
out["x"] = ids.tolist()
out["y"] = y.tolist()
out["cases"] = {}
for name, optimizer in [("sgd", lambda: keras.optimizers.SGD(0.1)), ("adam", lambda: keras.optimizers.Adam(0.01))]:
    model = build()
    model.compile(optimizer=optimizer(), loss="mse")
    initial = [w.tolist() for w in model.get_weights()]
    first = model(ids[:3])
    losses_after_call = [float(v) for v in model.losses]
    history = model.fit(ids, y, batch_size=3, epochs=3, shuffle=False, verbose=0)
    evaluate = model.evaluate(ids, y, batch_size=3, verbose=0, return_dict=True)
    train_on_batch = model.train_on_batch(ids, y, return_dict=True)
    out["cases"][name] = {
        "initial_weights": initial,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "evaluate": {k: float(v) for k, v in evaluate.items()},
        "train_on_batch": {k: float(v) for k, v in train_on_batch.items()},
        "weights": [w.tolist() for w in model.get_weights()],
        "predict": model.predict(ids, verbose=0).tolist(),
    }
    out["configs"] = {layer.name: layer.get_config() for layer in model.layers}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "regularizers.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
