"""Writes the ConvLSTM1D/2D/3D fixtures (issue 24) under test/CnnLstm.Functional.Tests/Layers/KerasFixtures/convlstm/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/conv_lstm.py
For each model case: <case>.keras and <case>.h5 (Input "x" > the layer under test, weights and biases randomised)
and, in cases.json, the input, Keras' predictions (every output flattened in order), the parameter count, output
shapes, the layer's name, class and config as Keras writes it, the weight paths of the .keras file and Keras'
summary. "eager" holds eager calls with a (batch, steps) mask and with initial states (weights, input, mask or
states, outputs). "training" holds a model trained a few steps with Adam(0.01) and mse (weights before and after).
CI never runs Python.

    /usr/bin/python3 tools/keras-fixtures/conv_lstm.py --check-library-files
after `dotnet run --project tools/keras-interop -c Release` loads the library's files of these models in Keras 3.16
(see check_library_files()).
"""
import contextlib
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np
import keras

from common import randomize_biases, compile_adam, f64

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "convlstm")

L = keras.layers

# name: (input shape without batch, layer factory)
CASES = {
    "conv_lstm1d_same": ((4, 6, 2), lambda: L.ConvLSTM1D(3, 3, padding="same")),
    "conv_lstm1d_valid_strides_sequences": ((4, 7, 2), lambda: L.ConvLSTM1D(3, 3, strides=2, return_sequences=True)),
    "conv_lstm1d_dilation_backwards": ((3, 8, 2), lambda: L.ConvLSTM1D(2, 3, dilation_rate=2, go_backwards=True, return_sequences=True)),
    "conv_lstm2d_same_state": ((3, 5, 5, 2), lambda: L.ConvLSTM2D(2, 3, padding="same", return_state=True)),
    "conv_lstm2d_valid_dilation_sequences": ((3, 7, 6, 2), lambda: L.ConvLSTM2D(3, (2, 3), dilation_rate=2, return_sequences=True)),
    "conv_lstm2d_strides_backwards_state": ((3, 6, 5, 2), lambda: L.ConvLSTM2D(2, 3, strides=(2, 1), padding="same", go_backwards=True,
                                                                                return_sequences=True, return_state=True)),
    "conv_lstm2d_no_bias_softsign_relu": ((2, 4, 4, 3), lambda: L.ConvLSTM2D(2, 2, activation="relu", recurrent_activation="softsign",
                                                                              use_bias=False, unit_forget_bias=False)),
    "conv_lstm2d_dropout": ((2, 4, 4, 2), lambda: L.ConvLSTM2D(2, 3, padding="same", dropout=0.2, recurrent_dropout=0.3)),
    "conv_lstm3d_same": ((2, 4, 3, 4, 2), lambda: L.ConvLSTM3D(2, 2, padding="same", return_sequences=True)),
    "conv_lstm3d_valid_strides_state": ((2, 5, 4, 5, 1), lambda: L.ConvLSTM3D(2, (2, 2, 3), strides=(2, 1, 2), return_state=True)),
}


def flatten(y):
    if isinstance(y, (list, tuple)):
        return [a for item in y for a in flatten(item)]
    return [np.asarray(y, dtype="float64").tolist()]


def weight_paths(path):
    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    paths = []
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda name, obj: paths.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(paths)


