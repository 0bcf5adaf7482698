"""Loads the files this library writes in real Keras 3 and compares Keras' predictions with the library's.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/check_library_files.py
It runs tools/keras-interop (the library writes both seed models as .keras, .weights.h5, Keras 2 .h5 weights and
ToJson, with its predictions, and a compiled model for the round trip) into
test/CnnLstm.Functional.Tests/Saving/LibraryFiles/, loads each file in Keras, and writes report.json there: for every
file, how Keras loaded it and the largest difference between Keras' prediction and the library's. For the round trip,
Keras trains the library's compiled model one epoch, saves it (roundtrip-keras-1epoch.keras, with its optimizer
state), trains a second epoch, and records the predictions after each. The files and the report are committed; the tests check that the library still
writes these same files, so the report stays true without Python in CI.
"""
import json
import os
import subprocess
import sys

import numpy as np
import keras

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "CnnLstm.Functional.Tests", "Saving", "LibraryFiles")


def _drop_time_major(cls):
    """tf.keras 2 writes 'time_major' (always False) into every recurrent layer's config (RNN's too); Keras 3.16 refuses it.
    Dropping it is the usual workaround for loading tf.keras 2 files, applied here to the classes themselves so that
    wrappers (Bidirectional), which copy their layer by class, keep working."""
    original = cls.__init__

    def init(self, *args, time_major=False, **kwargs):
        assert not time_major
        original(self, *args, **kwargs)

    cls.__init__ = init


_drop_time_major(keras.layers.RNN)
_drop_time_major(keras.layers.LSTM)
_drop_time_major(keras.layers.SimpleRNN)
_drop_time_major(keras.layers.GRU)

# tf.keras 2 writes a wrapper's inner layer without a module ({"class_name": "Dense", ...}), which Keras 3.16's
# wrappers cannot resolve; naming the built-in classes is the usual workaround.
TF2_OBJECTS = {name: getattr(keras.layers, name) for name in dir(keras.layers) if isinstance(getattr(keras.layers, name), type)}


def json_with_weights(name):
    model = keras.models.model_from_json(open(os.path.join(OUT, f"{name}.json")).read())
    model.load_weights(os.path.join(OUT, f"{name}.keras"))
    return model


def mha_checks():
    """MultiHeadAttention and EinsumDense (issue 24): `check_library_files.py mha` runs tools/keras-interop in that mode
    only, loads each file the library wrote of the models of tools/keras-fixtures/multi_head_attention.py in Keras and
    writes mha/report.json beside them."""
    subprocess.run(["dotnet", "run", "--project", os.path.join(ROOT, "tools", "keras-interop"), "-c", "Release", "--", OUT, "mha"], check=True)
    checks = []
    for name in sorted(f[: -len("-predictions.json")] for f in os.listdir(os.path.join(OUT, "mha")) if f.endswith("-predictions.json")):
        case = json.load(open(os.path.join(OUT, "mha", f"{name}-predictions.json")))
        x = [np.asarray(v, dtype="int32" if name == "masked" else "float32") for v in case["x"]]
        expected = [np.asarray(v, dtype="float64") for v in case["y"]]
        path = lambda suffix: os.path.join(OUT, "mha", name + suffix)
        loaders = {
            ".keras (keras.saving.load_model)": lambda: keras.saving.load_model(path(".keras")),
            "full-model .h5 (keras.saving.load_model)": lambda: keras.saving.load_model(path("-full.h5")),
            "ToJson (model_from_json, load_weights of the .keras)": lambda: json_with_weights(os.path.join("mha", name)),
        }
        if os.path.exists(path("-tfkeras2.h5")):
            loaders["tf.keras 2 full-model .h5 (keras.saving.load_model, compile=False)"] = lambda: keras.saving.load_model(path("-tfkeras2.h5"), compile=False)
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
                if kind.startswith("tf.keras 2") and name != "einsum":
                    # functional.deserialize_node (legacy form) keeps the tensor references tf.keras 2 writes in call
                    # kwargs (value=["q", 0, 0]) as lists, so no tf.keras 2 MultiHeadAttention node loads in Keras 3.16.
                    entry["keras_limitation"] = "Keras 3.16 cannot read tf.keras 2's MultiHeadAttention node form (value as a kwargs tensor reference)"
            checks.append(entry)
            print(json.dumps(entry))
    with open(os.path.join(OUT, "mha", "report.json"), "w") as f:
        json.dump({"keras": keras.__version__, "backend": keras.backend.backend(), "checks": checks}, f, indent=1)


