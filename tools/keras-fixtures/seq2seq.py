"""Writes the encoder-decoder fixture (issue 13: recurrent state in the graph) under
test/CnnLstm.Functional.Tests/Layers/KerasFixtures/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/seq2seq.py
Files (CI never runs Python):
  seq2seq.keras, seq2seq.h5   an LSTM encoder (return_state) over source (5, 3) whose states h, c start an LSTM
                              decoder (return_sequences) over target (4, 2), then Dense(2); Adam(0.01), mse
  seq2seq.json                inputs, targets, Keras' predictions, params, and every weight after 3 Adam steps
                              (fit, batch 8, 24 samples, no shuffle)
"""
import json
import os
import sys

import numpy as np
import keras

from common import compile_adam, randomize_biases, trained_state

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures")


def build():
    L = keras.layers
    source = keras.Input(shape=(5, 3), name="source")
    target = keras.Input(shape=(4, 2), name="target")
    _, h, c = L.LSTM(6, return_state=True, name="encoder")(source)
    decoded = L.LSTM(6, return_sequences=True, name="decoder")(target, initial_state=[h, c])
    return keras.Model([source, target], L.Dense(2, name="out")(decoded), name="seq2seq")


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(19)
    rng = np.random.default_rng(19)
    source = rng.uniform(-1, 1, size=(24, 5, 3)).astype("float32")
    target = rng.uniform(-1, 1, size=(24, 4, 2)).astype("float32")
    y = (target[:, :, ::-1] * 0.5 + source[:, :4, :2]).astype("float32")
    model = build()
    randomize_biases(model, rng)
    compile_adam(model)
    model.save(os.path.join(OUT, "seq2seq.keras"))
    model.save(os.path.join(OUT, "seq2seq.h5"))
    before = np.asarray(model.predict([source[:5], target[:5]], verbose=0), dtype="float64").tolist()
    model.fit([source, target], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    result = {
        "keras": keras.__version__,
        "inputs": {"source": source.tolist(), "target": target.tolist(), "y": y.tolist()},
        "predictions_before": before,
        "params": model.count_params(),
        "layers": [layer.name for layer in model.layers],
        **trained_state(model),
    }
    with open(os.path.join(OUT, "seq2seq.json"), "w") as f:
        json.dump(result, f)
    print(result["layers"], result["params"], result["weight_order"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
