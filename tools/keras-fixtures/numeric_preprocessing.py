"""Writes the numeric preprocessing fixtures (issue 26) under
test/CnnLstm.Functional.Tests/Layers/Preprocessing/KerasFixtures/numeric/.

Run from the repository root with real Keras 3.16 on the torch backend (../shared/tools/real-keras: `source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/numeric_preprocessing.py
then, after `KERASSTYLE_WRITE_FIXTURES=$PWD dotnet test --filter WriteNumericPreprocessingFilesForKeras`:
    /usr/bin/python3 tools/keras-fixtures/numeric_preprocessing.py --library
Files (CI never runs Python):
  numeric.json      Normalization (adapt on arrays and on lists of batches, axis -1/None/lists, mean and variance
                    given with broadcasting, invert), Discretization (bin_boundaries given, every output mode,
                    adapt with num_bins and epsilon on arrays and on batches), CategoryEncoding (one_hot, multi_hot,
                    count, count_weights), Rescaling (scalars, per-channel lists): inputs, outputs, adapt results,
                    get_config, weights
  model.keras       x (None, 3) -> Normalization (adapted) and Rescaling, d (None, 2) -> Discretization (multi_hot),
                    c int32 (None, 2) -> CategoryEncoding (count), Normalization(axis=None, mean, variance),
                    concatenated into Dense(4, tanh) > Dense(2); its inputs and Keras' predictions (and summary)
  model.h5          the same model in Keras 3.16's legacy .h5
  LibraryFiles/     (--library) the library's files of the same model; library_in_keras.json: Keras' predictions of them
"""
import io
import json
import os
import sys
from contextlib import redirect_stdout

import numpy as np
import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Preprocessing", "KerasFixtures", "numeric")
L = keras.layers

# Keras' adapt asks `isinstance(data, tf.data.Dataset)` before its iterable-of-batches path, and TensorFlow is not
# installable here: a stand-in module whose Dataset nothing is an instance of lets lists of batches take Keras' own
# iterable path unchanged.
import types
from keras.src.layers.preprocessing import discretization as _disc, normalization as _norm
class _NoDataset:
    pass
_tf = types.SimpleNamespace(data=types.SimpleNamespace(Dataset=_NoDataset), is_tensor=lambda x: False)
_norm.tf = _tf
_disc.tf = _tf


