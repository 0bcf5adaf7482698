"""Writes fixtures for the rest of Keras 3.16's convolution family (issue 24) under
test/CnnLstm.Functional.Tests/Layers/KerasFixtures/convs/: transposed convolutions (1-3 D), depthwise convolutions
(1-2 D), SeparableConv2D, Conv3D, and grouped Conv1D/2D/3D. The argument sets follow
keras/src/layers/convolutional/*_test.py where they apply (channels_last only).

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/conv_family.py            # the fixtures
    /usr/bin/python3 tools/keras-fixtures/conv_family.py --check    # the library's files of them, loaded in Keras
For each case: <case>.keras (Input > the layer, biases randomised) and, in cases.json, the input, Keras' prediction,
the parameter count, the output shape and the layer's config as Keras writes it. "trained": a model of several of
these layers trained 3 Adam steps, with every weight after. With --check, tools/keras-interop (mode "convs") loads
each fixture here and writes it back (.keras, full-model .h5, tf.keras 2 .h5) with its predictions into
convs/library/; Keras loads each and report.json records the largest difference. CI never runs Python.
"""
import json
import os
import subprocess
import sys

import numpy as np
import keras

from common import randomize_biases, compile_adam, trained_state

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "convs")

L = keras.layers

# name: (input shape without batch, layer factory)
CASES = {
    # conv_transpose_test.py
    "conv1d_transpose_valid": ((5, 4), lambda: L.Conv1DTranspose(5, 2, strides=3)),
    "conv1d_transpose_same": ((6, 4), lambda: L.Conv1DTranspose(6, 2, strides=2, padding="same", activation="relu")),
    "conv1d_transpose_same_output_padding": ((5, 3), lambda: L.Conv1DTranspose(4, 3, strides=2, padding="same", output_padding=1)),
    "conv1d_transpose_dilated": ((6, 3), lambda: L.Conv1DTranspose(2, 3, dilation_rate=2, use_bias=False)),
    "conv2d_transpose_valid": ((4, 5, 3), lambda: L.Conv2DTranspose(5, 2, strides=3)),
    "conv2d_transpose_same": ((4, 5, 3), lambda: L.Conv2DTranspose(6, (2, 3), strides=(2, 1), padding="same")),
    "conv2d_transpose_output_padding": ((4, 3, 2), lambda: L.Conv2DTranspose(3, 3, strides=(3, 2), output_padding=(1, 1), activation="tanh")),
    "conv2d_transpose_same_output_padding": ((4, 3, 2), lambda: L.Conv2DTranspose(3, (3, 4), strides=2, padding="same", output_padding=(1, 0))),
    "conv2d_transpose_dilated": ((5, 5, 2), lambda: L.Conv2DTranspose(3, 3, dilation_rate=(2, 1), padding="same")),
    "conv3d_transpose_valid": ((3, 4, 3, 2), lambda: L.Conv3DTranspose(5, 2, strides=3)),
    "conv3d_transpose_same": ((3, 4, 3, 2), lambda: L.Conv3DTranspose(4, (2, 2, 3), strides=(2, 2, 1), padding="same")),
    # depthwise_conv_test.py
    "depthwise_conv1d": ((5, 4), lambda: L.DepthwiseConv1D(2, depth_multiplier=5)),
    "depthwise_conv1d_same": ((7, 3), lambda: L.DepthwiseConv1D(3, strides=2, padding="same", depth_multiplier=2, activation="relu")),
    "depthwise_conv1d_dilated": ((7, 3), lambda: L.DepthwiseConv1D(3, dilation_rate=2, use_bias=False)),
    "depthwise_conv2d": ((5, 5, 4), lambda: L.DepthwiseConv2D(2, depth_multiplier=5)),
    "depthwise_conv2d_same": ((5, 6, 3), lambda: L.DepthwiseConv2D((2, 3), strides=(2, 1), padding="same", depth_multiplier=2)),
    "depthwise_conv2d_dilated": ((6, 6, 2), lambda: L.DepthwiseConv2D(2, dilation_rate=(2, 3))),
    # separable_conv_test.py
    "separable_conv2d": ((5, 5, 4), lambda: L.SeparableConv2D(5, 2, depth_multiplier=2)),
    "separable_conv2d_same": ((5, 6, 3), lambda: L.SeparableConv2D(6, (2, 3), strides=(2, 1), padding="same", depth_multiplier=3, activation="relu")),
    "separable_conv2d_dilated": ((6, 6, 2), lambda: L.SeparableConv2D(2, 2, dilation_rate=(2, 2), use_bias=False)),
    # conv_test.py
    "conv3d": ((4, 5, 3, 2), lambda: L.Conv3D(5, 2)),
    "conv3d_same": ((4, 5, 3, 2), lambda: L.Conv3D(6, (2, 2, 3), strides=(2, 1, 2), padding="same", activation="relu")),
    "conv3d_dilated": ((5, 5, 4, 2), lambda: L.Conv3D(2, 2, dilation_rate=(2, 1, 2))),
    "conv1d_groups": ((6, 4), lambda: L.Conv1D(6, 3, groups=2)),
    "conv1d_groups_causal": ((6, 4), lambda: L.Conv1D(4, 2, padding="causal", groups=4, dilation_rate=2)),
    "conv2d_groups": ((5, 5, 4), lambda: L.Conv2D(4, 2, padding="same", groups=2)),
    "conv2d_groups_strides": ((5, 5, 6), lambda: L.Conv2D(3, (2, 3), strides=2, groups=3)),
    "conv3d_groups": ((3, 4, 3, 3), lambda: L.Conv3D(6, 2, groups=3)),
}