def graph_checks():
    """Models that are not chains (issue 13) and the one-layer models of the layer family (issue 14): each file the
    library wrote is loaded in Keras, and every output is compared with the library's prediction (flattened)."""
    checks = []
    family = sorted(f[: -len("-predictions.json")] for f in os.listdir(os.path.join(OUT, "family")) if f.endswith("-predictions.json"))
    for name in ("merges", "nested", "seq2seq", "masks", "rnn_cells", "bidirectional_cell") + tuple(os.path.join("family", f) for f in family):
        case = json.load(open(os.path.join(OUT, f"{name}-predictions.json")))
        x = [np.asarray(v, dtype="int32" if name == "masks" and i < 2 else "float32") for i, v in enumerate(case["x"])]
        expected = [np.asarray(v, dtype="float64") for v in case["y"]]
        loaders = {
            ".keras (keras.saving.load_model)": lambda: keras.saving.load_model(os.path.join(OUT, f"{name}.keras")),
            "full-model .h5 (keras.saving.load_model)": lambda: keras.saving.load_model(os.path.join(OUT, f"{name}-full.h5")),
            "tf.keras 2 full-model .h5 (keras.saving.load_model, compile=False)": lambda: keras.saving.load_model(os.path.join(OUT, f"{name}-tfkeras2.h5"), compile=False, custom_objects=TF2_OBJECTS),
            "ToJson (model_from_json, load_weights of the .keras)": lambda: json_with_weights(name),
        }
        for kind, load in loaders.items():
            entry = {"model": name, "file": kind}
            try:
                outputs = load().predict(x, verbose=0)
                outputs = outputs if isinstance(outputs, list) else [outputs]
                entry["outputs"] = len(outputs)
                entry["max_difference"] = float(max(np.max(np.abs(np.asarray(o, dtype="float64").ravel() - e)) for o, e in zip(outputs, expected)))
                entry["loaded"] = len(outputs) == len(expected)
            except Exception as e:  # the report says what Keras answered
                entry["loaded"] = False
                entry["error"] = f"{type(e).__name__}: {e}"[:500]
                if name == "seq2seq" and kind.startswith("tf.keras 2"):
                    # tf.keras 2 records an initial state as more inputs of the RNN's node (base_rnn.py __call__:
                    # full_input = [inputs] + initial_state), which Keras 3's LSTM refuses: real tf.keras 2 files
                    # of encoder-decoder models fail the same way.
                    entry["keras_limitation"] = "Keras 3.16 cannot read tf.keras 2's initial-state node form"
            checks.append(entry)
            print(json.dumps(entry))
    return checks


def tfkeras2_round_trip(x, y):
    """The library's tf.keras 2.11-form file of a model it trained one epoch: Keras 3 loads the model, compiles it from
    training_config as tf.keras 2.11 would (without the two tf.keras 2.11-only optimizer arguments), restores
    optimizer_weights by position in tf.keras 2.11's order (iteration, then m and v of each weight in turn), and
    trains a second epoch; the test trains the same file a second epoch here."""
    import h5py

    path = os.path.join(OUT, "roundtrip-here-1epoch-tfkeras2.h5")
    model = keras.saving.load_model(path, compile=False, custom_objects=TF2_OBJECTS)
    with h5py.File(path, "r") as f:
        training = json.loads(f.attrs["training_config"])
        group = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        values = [np.asarray(group[n]) for n in names]
    config = dict(training["optimizer_config"]["config"])
    flags = {k: config.pop(k) for k in ("jit_compile", "is_legacy_optimizer")}
    model.compile(optimizer=keras.optimizers.Adam(**config), loss=training["loss"])
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(values[0])
    slots = [v for v in model.optimizer.variables if v.path.endswith(("_momentum", "_velocity"))]
    assert len(slots) == len(values) - 1, (len(slots), names)
    for variable, value in zip(slots, values[1:]):
        variable.assign(value)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return {"weight_names": names, "tf_keras_2_11_flags": flags, "iterations_before": int(values[0]),
            "predictions_after_second_epoch_in_keras": np.asarray(model.predict(x, verbose=0), dtype="float64").tolist()}