def arr(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64").round(9).tolist()


def normalization(rng):
    cases = []
    data = rng.normal(loc=3.0, scale=2.0, size=(7, 3)).astype("float32")
    data3 = rng.normal(size=(5, 2, 3)).astype("float32")
    x = rng.normal(size=(4, 3)).astype("float32")
    x3 = rng.normal(size=(2, 2, 3)).astype("float32")

    def adapted(name, kwargs, adapt_data, inp, batches=False):
        layer = L.Normalization(**kwargs)
        layer.adapt(list(adapt_data) if batches else adapt_data)
        cases.append({"name": name, "kwargs": kwargs, "adapt": [np.asarray(b, dtype="float64").tolist() for b in adapt_data] if batches else np.asarray(adapt_data, dtype="float64").tolist(),
                      "batches": batches, "input": np.asarray(inp, dtype="float64").tolist(), "output": arr(layer(inp)),
                      "weights": [arr(w) for w in layer.weights], "weight_paths": [w.path for w in layer.weights],
                      "config": layer.get_config(), "build_config": layer.get_build_config()})

    adapted("last_axis", {}, data, x)
    adapted("axis_none", {"axis": None}, data, x)
    adapted("invert", {"invert": True}, data, x)
    adapted("axis_list", {"axis": [1, 2]}, data3, x3)
    adapted("axis_1_rank3", {"axis": 1}, data3, x3)
    adapted("axis_neg2", {"axis": -2}, data3, x3)
    # Batch-wise accumulation (Keras' iterable path): three batches of 3, 2 and 2 samples.
    adapted("batches", {}, [data[:3], data[3:5], data[5:]], x, batches=True)
    adapted("batches_axis_none", {"axis": None}, [data[:3], data[3:5], data[5:]], x, batches=True)
    adapted("batches_rank3", {"axis": -1}, [data3[:2], data3[2:]], x3, batches=True)

    def given(name, kwargs, inp):
        layer = L.Normalization(**kwargs)
        out = layer(inp)
        cases.append({"name": name, "kwargs": kwargs, "input": np.asarray(inp, dtype="float64").tolist(), "output": arr(out),
                      "weights": [arr(w) for w in layer.weights], "config": layer.get_config()})

    given("given_scalar", {"mean": 3.0, "variance": 2.0}, x)
    given("given_list", {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.25]}, x)
    given("given_invert", {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.25], "invert": True}, x)
    given("given_axis_none", {"axis": None, "mean": 0.5, "variance": 4.0}, x3)
    given("given_broadcast", {"axis": [1, 2], "mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]}, x3)
    given("given_full", {"axis": [1, 2], "mean": [[1.0, 2.0, 3.0], [0.0, -1.0, -2.0]], "variance": [[1.0, 4.0, 9.0], [2.0, 2.0, 0.0]]}, x3)
    given("given_zero_variance", {"mean": 1.0, "variance": 0.0}, x)
    # Keras' docstring examples.
    docs = []
    layer = L.Normalization(axis=None)
    layer.adapt(np.array([1., 2., 3., 4., 5.], dtype="float32"))
    docs.append(arr(layer(np.array([1., 2., 3.], dtype="float32"))))
    return cases, docs


def discretization(rng):
    cases = []
    x = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], dtype="float32")
    for mode in ["int", "one_hot", "multi_hot", "count"]:
        layer = L.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode)
        out = layer(x)
        cases.append({"name": f"given_{mode}", "kwargs": {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": mode}, "input": x.tolist(),
                      "output": arr(out), "dtype": str(keras.ops.convert_to_numpy(out).dtype), "config": layer.get_config()})
    col = np.array([[-1.5], [1.0], [3.4]], dtype="float32")
    layer = L.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode="one_hot")
    cases.append({"name": "one_hot_column", "kwargs": {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "one_hot"}, "input": col.tolist(), "output": arr(layer(col)), "config": layer.get_config()})
    x3 = rng.uniform(-1, 3, size=(2, 3, 2)).astype("float32")
    for mode in ["one_hot", "multi_hot", "count"]:
        layer = L.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode)
        cases.append({"name": f"rank3_{mode}", "kwargs": {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": mode}, "input": x3.tolist(), "output": arr(layer(x3)), "config": layer.get_config()})

    adapts = []
    data = rng.normal(size=(50, 3)).astype("float32")
    small = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]], dtype="float32")
    big = rng.uniform(0, 10, size=(1000,)).astype("float32")
    for name, kwargs, d, batches in [
        ("docs", {"num_bins": 4, "epsilon": 0.01}, small, False),
        ("normal_4", {"num_bins": 4}, data, False),
        ("normal_5_eps01", {"num_bins": 5, "epsilon": 0.1}, data, False),
        ("uniform_7", {"num_bins": 7, "epsilon": 0.01}, big, False),
        ("uniform_3_eps0001", {"num_bins": 3, "epsilon": 0.001}, big, False),
        ("batches", {"num_bins": 4, "epsilon": 0.05}, [data[:20], data[20:35], data[35:]], True),
        ("batches_uniform", {"num_bins": 6}, [big[:300], big[300:700], big[700:]], True),
        ("one_bin", {"num_bins": 1}, data, False),
    ]:
        layer = L.Discretization(**kwargs)
        layer.adapt(list(d) if batches else d)
        probe = np.asarray(d if not batches else d[0], dtype="float32")[:4]
        adapts.append({"name": name, "kwargs": kwargs, "batches": batches,
                       "adapt": [np.asarray(b, dtype="float64").tolist() for b in d] if batches else np.asarray(d, dtype="float64").tolist(),
                       "bin_boundaries": np.asarray(layer.bin_boundaries, dtype="float64").tolist(), "config": layer.get_config(),
                       "input": np.asarray(probe, dtype="float64").tolist(), "output": arr(layer(probe))})
    return cases, adapts


