"""Writes the 2-D/3-D padding, cropping, upsampling and 3-D pooling fixtures (issue 24) under
test/CnnLstm.Functional.Tests/Layers/Reshaping/KerasFixtures/.

Run from the repository root with real Keras 3.16 (../shared/tools/real-keras: `source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/reshaping2d.py
Files (CI never runs Python):
  images.keras    Input (4, 5, 3), one output per layer and argument form: ZeroPadding2D (default, int, pair,
                  pair of pairs), Cropping2D (default, int, pair, pair of pairs), UpSampling2D (default, pair,
                  nearest and bilinear, int and pair)
  volumes.keras   Input (3, 4, 5, 2): ZeroPadding3D, Cropping3D (default, int, triple, triple of pairs),
                  UpSampling3D (default, int, triple), MaxPooling3D, AveragePooling3D (valid and same, strides),
                  GlobalMaxPooling3D, GlobalAveragePooling3D (keepdims)
  open.keras      Input (None, None, 3) through each 2-D layer: output shapes with unknown sizes
  reshaping2d.json  the seeded inputs, each model's outputs (names, shapes, Keras' predictions, layer configs),
                  after checking that Keras predicts the same after its own .keras round trip
"""
import json
import os
import sys

import numpy as np
import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Reshaping", "KerasFixtures")
L = keras.layers


def images():
    x = keras.Input(shape=(4, 5, 3), name="x")
    layers = [
        L.ZeroPadding2D(name="zp2_default"),
        L.ZeroPadding2D(2, name="zp2_int"),
        L.ZeroPadding2D((1, 2), name="zp2_pair"),
        L.ZeroPadding2D(((1, 0), (2, 3)), name="zp2_pairs"),
        L.ZeroPadding2D((0, (1, 2)), name="zp2_mixed"),
        L.Cropping2D(name="cr2_default"),
        L.Cropping2D(1, name="cr2_int"),
        L.Cropping2D((1, 2), name="cr2_pair"),
        L.Cropping2D(((1, 0), (0, 2)), name="cr2_pairs"),
        L.Cropping2D(((0, 2), (3, 1)), name="cr2_pairs_end"),
        L.UpSampling2D(name="up2_default"),
        L.UpSampling2D((2, 3), name="up2_pair"),
        L.UpSampling2D(3, interpolation="bilinear", name="up2_bilinear"),
        L.UpSampling2D((2, 3), interpolation="bilinear", name="up2_bilinear_pair"),
        L.UpSampling2D((1, 4), interpolation="bilinear", name="up2_bilinear_1x4"),
    ]
    return keras.Model(x, [l(x) for l in layers], name="images")


def volumes():
    x = keras.Input(shape=(3, 4, 5, 2), name="x")
    layers = [
        L.ZeroPadding3D(name="zp3_default"),
        L.ZeroPadding3D(2, name="zp3_int"),
        L.ZeroPadding3D((1, 2, 0), name="zp3_triple"),
        L.ZeroPadding3D(((1, 0), (0, 2), (1, 1)), name="zp3_pairs"),
        L.Cropping3D(name="cr3_default"),
        L.Cropping3D(0, name="cr3_int"),
        L.Cropping3D((1, 0, 2), name="cr3_triple"),
        L.Cropping3D(((1, 0), (0, 2), (1, 1)), name="cr3_pairs"),
        L.UpSampling3D(name="up3_default"),
        L.UpSampling3D(3, name="up3_int"),
        L.UpSampling3D((1, 2, 3), name="up3_triple"),
        L.MaxPooling3D(name="mp3_default"),
        L.MaxPooling3D((2, 2, 3), strides=(1, 2, 1), padding="same", name="mp3_same"),
        L.AveragePooling3D((2, 2, 2), name="ap3_valid"),
        L.AveragePooling3D((2, 3, 2), strides=(2, 1, 2), padding="same", name="ap3_same"),
        L.GlobalMaxPooling3D(name="gmp3"),
        L.GlobalAveragePooling3D(name="gap3"),
        L.GlobalMaxPooling3D(keepdims=True, name="gmp3_keep"),
        L.GlobalAveragePooling3D(keepdims=True, name="gap3_keep"),
    ]
    return keras.Model(x, [l(x) for l in layers], name="volumes")


def open_sizes():
    x = keras.Input(shape=(None, None, 3), name="x")
    layers = [
        L.ZeroPadding2D((1, 2), name="zp2"),
        L.Cropping2D(1, name="cr2"),
        L.UpSampling2D(2, name="up2"),
        L.UpSampling2D(2, interpolation="bilinear", name="up2_bilinear"),
    ]
    return keras.Model(x, [l(x) for l in layers], name="open")


def record(model, inputs, path):
    model.save(path)
    predictions = model.predict(inputs, verbose=0)
    reloaded = keras.saving.load_model(path).predict(inputs, verbose=0)
    for a, b in zip(predictions, reloaded):
        assert np.array_equal(a, b)
    return {
        "names": [o.name.split("/")[0] if "/" in o.name else l.name for o, l in zip(model.outputs, model.layers[1:])],
        "layers": [l.name for l in model.layers[1:]],
        "configs": [l.get_config() for l in model.layers[1:]],
        "output_shapes": [list(o.shape) for o in model.outputs],
        "predictions": [np.asarray(p, dtype="float64").round(9).tolist() for p in predictions],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(24)
    rng = np.random.default_rng(24)
    image = rng.uniform(-1, 1, size=(2, 4, 5, 3)).astype("float32")
    volume = rng.uniform(-1, 1, size=(2, 3, 4, 5, 2)).astype("float32")
    result = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "inputs": {"image": image.tolist(), "volume": volume.tolist()},
        "images": record(images(), image, os.path.join(OUT, "images.keras")),
        "volumes": record(volumes(), volume, os.path.join(OUT, "volumes.keras")),
        "open": record(open_sizes(), image, os.path.join(OUT, "open.keras")),
    }
    with open(os.path.join(OUT, "reshaping2d.json"), "w") as f:
        json.dump(result, f, default=list)
    for key in ("images", "volumes", "open"):
        print(key, list(zip(result[key]["layers"], result[key]["output_shapes"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
