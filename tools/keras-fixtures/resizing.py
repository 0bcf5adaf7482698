"""Writes the Resizing and CenterCrop fixtures (issue 24) under
test/CnnLstm.Functional.Tests/Layers/Preprocessing/KerasFixtures/.

Run from the repository root with real Keras 3.16 on the torch backend (../shared/tools/real-keras: `source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/resizing.py
Files (CI never runs Python):
  images.keras   Input (5, 7, 3), one output per layer and argument form: Resizing (bilinear, nearest, bicubic,
                 down and up, crop_to_aspect_ratio, pad_to_aspect_ratio with fill_value, antialias) and
                 CenterCrop (smaller, equal, odd, larger, mixed: Keras resizes when a side is smaller)
  open.keras     Input (None, None, 3) through Resizing and CenterCrop: output shapes with unknown sizes
  resizing.json  the seeded input, each model's outputs (names, shapes, Keras' predictions, layer configs),
                 the summary Keras prints into a pipe, after checking that Keras predicts the same after its own .keras round trip, and the unbatched
                 (rank-3) eager calls of both layers
"""
import io
import json
import os
import sys
from contextlib import redirect_stdout

import numpy as np
import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Preprocessing", "KerasFixtures")
L = keras.layers


def image_layers():
    return [
        L.Resizing(3, 4, name="rs_bilinear"),
        L.Resizing(8, 10, name="rs_bilinear_up"),
        L.Resizing(3, 4, interpolation="nearest", name="rs_nearest"),
        L.Resizing(9, 11, interpolation="nearest", name="rs_nearest_up"),
        L.Resizing(4, 9, interpolation="bicubic", name="rs_bicubic"),
        L.Resizing(4, 4, crop_to_aspect_ratio=True, name="rs_crop"),
        L.Resizing(6, 3, interpolation="nearest", crop_to_aspect_ratio=True, name="rs_crop_nearest"),
        L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5, name="rs_pad"),
        L.Resizing(3, 8, pad_to_aspect_ratio=True, name="rs_pad_wide"),
        L.Resizing(3, 4, antialias=True, name="rs_antialias"),
        L.Resizing(2, 3, interpolation="bicubic", antialias=True, name="rs_antialias_bicubic"),
        L.Resizing(2, 3, interpolation="nearest", antialias=True, name="rs_antialias_nearest"),
        L.CenterCrop(3, 4, name="cc_smaller"),
        L.CenterCrop(5, 7, name="cc_equal"),
        L.CenterCrop(2, 2, name="cc_odd"),
        L.CenterCrop(6, 9, name="cc_larger"),
        L.CenterCrop(3, 9, name="cc_mixed"),
    ]


def images():
    x = keras.Input(shape=(5, 7, 3), name="x")
    return keras.Model(x, [l(x) for l in image_layers()], name="images")


def open_sizes():
    x = keras.Input(shape=(None, None, 3), name="x")
    layers = [
        L.Resizing(3, 4, name="rs"),
        L.Resizing(4, 4, crop_to_aspect_ratio=True, name="rs_crop"),
        L.CenterCrop(3, 4, name="cc"),
        L.CenterCrop(6, 9, name="cc_larger"),
    ]
    return keras.Model(x, [l(x) for l in layers], name="open")


def record(model, inputs, path):
    model.save(path)
    predictions = model.predict(inputs, verbose=0)
    reloaded = keras.saving.load_model(path).predict(inputs, verbose=0)
    for a, b in zip(predictions, reloaded):
        assert np.array_equal(a, b)
    out = io.StringIO()
    with redirect_stdout(out):
        model.summary()
    return {
        "summary": out.getvalue(),
        "layers": [l.name for l in model.layers[1:]],
        "configs": [l.get_config() for l in model.layers[1:]],
        "output_shapes": [list(o.shape) for o in model.outputs],
        "predictions": [np.asarray(p, dtype="float64").round(9).tolist() for p in predictions],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(24)
    rng = np.random.default_rng(24)
    image = rng.uniform(-1, 1, size=(2, 5, 7, 3)).astype("float32")
    unbatched = {l.name: np.asarray(l(image[0])).round(9).tolist() for l in (L.Resizing(3, 4, name="rs"), L.CenterCrop(3, 4, name="cc"), L.CenterCrop(6, 9, name="cc_larger"))}
    result = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "inputs": {"image": image.tolist()},
        "images": record(images(), image, os.path.join(OUT, "images.keras")),
        "open": record(open_sizes(), image, os.path.join(OUT, "open.keras")),
        "unbatched": unbatched,
    }
    with open(os.path.join(OUT, "resizing.json"), "w") as f:
        json.dump(result, f, default=list)
    for key in ("images", "open"):
        print(key, list(zip(result[key]["layers"], result[key]["output_shapes"])))
    print(result["keras"], result["backend"], {k: np.asarray(v).shape for k, v in unbatched.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