def category_encoding():
    cases = []
    for name, kwargs, x, w in [
        ("one_hot", {"num_tokens": 4, "output_mode": "one_hot"}, np.array([3, 2, 0, 1], dtype="int32"), None),
        ("one_hot_column", {"num_tokens": 4, "output_mode": "one_hot"}, np.array([[3], [2], [0]], dtype="int32"), None),
        ("one_hot_2d", {"num_tokens": 4, "output_mode": "one_hot"}, np.array([[3, 1], [2, 2]], dtype="int32"), None),
        ("multi_hot", {"num_tokens": 4, "output_mode": "multi_hot"}, np.array([[0, 1], [0, 0], [1, 2], [3, 1]], dtype="int32"), None),
        ("multi_hot_default", {"num_tokens": 6}, np.array([[0, 1, 5], [4, 4, 4]], dtype="int32"), None),
        ("count", {"num_tokens": 4, "output_mode": "count"}, np.array([[0, 1, 1], [0, 0, 0], [1, 2, 3], [3, 3, 1]], dtype="int32"), None),
        ("count_weights", {"num_tokens": 4, "output_mode": "count"}, np.array([[0, 1, 1], [3, 3, 1]], dtype="int32"), np.array([[0.5, 1.0, 2.0], [0.25, 0.75, -1.0]], dtype="float32")),
        ("binary_alias", {"num_tokens": 3, "output_mode": "binary"}, np.array([[0, 2], [1, 1]], dtype="int32"), None),
        ("negative_one_hot", {"num_tokens": 3, "output_mode": "one_hot"}, np.array([0, -1, 2], dtype="int32"), None),
        ("negative_multi_hot", {"num_tokens": 3, "output_mode": "multi_hot"}, np.array([[0, -1], [-2, 2]], dtype="int32"), None),
        ("float_ids", {"num_tokens": 3, "output_mode": "count"}, np.array([[0.0, 2.0, 2.7]], dtype="float32"), None),
        ("rank3_multi_hot", {"num_tokens": 3, "output_mode": "multi_hot"}, np.array([[[0, 1], [2, 2]], [[1, 1], [0, 2]]], dtype="int32"), None),
        ("rank3_count", {"num_tokens": 3, "output_mode": "count"}, np.array([[[0, 1], [2, 2]], [[1, 1], [0, 2]]], dtype="int32"), None),
    ]:
        layer = L.CategoryEncoding(**kwargs)
        out = layer(x) if w is None else layer(x, count_weights=w)
        cases.append({"name": name, "kwargs": kwargs, "input": x.tolist(), "count_weights": None if w is None else w.tolist(),
                      "output": arr(out), "config": layer.get_config()})
    errors = {}
    try:
        L.CategoryEncoding(3, output_mode="one_hot")(np.array([0, 1, 3]))
    except Exception as e:
        errors["too_large"] = str(e)
    return cases, errors


def rescaling(rng):
    cases = []
    img = rng.uniform(0, 255, size=(2, 2, 3, 3)).astype("float32")
    for name, kwargs in [("scalar", {"scale": 1.0 / 255}), ("scale_offset", {"scale": 1.0 / 127.5, "offset": -1.0}),
                         ("per_channel", {"scale": [0.5, 2.0, -1.0], "offset": [1.0, 0.0, 0.25]}),
                         ("per_channel_scale", {"scale": [0.1, 0.2, 0.3], "offset": 2.0})]:
        layer = L.Rescaling(**kwargs)
        cases.append({"name": name, "kwargs": kwargs, "input": img.tolist(), "output": arr(layer(img)), "config": layer.get_config()})
    numpy_config = L.Rescaling(np.array([1.0, 2.0], dtype="float32"), offset=np.float32(0.5)).get_config()
    return cases, numpy_config