def trained(rng):
    """Two models of these layers trained 3 Adam steps (batch 4, 12 samples, no shuffle): every weight after, and the
    predictions after."""
    result = {}
    for name, shape, body in (
        ("train2d", (5, 5, 2), lambda x: L.Flatten(name="flat")(L.Conv2D(2, 2, groups=2, name="grouped")(
            L.SeparableConv2D(4, 2, depth_multiplier=2, name="sep")(L.DepthwiseConv2D(2, depth_multiplier=2, padding="same", name="dw")(
                L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1, name="tconv", activation="tanh")(x)))))),
        ("train1d3d", (3, 4, 3, 2), lambda x: L.Flatten(name="flat")(L.Conv3DTranspose(2, 2, strides=2, name="tconv3")(
            L.Conv3D(4, 2, groups=2, name="conv3", activation="relu")(x)))),
        ("train1d", (6, 2), lambda x: L.Flatten(name="flat")(L.Conv1DTranspose(3, 3, strides=2, name="tconv1")(
            L.DepthwiseConv1D(2, depth_multiplier=2, name="dw1")(x)))),
    ):
        inputs = keras.Input(shape=shape, name="x")
        model = keras.Model(inputs, L.Dense(1, name="out")(body(inputs)), name=name)
        randomize_biases(model, rng)
        compile_adam(model)
        model.save(os.path.join(OUT, f"{name}.keras"))
        x = rng.uniform(-1, 1, size=(12,) + shape).astype("float32")
        y = rng.uniform(-1, 1, size=(12, 1)).astype("float32")
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        state = trained_state(model)
        state.update({"x": x.tolist(), "y": y.tolist(), "predictions_after": np.asarray(model.predict(x, verbose=0), dtype="float64").tolist()})
        result[name] = state
    return result


def generate():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(24)
    rng = np.random.default_rng(24)
    cases = {}
    for name, (shape, make) in CASES.items():
        inputs = keras.Input(shape=shape, name="x")
        layer = make()
        model = keras.Model(inputs, layer(inputs), name=name)
        randomize_biases(model, rng)
        x = rng.uniform(-1, 1, size=(2,) + shape).astype("float32")
        model.save(os.path.join(OUT, f"{name}.keras"))
        config = json.loads(model.to_json())["config"]["layers"][1]
        y = np.asarray(model.predict(x, verbose=0), dtype="float64")
        cases[name] = {"x": x.tolist(), "y": y.tolist(), "params": model.count_params(), "layer_class": config["class_name"],
                       "layer_config": config["config"], "output_shape": list(model.outputs[0].shape)}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"keras": keras.__version__, "cases": cases, "trained": trained(rng)}, f)
    print(f"{len(cases)} cases")
    return 0


def _drop_groups(cls):
    """tf.keras 2.11 writes its Conv base's `groups` (always 1) into transposed, depthwise and separable convolutions'
    configs; Keras 3.16 has no such argument there and refuses it. Dropping it is the usual workaround for loading
    tf.keras 2 files (as check_library_files.py drops `time_major`)."""
    original = cls.__init__

    def init(self, *args, groups=1, **kwargs):
        assert groups == 1
        original(self, *args, **kwargs)

    cls.__init__ = init


TF2_OBJECTS = {}
for _name in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv2D"):
    TF2_OBJECTS[_name] = type(_name, (getattr(L, _name),), {})
    _drop_groups(TF2_OBJECTS[_name])


def check():
    library = os.path.join(OUT, "library")
    subprocess.run(["dotnet", "run", "--project", os.path.join(ROOT, "tools", "keras-interop"), "-c", "Release", "--", "convs", library], check=True)
    cases = json.load(open(os.path.join(OUT, "cases.json")))["cases"]
    report = {"keras": keras.__version__, "backend": keras.backend.backend(), "checks": []}
    for name, case in cases.items():
        x = np.asarray(case["x"], dtype="float32")
        expected = np.asarray(json.load(open(os.path.join(library, f"{name}-predictions.json")))["y"], dtype="float64")
        for kind, load in {
            ".keras": lambda: keras.saving.load_model(os.path.join(library, f"{name}.keras")),
            "full-model .h5": lambda: keras.saving.load_model(os.path.join(library, f"{name}-full.h5")),
            "tf.keras 2 full-model .h5 (compile=False, without tf.keras 2's groups 1)": lambda: keras.saving.load_model(os.path.join(library, f"{name}-tfkeras2.h5"), compile=False, custom_objects=TF2_OBJECTS),
        }.items():
            entry = {"model": name, "file": kind}
            try:
                y = np.asarray(load().predict(x, verbose=0), dtype="float64")
                entry["max_difference"] = float(np.max(np.abs(y.ravel() - expected.ravel()))) if y.size == expected.size else float("inf")
                entry["loaded"] = True
            except Exception as e:  # the report says what Keras answered
                entry["loaded"] = False
                entry["error"] = f"{type(e).__name__}: {e}"[:500]
            report["checks"].append(entry)
            print(json.dumps(entry))
    report["all_loaded"] = all(c["loaded"] for c in report["checks"])
    report["worst_difference"] = max(c.get("max_difference", float("inf")) for c in report["checks"])
    with open(os.path.join(library, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    return 0 if report["all_loaded"] and report["worst_difference"] <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(check() if "--check" in sys.argv else generate())
