"""Writes the mask fixtures (issue 13) under test/CnnLstm.Functional.Tests/Layers/KerasFixtures/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/masks.py
Files (CI never runs Python):
  masks.keras, masks.h5   inputs tokens (6,) and tokens2 (6,) (int32, zero-padded on both sides and inside) and
                          series (6, 2) (float32, rows of zeros); Embedding(mask_zero) > LSTM(return_sequences)
                          ("steps", masked) > LSTM ("last", unmasked in Keras 3.16: recurrent layers pass no mask);
                          Masking(0) > LSTM ("masked_series"); Embedding > Dense ("per_step", keeps the mask, so its
                          loss is masked); Add of two differently masked embeddings > LSTM ("or_mask"); Concatenate >
                          Dense ("score"). Outputs score, per_step, steps. Adam(0.01), mse, mae on every output.
  masked-<loss>.keras     Embedding(mask_zero) > Dense per step, compiled with binary_crossentropy (sigmoid, 3 units),
                          categorical_crossentropy or sparse_categorical_crossentropy (softmax, 4 units; class ids
                          per step for the sparse one) and accuracy: masked losses and metrics
  masked-nested.keras     Embedding(mask_zero) > a functional model (LSTM) used as a layer > Dense: the mask goes
                          into the nested model (Keras' Functional.call sets it on its inputs)
  masks.json              inputs, targets, Keras' predictions (every output), the same model's predictions with no
                          masks (mask_zero off, no Masking) to show the difference, and every weight after 3 Adam steps
"""
import json
import os
import sys

import numpy as np
import keras

from common import compile_adam, randomize_biases, trained_state

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures")


def build(masked=True):
    L = keras.layers
    tokens = keras.Input(shape=(6,), dtype="int32", name="tokens")
    tokens2 = keras.Input(shape=(6,), dtype="int32", name="tokens2")
    series = keras.Input(shape=(6, 2), name="series")
    e = L.Embedding(20, 4, mask_zero=masked, name="embedding")(tokens)
    e2 = L.Embedding(20, 4, mask_zero=masked, name="embedding2")(tokens2)
    steps = L.LSTM(5, return_sequences=True, name="steps")(e)
    last = L.LSTM(3, name="last")(steps)
    s = L.LSTM(4, name="masked_series")(L.Masking(0.0, name="masking")(series) if masked else series)
    per_step = L.Dense(3, name="per_step")(e)
    either = L.LSTM(2, name="or_mask")(L.Add(name="sum")([e, e2]))
    score = L.Dense(1, name="score")(L.Concatenate(name="joined")([last, s, either]))
    return keras.Model([tokens, tokens2, series], [score, per_step, steps], name="masks")


def masked_losses(tokens, rng):
    """A masked output per loss that needs an activation: Keras' evaluate at batch 24 and 8 (loss and accuracy)."""
    cases = {}
    for loss, units, activation in (("binary_crossentropy", 3, "sigmoid"), ("categorical_crossentropy", 4, "softmax"),
                                    ("sparse_categorical_crossentropy", 4, "softmax")):
        inputs = keras.Input(shape=(6,), dtype="int32", name="tokens")
        hidden = keras.layers.Embedding(20, 4, mask_zero=True, name="embedding")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(units, activation=activation, name="out")(hidden), name=f"masked_{loss}")
        randomize_biases(model, rng)
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        if activation == "sigmoid":
            y = (rng.uniform(0, 1, size=(len(tokens), 6, units)) > 0.5).astype("float32")
        elif loss.startswith("sparse"):
            y = rng.integers(0, units, size=(len(tokens), 6)).astype("int32")
        else:
            y = np.eye(units, dtype="float32")[rng.integers(0, units, size=(len(tokens), 6))]
        model.save(os.path.join(OUT, f"masked-{loss}.keras"))
        cases[loss] = {"y": y.tolist(),
                       "evaluate": {k: float(v) for k, v in model.evaluate(tokens, y, verbose=0, return_dict=True).items()},
                       "evaluate_batch8": {k: float(v) for k, v in model.evaluate(tokens, y, batch_size=8, verbose=0, return_dict=True).items()}}
    return cases


def masked_nested(tokens, rng):
    """The mask of an Embedding used inside a nested functional model's LSTM; its predictions."""
    inner_input = keras.Input(shape=(6, 4), name="steps_in")
    inner = keras.Model(inner_input, keras.layers.LSTM(3, name="inner_lstm")(inner_input), name="inner")
    tokens_in = keras.Input(shape=(6,), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(20, 4, mask_zero=True, name="embedding")(tokens_in)
    model = keras.Model(tokens_in, keras.layers.Dense(1, name="out")(inner(hidden)), name="masked_nested")
    randomize_biases(model, rng)
    model.save(os.path.join(OUT, "masked-nested.keras"))
    return {"predictions": np.asarray(model.predict(tokens, verbose=0), dtype="float64").tolist()}


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(23)
    rng = np.random.default_rng(23)
    n = 24
    tokens = rng.integers(1, 20, size=(n, 6)).astype("int32")
    tokens2 = rng.integers(1, 20, size=(n, 6)).astype("int32")
    series = rng.uniform(-1, 1, size=(n, 6, 2)).astype("float32")
    for i in range(n):
        # Padding on the left, on the right and inside, and some rows fully padded for one input only.
        tokens[i, : i % 3] = 0
        tokens[i, 6 - (i % 2):] = 0
        if i % 4 == 0:
            tokens[i, 3] = 0
        tokens2[i, : (i + 1) % 4] = 0
        series[i, : (i % 3)] = 0.0
        if i % 5 == 0:
            series[i, 4] = 0.0
    tokens[7, :] = 0  # a sequence with no step at all
    y = [rng.uniform(-1, 1, size=(n, 1)).astype("float32"), rng.uniform(-1, 1, size=(n, 6, 3)).astype("float32"),
         rng.uniform(-1, 1, size=(n, 6, 5)).astype("float32")]
    model = build()
    randomize_biases(model, rng)
    unmasked = build(masked=False)
    unmasked.set_weights(model.get_weights())
    compile_adam(model, metrics=[["mae"], ["mae"], ["mae"]])
    model.save(os.path.join(OUT, "masks.keras"))
    model.save(os.path.join(OUT, "masks.h5"))
    x = [tokens, tokens2, series]
    before = [np.asarray(p, dtype="float64").tolist() for p in model.predict(x, verbose=0)]
    without = [np.asarray(p, dtype="float64").tolist() for p in unmasked.predict(x, verbose=0)]
    losses = model.evaluate(x, y, verbose=0, return_dict=True)
    # In batches of 8: Keras' Mean metrics keep the masked totals and counts across batches.
    batched = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    result = {
        "keras": keras.__version__,
        "inputs": {"tokens": tokens.tolist(), "tokens2": tokens2.tolist(), "series": series.tolist(), "y": [t.tolist() for t in y]},
        "predictions": before,
        "predictions_without_masks": without,
        "evaluate_before": {k: float(v) for k, v in losses.items()},
        "evaluate_before_batch8": {k: float(v) for k, v in batched.items()},
        "params": model.count_params(),
        "layers": [layer.name for layer in model.layers],
        **trained_state(model),
    }
    result["masked_losses"] = masked_losses(tokens, rng)
    result["masked_nested"] = masked_nested(tokens, rng)
    with open(os.path.join(OUT, "masks.json"), "w") as f:
        json.dump(result, f)
    print(result["layers"], result["params"], result["evaluate_before"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
