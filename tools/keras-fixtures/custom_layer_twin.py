"""Writes the fixture of docs/saving.md's ported custom layer (issue 22): SimpleAttention, the attention layer of a real
published model, ../shared/real-models/set2/AdityaKumar1009__Dissolved-Oxygen-Prediction-for-Water-Quality-Monitoring__
lstm_attention_model.h5 (Keras 3.8: Input (1, 1) > LSTM(25, return_sequences) > SimpleAttention > Dense(1)).

The author's Python class is not copied here: it is read at run time from the author's notebook
(github.com/AdityaKumar1009/Dissolved-Oxygen-Prediction-for-Water-Quality-Monitoring, Dissolved_Oxygen_2.ipynb, the
commit of ../shared/real-models/set2/SOURCES.txt) in a local mirror of that repository, and run as it is. The class
calls four TensorFlow functions; TensorFlow is not installed with Keras 3.16 here (torch backend), so the class runs
with `tf` bound to a namespace giving those four names Keras' backend-neutral operations of the same definition
(tf.nn.tanh = ops.tanh, tf.tensordot = ops.tensordot, tf.nn.softmax = ops.softmax, tf.reduce_sum = ops.sum); any other
`tf` name the class used would fail here rather than pass unnoticed.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/custom_layer_twin.py [MIRROR_GIT_DIR] [REAL_MODELS_DIR]
Writes test/CnnLstm.Functional.Tests/Layers/KerasFixtures/custom/simple_attention.json (CI never runs Python):
  keras_version, source (repository, commit, notebook), file (the real model's name)
  x, y          a seeded input (6, 1, 1) and what Keras 3.16 predicts for it with the author's class registered
  eager         the author's layer built on (2, 4, 3) with seeded weights (the file has one step, where the softmax
                over the steps is 1 and the weights cannot change the output): weights [att_weight, att_bias],
                input and output
"""
import json
import os
import subprocess
import sys
import types

import numpy as np
import keras
from keras import ops

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "custom")
REPOSITORY = "github.com/AdityaKumar1009/Dissolved-Oxygen-Prediction-for-Water-Quality-Monitoring"
COMMIT = "86432317b3f642c3600345600da0747f1b1393d3"
NOTEBOOK = "Dissolved_Oxygen_2.ipynb"
FILE = "AdityaKumar1009__Dissolved-Oxygen-Prediction-for-Water-Quality-Monitoring__lstm_attention_model.h5"


def author_class(git_dir):
    """The author's SimpleAttention, defined from the notebook's cell as written (only the class, not the training)."""
    notebook = json.loads(subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{COMMIT}:{NOTEBOOK}"],
                                         check=True, capture_output=True, text=True).stdout)
    cell = next("".join(c["source"]) for c in notebook["cells"]
                if c["cell_type"] == "code" and "class SimpleAttention(Layer)" in "".join(c["source"]))
    lines = cell.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("class SimpleAttention(Layer)"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace())
    tf = types.SimpleNamespace(
        nn=types.SimpleNamespace(tanh=ops.tanh, softmax=ops.softmax),
        tensordot=ops.tensordot,
        reduce_sum=ops.sum)
    namespace = {"Layer": keras.layers.Layer, "tf": tf}
    exec("\n".join(lines[start:end]), namespace)
    return namespace["SimpleAttention"]


def floats(a):
    return np.asarray(ops.convert_to_numpy(a), dtype="float64").tolist()


def main():
    git_dir = sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/AdityaKumar1009+Dissolved-Oxygen-Prediction-for-Water-Quality-Monitoring/repo"
    real_models = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "..", "shared", "real-models", "set2")
    SimpleAttention = author_class(git_dir)
    rng = np.random.default_rng(22)

    model = keras.models.load_model(os.path.join(real_models, FILE), custom_objects={"SimpleAttention": SimpleAttention}, compile=False)
    x = rng.normal(size=(6, 1, 1)).astype("float32")
    y = model.predict(x, verbose=0)

    layer = SimpleAttention(name="eager")
    inputs = rng.normal(size=(2, 4, 3)).astype("float32")
    layer.build(inputs.shape)
    layer.W.assign(rng.normal(size=(3, 1)).astype("float32"))
    layer.b.assign(rng.normal(size=(4, 1)).astype("float32"))
    output = layer(inputs)

    fixture = {
        "keras_version": keras.__version__,
        "source": {"repository": REPOSITORY, "commit": COMMIT, "notebook": NOTEBOOK},
        "file": FILE,
        "x": x.tolist(),
        "y": floats(y),
        "eager": {
            "weights": [floats(w) for w in layer.weights],
            "input": inputs.tolist(),
            "output": floats(output),
        },
    }
    with open(os.path.join(OUT, "simple_attention.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
