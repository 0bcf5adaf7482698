"""Writes the nested-model fixtures (issue 13) under test/CnnLstm.Functional.Tests/Models/KerasFixtures/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/nested.py
Files (CI never runs Python):
  nested.keras, nested.weights.h5, nested.h5
      two inputs a (4, 3) and b (4, 3); one functional "encoder" (Conv1D > LSTM > Dense) called on both (shared
      weights), its outputs merged (Subtract, Concatenate) and fed to a Sequential "head" (Dense > Dense) inside the
      model; compiled with Adam(0.01) and mse
  nested.json   inputs, targets, Keras' predictions before training, param counts, summary rows, and every weight
                after 3 Adam steps (fit, batch 8, 24 samples, no shuffle)
"""
import json
import os
import sys

import numpy as np
import keras

from common import compile_adam, randomize_biases, trained_state

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Models", "KerasFixtures")


def build():
    L = keras.layers
    x = keras.Input(shape=(4, 3), name="sequence")
    h = L.Conv1D(4, 2, activation="relu", name="conv1d")(x)
    h = L.LSTM(5, name="lstm")(h)
    encoder = keras.Model(x, L.Dense(3, activation="tanh", name="code")(h), name="encoder")
    head = keras.Sequential([keras.Input(shape=(6,)), L.Dense(4, activation="relu", name="hidden"), L.Dense(1, name="score")], name="head")
    a = keras.Input(shape=(4, 3), name="a")
    b = keras.Input(shape=(4, 3), name="b")
    ea, eb = encoder(a), encoder(b)
    joined = L.Concatenate(name="joined")([L.Subtract(name="difference")([ea, eb]), ea])
    return keras.Model([a, b], head(joined), name="siamese")


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(17)
    rng = np.random.default_rng(17)
    a = rng.uniform(-1, 1, size=(24, 4, 3)).astype("float32")
    b = rng.uniform(-1, 1, size=(24, 4, 3)).astype("float32")
    y = ((a - b).sum(axis=(1, 2))[:, None] * 0.1).astype("float32")
    model = build()
    randomize_biases(model, rng)
    compile_adam(model)
    model.save(os.path.join(OUT, "nested.keras"))
    model.save_weights(os.path.join(OUT, "nested.weights.h5"))
    model.save(os.path.join(OUT, "nested.h5"))
    before = np.asarray(model.predict([a[:5], b[:5]], verbose=0), dtype="float64").tolist()
    summary = []
    model.summary(print_fn=lambda line, **kwargs: summary.append(line))
    model.fit([a, b], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    result = {
        "keras": keras.__version__,
        "inputs": {"a": a.tolist(), "b": b.tolist(), "y": y.tolist()},
        "predictions_before": before,
        "params": model.count_params(),
        "layer_params": {layer.name: layer.count_params() for layer in model.layers},
        "layers": [layer.name for layer in model.layers],
        "summary": summary,
        **trained_state(model),
    }
    with open(os.path.join(OUT, "nested.json"), "w") as f:
        json.dump(result, f)
    print("\n".join(summary))
    print(result["weight_order"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