def main():
    if sys.argv[1:] == ["mha"]:
        mha_checks()
        return
    subprocess.run(["dotnet", "run", "--project", os.path.join(ROOT, "tools", "keras-interop"), "-c", "Release", "--", OUT], check=True)
    predictions = json.load(open(os.path.join(OUT, "predictions.json")))
    report = {"keras": keras.__version__, "backend": keras.backend.backend(), "checks": []}
    worst = 0.0
    for name, case in predictions.items():
        x = np.asarray(case["x"], dtype="int32" if name == "sentiment" else "float32")
        expected = np.asarray(case["y"], dtype="float64")

        def check(kind, load):
            nonlocal worst
            entry = {"model": name, "file": kind}
            try:
                model = load()
                y = np.asarray(model.predict(x, verbose=0), dtype="float64")
                entry["max_difference"] = float(np.max(np.abs(y - expected)))
                entry["loaded"] = True
                worst = max(worst, entry["max_difference"])
            except Exception as e:  # the report says what Keras answered
                entry["loaded"] = False
                entry["error"] = f"{type(e).__name__}: {e}"[:500]
            report["checks"].append(entry)
            print(json.dumps(entry))

        path = lambda suffix: os.path.join(OUT, name + suffix)
        check(".keras (keras.saving.load_model)", lambda: keras.saving.load_model(path(".keras")))

        def from_json(weights):
            model = keras.models.model_from_json(open(path(".json")).read())
            model.load_weights(path(weights))
            return model

        check("ToJson + .weights.h5 (model_from_json, load_weights)", lambda: from_json(".weights.h5"))
        check("ToJson + Keras 2 .h5 weights (model_from_json, load_weights)", lambda: from_json(".h5"))
        check("full-model .h5 (keras.saving.load_model)", lambda: keras.saving.load_model(path("-full.h5")))
        # Keras 3.16 refuses two things every real tf.keras 2.11 file holds: the optimizer arguments jit_compile and
        # is_legacy_optimizer (so compile=False), and the recurrent layers' argument time_major (so the usual
        # workaround: see _drop_time_major and TF2_OBJECTS).
        check("tf.keras 2 full-model .h5 (keras.saving.load_model, compile=False, LSTM without time_major)",
              lambda: keras.saving.load_model(path("-tfkeras2.h5"), compile=False, custom_objects=TF2_OBJECTS))
    # The round trip: the library's compiled model trained one epoch in Keras and saved with its optimizer state;
    # then a second epoch, whose predictions the library must reach from Keras' file.
    data = json.load(open(os.path.join(OUT, "roundtrip-data.json")))
    x = np.asarray(data["x"], dtype="float32")
    y = np.asarray(data["y"], dtype="float32")
    model = keras.saving.load_model(os.path.join(OUT, "roundtrip.keras"))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(os.path.join(OUT, "roundtrip-keras-1epoch.keras"))
    after_one = np.asarray(model.predict(x, verbose=0), dtype="float64")
    iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    after_two = np.asarray(model.predict(x, verbose=0), dtype="float64")
    compiled_h5 = keras.saving.load_model(os.path.join(OUT, "roundtrip.h5"))
    report["roundtrip_h5"] = {"optimizer": type(compiled_h5.optimizer).__name__,
                              "learning_rate": float(keras.ops.convert_to_numpy(compiled_h5.optimizer.learning_rate)),
                              "loss": str(compiled_h5.loss)}
    report["roundtrip"] = {"optimizer": type(model.optimizer).__name__, "iterations_after_one_epoch": iterations,
                           "predictions_after_one_epoch": after_one.tolist(), "predictions_after_two_epochs": after_two.tolist()}
    report["roundtrip_tfkeras2"] = tfkeras2_round_trip(x, y)
    report["graphs"] = graph_checks()
    report["all_loaded"] = all(c["loaded"] or "keras_limitation" in c for c in report["checks"] + report["graphs"])
    worst = max([worst] + [c.get("max_difference", 0.0) for c in report["graphs"]])
    report["worst_difference"] = worst
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    return 0 if report["all_loaded"] and worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