def summary(model):
    """Keras' summary as printed into a pipe (80 columns), as tools/keras-fixtures/keras3_summaries.py."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model.summary()
    return out.getvalue()


def randomize(layer, rng):
    for w in layer.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype("float32"))


def eager_calls(rng):
    calls = {}
    # A (batch, steps) mask: masked steps at the start, inside and at the end.
    layer = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, return_state=True, name="masked")
    x = rng.uniform(-1, 1, size=(3, 4, 5, 4, 2)).astype("float32")
    mask = np.ones((3, 4), dtype=bool)
    mask[0, 0] = False
    mask[1, 2] = False
    mask[2, 2:] = False
    layer.build(x.shape)
    randomize(layer, rng)
    outputs = layer(x, mask=mask)
    calls["mask_2d"] = {"x": x.tolist(), "mask": mask.tolist(), "weights": [f64(w) for w in layer.weights],
                        "weight_shapes": [list(w.shape) for w in layer.weights], "y": flatten([keras.ops.convert_to_numpy(o) for o in outputs])}
    # Initial states (Keras' conv_lstm_test: ConvLSTM over (2, 3, 5, 5, 3) with states of (2, 5, 5, 4)), random weights.
    for name, make, xs, ss in (("initial_state_1d", lambda: L.ConvLSTM1D(3, 3, padding="same", return_state=True), (2, 3, 5, 2), (2, 5, 3)),
                               ("initial_state_2d", lambda: L.ConvLSTM2D(4, 3, padding="same", return_sequences=True), (2, 3, 5, 5, 3), (2, 5, 5, 4)),
                               ("initial_state_2d_valid", lambda: L.ConvLSTM2D(2, 3, return_state=True), (2, 3, 6, 5, 1), (2, 4, 3, 2))):
        layer = make()
        x = rng.uniform(-1, 1, size=xs).astype("float32")
        s1 = rng.uniform(-1, 1, size=ss).astype("float32")
        s2 = rng.uniform(-1, 1, size=ss).astype("float32")
        layer.build(x.shape)
        randomize(layer, rng)
        y = layer(x, initial_state=[s1, s2])
        calls[name] = {"x": x.tolist(), "states": [s1.tolist(), s2.tolist()], "weights": [f64(w) for w in layer.weights],
                       "weight_shapes": [list(w.shape) for w in layer.weights],
                       "y": flatten([keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(y)])}
    # zero_output_for_mask (an RNN argument ConvLSTM takes through its kwargs; Bidirectional sets it on its copies).
    layer = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, zero_output_for_mask=True, name="zeroed")
    x = rng.uniform(-1, 1, size=(3, 4, 5, 4, 2)).astype("float32")
    layer.build(x.shape)
    randomize(layer, rng)
    calls["mask_2d_zero_output"] = {"x": x.tolist(), "mask": mask.tolist(), "weights": [f64(w) for w in layer.weights],
                                    "weight_shapes": [list(w.shape) for w in layer.weights],
                                    "y": flatten([keras.ops.convert_to_numpy(layer(x, mask=mask))])}
    return calls


def training(rng):
    inputs = keras.Input(shape=(3, 5, 4, 2), name="x")
    h = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, name="conv_lstm2d")(inputs)
    h = L.ConvLSTM2D(3, 2, name="conv_lstm2d_1")(h)
    outputs = L.Dense(1, name="dense")(L.Flatten(name="flatten")(h))
    model = keras.Model(inputs, outputs, name="trained")
    randomize_biases(model, rng)
    compile_adam(model)
    model.save(os.path.join(OUT, "training_start.keras"))
    x = rng.uniform(-1, 1, size=(8, 3, 5, 4, 2)).astype("float32")
    y = rng.uniform(-1, 1, size=(8, 1)).astype("float32")
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    return {"x": x.tolist(), "y": y.tolist(), "losses": history.history["loss"],
            "weights_after": [f64(w) for w in model.weights], "weight_order": [w.path for w in model.weights]}


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(41)
    rng = np.random.default_rng(41)
    cases = {}
    for name, (shape, make) in CASES.items():
        inputs = keras.Input(shape=shape, name="x")
        layer = make()
        outputs = keras.tree.flatten(layer(inputs))
        model = keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=name)
        randomize_biases(model, rng)
        x = rng.uniform(-1, 1, size=(3,) + shape).astype("float32")
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save(os.path.join(OUT, f"{name}.h5"))
        config = next(c for c in json.loads(model.to_json())["config"]["layers"] if c["config"]["name"] == layer.name)
        y = model.predict(x, verbose=0)
        cases[name] = {"x": x.tolist(), "y": flatten(y), "params": model.count_params(), "layer_name": layer.name,
                       "layer_class": config["class_name"], "layer_config": config["config"],
                       "output_shapes": [list(t.shape) for t in keras.tree.flatten(model.outputs)],
                       "weight_paths": weight_paths(os.path.join(OUT, f"{name}.keras")), "summary": summary(model)}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"keras": keras.__version__, "cases": cases, "eager": eager_calls(rng), "training": training(rng)}, f)
    print(f"{len(cases)} cases")
    return 0


LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Saving", "LibraryFiles", "convlstm")


def _drop_time_major(cls):
    """tf.keras 2 writes 'time_major' (always False) into every recurrent layer's config, ConvLSTM's too; Keras 3.16
    refuses it. Dropping it is the usual workaround for tf.keras 2 files, as check_library_files.py does."""
    original = cls.__init__

    def init(self, *args, time_major=False, **kwargs):
        assert not time_major
        original(self, *args, **kwargs)

    cls.__init__ = init


def check_library_files():
    """After tools/keras-interop wrote LibraryFiles/convlstm/ (the library's .keras, full-model .h5, tf.keras 2 .h5 and
    ToJson of every case, with its predictions): loads each in Keras 3.16 and writes report.json there, with the
    largest difference between Keras' prediction and the library's."""
    for cls in (L.ConvLSTM1D, L.ConvLSTM2D, L.ConvLSTM3D):
        _drop_time_major(cls)
    checks = []
    for name in sorted(f[: -len("-predictions.json")] for f in os.listdir(LIBRARY) if f.endswith("-predictions.json")):
        case = json.load(open(os.path.join(LIBRARY, f"{name}-predictions.json")))
        x = [np.asarray(v, dtype="float32") for v in case["x"]]
        expected = [np.asarray(v, dtype="float64") for v in case["y"]]

        def from_json():
            model = keras.models.model_from_json(open(os.path.join(LIBRARY, f"{name}.json")).read())
            model.set_weights(keras.saving.load_model(os.path.join(LIBRARY, f"{name}.keras")).get_weights())
            return model

        loaders = {
            ".keras": lambda: keras.saving.load_model(os.path.join(LIBRARY, f"{name}.keras")),
            "full-model .h5": lambda: keras.saving.load_model(os.path.join(LIBRARY, f"{name}-full.h5")),
            "tf.keras 2 full-model .h5": lambda: keras.saving.load_model(os.path.join(LIBRARY, f"{name}-tfkeras2.h5"), compile=False),
            "ToJson": from_json,
        }
        for kind, load in loaders.items():
            entry = {"model": name, "file": kind}
            try:
                outputs = load().predict(x, verbose=0)
                outputs = outputs if isinstance(outputs, list) else [outputs]
                entry["max_difference"] = float(max(np.max(np.abs(np.asarray(o, dtype="float64").ravel() - e)) for o, e in zip(outputs, expected)))
                entry["loaded"] = len(outputs) == len(expected)
            except Exception as e:  # the report says what Keras answered
                entry["loaded"] = False
                entry["error"] = f"{type(e).__name__}: {e}"[:500]
            checks.append(entry)
            print(json.dumps(entry))
    with open(os.path.join(LIBRARY, "report.json"), "w") as f:
        json.dump({"keras": keras.__version__, "checks": checks}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(check_library_files() if "--check-library-files" in sys.argv else main())
