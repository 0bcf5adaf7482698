"""Keras 3.16 reference values for training models without trainable weights (issue 20, item 3).

Keras' torch train_step runs the forward pass and the metrics, and warns "The model does not have any trainable
weights." instead of calling backward and the optimizer, whose iterations stay at 0. Covers weightless layers, a
BatchNormalization whose only weights are its moving statistics, a frozen model and a partly frozen one.

Writes test/CnnLstm.Functional.Tests/Models/KerasFixtures/no-trainable-weights.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/no_trainable_weights.py
"""
import json
import os
import warnings

import numpy as np
import keras

rng = np.random.default_rng(20)
out = {"keras": keras.__version__, "cases": {}}


def data(*shape):
    return rng.uniform(-1.0, 1.0, shape).astype("float32")


def case(name, model, x, y, batch=2, epochs=2):
    xs = x if isinstance(x, list) else [x]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    initial = [w.tolist() for w in model.get_weights()]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
    fit_iterations = int(model.optimizer.iterations)
    evaluate = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    train_on_batch = model.train_on_batch(x, y, return_dict=True)
    out["cases"][name] = {
        "x": [a.tolist() for a in xs], "y": y.tolist(), "batch": batch, "epochs": epochs,
        "initial_weights": initial,
        "warned": any("does not have any trainable weights" in str(w.message) for w in caught),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "fit_iterations": fit_iterations,
        "evaluate": {k: float(v) for k, v in evaluate.items()},
        "train_on_batch": {k: float(v) for k, v in train_on_batch.items()},
        "iterations": int(model.optimizer.iterations),
        "weights": [w.tolist() for w in model.get_weights()],
    }


def one(layer, shape):
    inp = keras.Input(shape)
    return keras.Model(inp, layer(inp))


seq = data(4, 2, 2)
seq[1] = 0.0  # a fully masked sample
case("masking", one(keras.layers.Masking(0.0), (2, 2)), seq, data(4, 2, 2))
case("max_pooling1d", one(keras.layers.MaxPooling1D(2), (4, 2)), data(4, 4, 2), data(4, 2, 2))
case("global_average_pooling1d", one(keras.layers.GlobalAveragePooling1D(), (3, 2)), data(4, 3, 2), data(4, 2))
inp = keras.Input((2, 3))
case("reshape_flatten", keras.Model(inp, keras.layers.Flatten()(keras.layers.Reshape((3, 2))(inp))), data(4, 2, 3), data(4, 6))
a, b = keras.Input((3,)), keras.Input((3,))
case("add", keras.Model([a, b], keras.layers.Add()([a, b])), [data(4, 3), data(4, 3)], data(4, 3))
case("layer_normalization", one(keras.layers.LayerNormalization(center=False, scale=False), (4,)), data(4, 4), data(4, 4))
case("batch_normalization", one(keras.layers.BatchNormalization(center=False, scale=False), (3,)), data(4, 3), data(4, 3))
frozen = keras.layers.Dense(2)
frozen.trainable = False
case("frozen", one(frozen, (3,)), data(4, 3), data(4, 2))
inp = keras.Input((3,))
first = keras.layers.Dense(3, activation="tanh")
first.trainable = False
case("partly_frozen", keras.Model(inp, keras.layers.Dense(1)(first(inp))), data(4, 3), data(4, 1))

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Models", "KerasFixtures", "no-trainable-weights.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
print("wrote", os.path.normpath(path))
