"""Writes the real-Keras fixtures under test/CnnLstm.Functional.Tests/Saving/KerasFixtures/.

Run with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`), from the repository root:
    /usr/bin/python3 tools/keras-fixtures/generate.py
Every file Keras writes is committed; CI never runs Python. index.json records the Keras version and snapshot.

Models: the seed's regression model (functional) and the seed's sentiment model (Sequential) with a 2,000-word
vocabulary instead of 20,000, so that each file stays near 1 MB; the layers, their order and every other size are
the seed's. For each: model.save('.keras'), save_weights('.weights.h5'), legacy model.save('.h5'), to_json(), and
model.predict on fixed inputs (with dropout off) in predictions.json.
"""
import json
import os
import platform
import sys

import numpy as np
import keras
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "CnnLstm.Functional.Tests", "Saving", "KerasFixtures")


def regression():
    inputs = keras.Input(shape=(1, 3), name="window")
    x = keras.layers.Dropout(0.25)(inputs)
    x = keras.layers.Conv1D(10, 1, padding="valid", activation="relu", strides=1)(x)
    x = keras.layers.MaxPooling1D(pool_size=1)(x)
    x = keras.layers.LSTM(70)(x)
    outputs = keras.layers.Dense(1, activation="linear")(x)
    return keras.Model(inputs, outputs, name="regression")


def sentiment():
    return keras.Sequential([
        keras.Input(shape=(100,), dtype="int32"),
        keras.layers.Embedding(2000, 128),
        keras.layers.Dropout(0.25),
        keras.layers.Conv1D(64, 5, padding="valid", activation="relu", strides=1),
        keras.layers.MaxPooling1D(pool_size=4),
        keras.layers.LSTM(70),
        keras.layers.Dense(1),
        keras.layers.Activation("sigmoid"),
    ], name="sentiment")


def main():
    keras.utils.set_random_seed(20261130)
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    cases = {
        "regression": (regression(), rng.uniform(-1, 1, size=(5, 1, 3)).astype("float32")),
        "sentiment": (sentiment(), rng.integers(0, 2000, size=(4, 100)).astype("int32")),
    }
    predictions = {}
    for name, (model, x) in cases.items():
        # Non-trivial biases, so that a bias read from the wrong place shows.
        for layer in model.layers:
            for weight in layer.weights:
                if "bias" in weight.path:
                    weight.assign(rng.uniform(-0.2, 0.2, size=weight.shape).astype("float32"))
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        model.save(os.path.join(OUT, f"{name}.h5"))  # legacy HDF5: variable-length string attributes, as h5py writes them
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            f.write(model.to_json())
        y = model.predict(x, verbose=0)
        predictions[name] = {"x": x.tolist(), "y": np.asarray(y, dtype="float64").tolist()}
    with open(os.path.join(OUT, "predictions.json"), "w") as f:
        json.dump(predictions, f)
    snapshot = os.path.join(os.path.dirname(keras.__file__), "..", "SNAPSHOT")
    index = {
        "keras": keras.__version__,
        "keras_snapshot": open(snapshot).read().strip() if os.path.exists(snapshot) else None,
        "backend": keras.backend.backend(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "generator": "tools/keras-fixtures/generate.py",
        "files": sorted(f for f in os.listdir(OUT) if f != "index.json"),
    }
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
    print(json.dumps(index, indent=2))


if __name__ == "__main__":
    sys.exit(main())