def build_model(rng):
    x = keras.Input((3,), name="x")
    d = keras.Input((2,), name="d")
    c = keras.Input((2,), dtype="int32", name="c")
    norm = L.Normalization(name="norm")
    norm.adapt(rng.normal(loc=2.0, scale=3.0, size=(40, 3)).astype("float32"))
    disc = L.Discretization(num_bins=3, output_mode="multi_hot", name="disc")
    disc.adapt(rng.normal(size=(60, 2)).astype("float32"))
    enc = L.CategoryEncoding(num_tokens=5, output_mode="count", name="enc")
    scaled = L.Rescaling([0.5, -1.0, 2.0], offset=0.1, name="rescale")(x)
    given = L.Normalization(axis=None, mean=1.0, variance=4.0, name="norm_given")(scaled)
    merged = L.Concatenate(name="cat")([norm(x), given, disc(d), enc(c)])
    h = L.Dense(4, activation="tanh", name="hidden")(merged)
    return keras.Model([x, d, c], L.Dense(2, name="out")(h), name="numeric")


def model_inputs(rng):
    return {"x": rng.normal(loc=2.0, scale=3.0, size=(5, 3)).astype("float32").tolist(),
            "d": rng.normal(size=(5, 2)).astype("float32").tolist(),
            "c": rng.integers(0, 5, size=(5, 2)).astype("int32").tolist()}


def as_inputs(inputs):
    return [np.asarray(inputs["x"], dtype="float32"), np.asarray(inputs["d"], dtype="float32"), np.asarray(inputs["c"], dtype="int32")]


def library():
    folder = os.path.join(OUT, "LibraryFiles")
    inputs = as_inputs(json.load(open(os.path.join(OUT, "numeric.json")))["model"]["inputs"])
    report = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith((".keras", ".h5")):
            continue
        try:
            model = keras.saving.load_model(os.path.join(folder, name))
        except Exception as e:
            report[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        out = model.predict(inputs, verbose=0)
        report[name] = {"error": None, "layers": [l.name for l in model.layers], "configs": {l.name: l.get_config() for l in model.layers if l.name in ("norm", "norm_given", "disc", "enc", "rescale")},
                        "predictions": np.asarray(out, dtype="float64").round(9).tolist()}
    with open(os.path.join(folder, "library_in_keras.json"), "w") as f:
        json.dump({"keras": keras.__version__, "files": report}, f, indent=1)
    print("loaded", sorted(report))
    return 0


def main():
    if "--library" in sys.argv:
        return library()
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(26)
    rng = np.random.default_rng(26)
    result = {"keras": keras.__version__, "backend": keras.backend.backend()}
    result["normalization"], result["normalization_docs"] = normalization(rng)
    result["discretization"], result["discretization_adapt"] = discretization(rng)
    result["category_encoding"], result["category_encoding_errors"] = category_encoding()
    result["rescaling"], result["rescaling_numpy_config"] = rescaling(rng)
    model = build_model(rng)
    inputs = model_inputs(rng)
    path = os.path.join(OUT, "model.keras")
    model.save(path)
    model.save(os.path.join(OUT, "model.h5"))
    pred = model.predict(as_inputs(inputs), verbose=0)
    for reloaded in [keras.saving.load_model(path), keras.saving.load_model(os.path.join(OUT, "model.h5"))]:
        assert np.allclose(pred, reloaded.predict(as_inputs(inputs), verbose=0), atol=1e-6)
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()
    result["model"] = {"inputs": inputs, "predictions": np.asarray(pred, dtype="float64").round(9).tolist(), "summary": out.getvalue(),
                       "configs": {l.name: l.get_config() for l in model.layers},
                       "weights": {l.name: [arr(w) for w in l.weights] for l in model.layers if l.weights},
                       "weight_paths": [w.path for w in model.weights]}
    with open(os.path.join(OUT, "numeric.json"), "w") as f:
        json.dump(result, f, indent=1)
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
