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
  varlen.json       "layers": single layers over inputs of unknown length (Conv1D/2D, pooling, cropping, padding,
                    normalization, Flatten, Reshape, recurrent, wrappers), with Keras' output shape, the layer's
                    weights (set at random) and predictions at two lengths;
                    "models": per model: each layer's output shape as Keras prints it, inputs and Keras' predictions at two
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


# One layer over an input of unknown length: Keras' output shape, weights and predictions at two lengths.
LAYERS = [
    ("conv1d", (None, 4), lambda: L.Conv1D(3, 2)),
    ("conv1d_same_strided", (None, 4), lambda: L.Conv1D(3, 3, strides=2, padding="same")),
    ("conv1d_causal_dilated", (None, 4), lambda: L.Conv1D(3, 2, dilation_rate=2, padding="causal")),
    ("separable_conv1d", (None, 4), lambda: L.SeparableConv1D(3, 2)),
    ("max_pooling1d", (None, 4), lambda: L.MaxPooling1D(2)),
    ("average_pooling1d_same", (None, 4), lambda: L.AveragePooling1D(3, strides=2, padding="same")),
    ("global_max_pooling1d", (None, 4), lambda: L.GlobalMaxPooling1D()),
    ("global_average_pooling1d_keepdims", (None, 4), lambda: L.GlobalAveragePooling1D(keepdims=True)),
    ("cropping1d", (None, 4), lambda: L.Cropping1D((1, 2))),
    ("zero_padding1d", (None, 4), lambda: L.ZeroPadding1D(2)),
    ("up_sampling1d", (None, 4), lambda: L.UpSampling1D(3)),
    ("spatial_dropout1d", (None, 4), lambda: L.SpatialDropout1D(0.2)),
    ("permute", (None, 4), lambda: L.Permute((2, 1))),
    ("gaussian_noise", (None, 4), lambda: L.GaussianNoise(0.1)),
    ("layer_normalization", (None, 4), lambda: L.LayerNormalization()),
    ("batch_normalization", (None, 4), lambda: L.BatchNormalization()),
    ("flatten", (None, 4), lambda: L.Flatten()),
    ("reshape", (None, 4), lambda: L.Reshape((-1, 2))),
    ("dense", (None, 4), lambda: L.Dense(3)),
    ("lstm_sequences", (None, 4), lambda: L.LSTM(3, return_sequences=True)),
    ("gru", (None, 4), lambda: L.GRU(3)),
    ("simple_rnn_sequences", (None, 4), lambda: L.SimpleRNN(3, return_sequences=True)),
    ("bidirectional", (None, 4), lambda: L.Bidirectional(L.LSTM(2, return_sequences=True))),
    ("time_distributed", (None, 4), lambda: L.TimeDistributed(L.Dense(2))),
    ("masking", (None, 4), lambda: L.Masking()),
    ("conv2d", (None, None, 3), lambda: L.Conv2D(2, 3)),
    ("max_pooling2d", (None, None, 3), lambda: L.MaxPooling2D(2)),
    ("average_pooling2d_same", (None, None, 3), lambda: L.AveragePooling2D(2, padding="same")),
    ("global_average_pooling2d", (None, None, 3), lambda: L.GlobalAveragePooling2D()),
]


def layer_cases(rng):
    cases = {}
    for name, shape, make in LAYERS:
        x = keras.Input(shape=shape)
        layer = make()
        model = keras.Model(x, layer(x))
        for w in model.weights:
            w.assign(rng.uniform(-0.5, 0.5, size=tuple(w.shape)).astype("float32") + (1.0 if "variance" in w.path else 0.0))
        runs = []
        for length in (5, 8):
            xs = rng.uniform(-1, 1, size=(2,) + tuple(length if d is None else d for d in shape)).astype("float32")
            runs.append({"x": xs.tolist(), "y": np.asarray(model.predict(xs, verbose=0), dtype="float64").tolist()})
        cases[name] = {
            "input": str((None,) + shape),
            "output": str(tuple(model.output.shape)),
            "weights": [np.asarray(w.numpy(), dtype="float64").tolist() for w in layer.weights],
            "runs": runs,
        }
    return cases


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
    result["layers"] = layer_cases(rng)
    with open(os.path.join(OUT, "varlen.json"), "w") as f:
        json.dump(result, f)
    for name, m in result["models"].items():
        print(name, m["shapes"])
        print(m["summary"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
