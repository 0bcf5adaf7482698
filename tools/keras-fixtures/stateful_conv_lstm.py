"""Writes the stateful ConvLSTM and Bidirectional(ConvLSTM2D) fixtures (issue 24) under
test/CnnLstm.Functional.Tests/Layers/Recurrent/KerasFixtures/stateful_convlstm/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/stateful_conv_lstm.py
Each case: Input(batch_shape=(2, ...)) > the layer under test, biases randomised, saved as .keras and .h5; cases.json
holds three consecutive inputs x1, x2, x3 (batch 2) and Keras' predictions of predict(x1), predict(x2), then
reset_state() on the layer and predict(x3), and a predict over x1 and x2 stacked (4 samples, batch_size 2). The
non-stateful Bidirectional case has y1 only (the same for every call). CI never runs Python.
"""
import json
import os
import sys

import numpy as np
import keras

from common import randomize_biases, f64

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Recurrent",
                   "KerasFixtures", "stateful_convlstm")
L = keras.layers

CASES = {
    # name: (input shape without batch, layer factory, stateful)
    "stateful_conv_lstm2d": ((3, 4, 4, 2), lambda: L.ConvLSTM2D(2, 3, padding="same", stateful=True, name="conv_lstm2d"), True),
    "stateful_conv_lstm1d_channels_first_sequences": ((3, 2, 5), lambda: L.ConvLSTM1D(2, 2, data_format="channels_first", return_sequences=True,
                                                                                        stateful=True, name="conv_lstm1d"), True),
    "stateful_conv_lstm3d": ((2, 3, 3, 3, 1), lambda: L.ConvLSTM3D(2, 2, stateful=True, name="conv_lstm3d"), True),
    "bidirectional_conv_lstm2d": ((3, 4, 4, 2), lambda: L.Bidirectional(L.ConvLSTM2D(2, 3, padding="same", return_sequences=True), name="bidirectional"), False),
    "bidirectional_conv_lstm2d_stateful_sum": ((3, 4, 4, 2), lambda: L.Bidirectional(L.ConvLSTM2D(2, 2, stateful=True), merge_mode="sum", name="bidirectional"), True),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(24)
    rng = np.random.default_rng(24)
    cases = {}
    for name, (shape, make, stateful) in CASES.items():
        inputs = keras.Input(batch_shape=(2,) + shape, name="x")
        layer = make()
        model = keras.Model(inputs, layer(inputs), name=name)
        randomize_biases(model, rng)
        xs = [rng.uniform(-1, 1, size=(2,) + shape).astype("float32") for _ in range(3)]
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save(os.path.join(OUT, f"{name}.h5"))
        case = {"x": [x.tolist() for x in xs], "layer_name": layer.name, "stateful": stateful,
                "layer_config": next(c for c in json.loads(model.to_json())["config"]["layers"] if c["config"]["name"] == layer.name)}
        y1 = model.predict(xs[0], batch_size=2, verbose=0)
        case["y1"] = f64(y1)
        if stateful:
            case["y2"] = f64(model.predict(xs[1], batch_size=2, verbose=0))
            layer.reset_state()
            case["y3_after_reset"] = f64(model.predict(xs[2], batch_size=2, verbose=0))
            layer.reset_state()
            case["y_x1_x2_one_predict"] = f64(model.predict(np.concatenate([xs[0], xs[1]]), batch_size=2, verbose=0))
            layer.reset_state()
        for ext in ("keras", "h5"):
            loaded = keras.saving.load_model(os.path.join(OUT, f"{name}.{ext}"), compile=False)
            assert np.allclose(loaded.predict(xs[0], batch_size=2, verbose=0), y1, atol=1e-6), (name, ext)
        cases[name] = case
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"keras": keras.__version__, "cases": cases}, f)
    print(f"{len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
