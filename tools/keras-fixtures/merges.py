"""Writes the merge-layer fixtures (issue 13) under test/CnnLstm.Functional.Tests/Layers/Merging/KerasFixtures/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/merges.py
Files (CI never runs Python):
  merges.keras        three inputs a (4, 3), b (4, 3), c (3,) and one output per merge layer and option:
                      Concatenate (axis -1 and 1), Add (three inputs), Subtract, Multiply (a with c: ranks differ),
                      Average, Maximum, Minimum, Dot (axes 2), Dot (axes (1, 1), normalize)
  merges-train.keras  a trainable graph through merges (Conv1D > LSTM on a, Dense on c, Add, Multiply, Concatenate,
                      Dense), compiled with Adam(0.01) and mse, before training
  merges.json         inputs, Keras' predictions of both models, every weight of merges-train after 3 Adam steps
                      (fit, batch 8, 24 samples, no shuffle), and each model's param count and output shapes
"""
import json
import os
import sys

import numpy as np
import keras

from common import compile_adam, randomize_biases, trained_state

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Merging", "KerasFixtures")


def merges():
    a = keras.Input(shape=(4, 3), name="a")
    b = keras.Input(shape=(4, 3), name="b")
    c = keras.Input(shape=(3,), name="c")
    L = keras.layers
    outputs = [
        L.Concatenate(name="concatenate")([a, b]),
        L.Concatenate(axis=1, name="concatenate_axis1")([a, b]),
        L.Add(name="add")([a, b, a]),
        L.Subtract(name="subtract")([a, b]),
        L.Multiply(name="multiply")([a, c]),
        L.Average(name="average")([a, b]),
        L.Maximum(name="maximum")([a, b]),
        L.Minimum(name="minimum")([a, b]),
        L.Dot(axes=2, name="dot")([a, b]),
        L.Dot(axes=(1, 1), normalize=True, name="dot_normalized")([a, b]),
    ]
    return keras.Model([a, b, c], outputs, name="merges")


def trainable():
    a = keras.Input(shape=(4, 3), name="a")
    c = keras.Input(shape=(3,), name="c")
    L = keras.layers
    sequence = L.LSTM(5, name="lstm")(L.Conv1D(4, 2, activation="relu", name="conv1d")(a))
    side = L.Dense(5, activation="tanh", name="side")(c)
    gate = L.Dense(5, activation="sigmoid", name="gate")(c)
    merged = L.Multiply(name="gated")([L.Add(name="sum")([sequence, side]), gate])
    joined = L.Concatenate(name="joined")([merged, c])
    return keras.Model([a, c], L.Dense(1, name="out")(joined), name="merges_train")


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(13)
    rng = np.random.default_rng(13)
    a = rng.uniform(-1, 1, size=(24, 4, 3)).astype("float32")
    b = rng.uniform(-1, 1, size=(24, 4, 3)).astype("float32")
    c = rng.uniform(-1, 1, size=(24, 3)).astype("float32")
    y = (a.sum(axis=(1, 2))[:, None] * 0.1 + c[:, :1]).astype("float32")

    model = merges()
    model.save(os.path.join(OUT, "merges.keras"))
    predictions = [np.asarray(p, dtype="float64").tolist() for p in model.predict([a[:5], b[:5], c[:5]], verbose=0)]

    train = trainable()
    randomize_biases(train, rng)
    compile_adam(train)
    train.save(os.path.join(OUT, "merges-train.keras"))
    before = np.asarray(train.predict([a[:5], c[:5]], verbose=0), dtype="float64").tolist()
    train.fit([a, c], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    result = {
        "keras": keras.__version__,
        "inputs": {"a": a.tolist(), "b": b.tolist(), "c": c.tolist(), "y": y.tolist()},
        "merges": {"predictions": predictions, "output_shapes": [list(o.shape) for o in model.outputs],
                   "params": model.count_params(), "output_names": [o.name for o in model.outputs]},
        "merges_train": {"predictions_before": before, "params": train.count_params(), **trained_state(train)},
    }
    with open(os.path.join(OUT, "merges.json"), "w") as f:
        json.dump(result, f)
    print(json.dumps({k: v for k, v in result["merges"].items() if k != "predictions"}))
    print("train params", train.count_params(), "iterations", result["merges_train"]["iterations"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
