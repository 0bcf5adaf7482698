"""Writes the variable-length fixtures (issue 22: unknown (None) dimensions after the batch) under
test/CnnLstm.Functional.Tests/Layers/KerasFixtures/varlen/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/variable_length.py
Files (CI never runs Python):
  ids.keras         Input((None,), int32) -> Embedding(30, 8, mask_zero) -> Bidirectional(LSTM(6, return_sequences))
                    -> GRU(5) -> Dense(3)
  steps.keras       Input((None, 4)) -> Conv1D(6, 3, same) -> MaxPooling1D(2) -> LSTM(5, return_sequences)
                    -> TimeDistributed(Dense(2))
  mixed.keras       Input((None, 4)) -> Dense(6) / Conv1D(6, 1) -> Concatenate -> Dropout -> Activation -> Masking
                    -> SimpleRNN(4, return_sequences) -> AveragePooling1D(2) -> GlobalAveragePooling1D -> RepeatVector(3)
                    -> GRU(2)
  small.keras       Input((None,), int32) -> Embedding(30, 8) -> LSTM(4) -> Dense(1) (its summary is checked byte for byte)
  varlen.json       per model: each layer's output shape as Keras prints it, inputs and Keras' predictions at two
                    lengths (ids padded with zeros, so the mask matters), and the summary Keras prints into a pipe (80 columns)
"""
import io
import json
import os
import sys
from contextlib import redirect_stdout

import numpy as np
import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "varlen")
L = keras.layers


def ids_model():
    x = keras.Input(shape=(None,), dtype="int32", name="ids")
    h = L.Embedding(30, 8, mask_zero=True, name="embed")(x)
    h = L.Bidirectional(L.LSTM(6, return_sequences=True, name="lstm"), name="bi")(h)
    h = L.GRU(5, name="gru")(h)
    return keras.Model(x, L.Dense(3, name="out")(h), name="ids")


def steps_model():
    x = keras.Input(shape=(None, 4), name="steps")
    h = L.Conv1D(6, 3, padding="same", activation="relu", name="conv")(x)
    h = L.MaxPooling1D(2, name="pool")(h)
    h = L.LSTM(5, return_sequences=True, name="lstm")(h)
    return keras.Model(x, L.TimeDistributed(L.Dense(2), name="td")(h), name="steps")


def mixed_model():
    x = keras.Input(shape=(None, 4), name="series")
    a = L.Dense(6, name="dense")(x)
    b = L.Conv1D(6, 1, name="conv")(x)
    h = L.Concatenate(name="concat")([a, b])
    h = L.Dropout(0.5, name="drop")(h)
    h = L.Activation("tanh", name="act")(h)
    h = L.Masking(0.0, name="masking")(h)
    h = L.SimpleRNN(4, return_sequences=True, name="rnn")(h)
    h = L.AveragePooling1D(2, name="avg")(h)
    h = L.GlobalAveragePooling1D(name="gap")(h)
    h = L.RepeatVector(3, name="repeat")(h)
    return keras.Model(x, L.GRU(2, name="gru2")(h), name="mixed")


def small_model():
    x = keras.Input(shape=(None,), dtype="int32", name="tokens")
    h = L.Embedding(30, 8, name="embedding")(x)
    h = L.LSTM(4, name="lstm")(h)
    return keras.Model(x, L.Dense(1, name="dense")(h), name="small")


def summary(model):
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()
    return out.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(22)
    rng = np.random.default_rng(22)
    result = {"keras": keras.__version__, "models": {}}
    for name, build in [("ids", ids_model), ("steps", steps_model), ("mixed", mixed_model), ("small", small_model)]:
        model = build()
        model.save(os.path.join(OUT, name + ".keras"))
        runs = []
        for length in (5, 9):
            if name in ("ids", "small"):
                x = rng.integers(1, 30, size=(3, length)).astype("int32")
                x[0, length - 2:] = 0
                x[1, length - 1:] = 0
            else:
                x = rng.uniform(-1, 1, size=(3, length, 4)).astype("float32")
                x[0, length - 1, :] = 0
            y = np.asarray(model.predict(x, verbose=0), dtype="float64")
            runs.append({"x": x.tolist(), "y": y.tolist()})
        result["models"][name] = {
            "shapes": {layer.name: str(tuple(layer.output.shape)) for layer in model.layers},
            "runs": runs,
            "summary": summary(model),
        }
    with open(os.path.join(OUT, "varlen.json"), "w") as f:
        json.dump(result, f)
    for name, m in result["models"].items():
        print(name, m["shapes"])
        print(m["summary"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
