"""Writes the TFOpLambda fixture (issue 22) to test/CnnLstm.Functional.Tests/Layers/KerasFixtures/tfoplambda/.

tf.keras 2 records `x + y` on Keras tensors as a TFOpLambda layer; Keras 3 cannot load one, so the expected
outputs come from the equivalent Keras 3.16 merge layer (Add, Subtract, Multiply) with the same weights. The config
is written here in the form tf.keras 2.15 saves in a .keras archive (as in
../shared/real-models/set2/AllaudinAli__ECG-Signal-Classification__transformer_model.keras: module
keras.src.engine.functional, the op's node ["dense", 0, 0, {"y": ["x", 0, 0], "name": null}]).
Run from the repository root with real Keras 3.16 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/tfoplambda.py
Writes tfoplambda.json: {function: {config, expected}}, the Dense weights and the inputs.
"""
import json
import os
import sys

import numpy as np
import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "tfoplambda")
MERGES = {"__operators__.add": keras.layers.Add, "math.subtract": keras.layers.Subtract, "math.multiply": keras.layers.Multiply}


def tfkeras215_config(function):
    name = "tf." + function + "_1"
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "dense", "trainable": True, "dtype": "float32", "units": 3, "activation": "tanh", "use_bias": True,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}, "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": None},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None},
        "registered_name": None, "build_config": {"input_shape": [None, 2, 3]}, "name": "dense", "inbound_nodes": [[["x", 0, 0, {}]]]}
    return {"module": "keras.src.engine.functional", "class_name": "Functional", "config": {"name": "model", "trainable": True, "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": [None, 2, 3], "dtype": "float32", "sparse": False, "ragged": False, "name": "x"},
         "registered_name": None, "name": "x", "inbound_nodes": []},
        dense,
        {"module": "keras.src.layers.core.tf_op_layer", "class_name": "TFOpLambda", "config": {"name": name, "trainable": True, "dtype": "float32", "function": function},
         "registered_name": "TFOpLambda", "build_config": {"input_shape": [None, 2, 3]}, "name": name,
         "inbound_nodes": [["dense", 0, 0, {"y": ["x", 0, 0], "name": None}]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [[name, 0, 0]]},
        "registered_name": "Functional", "build_config": {"input_shape": [None, 2, 3]}}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(22)
    kernel = rng.uniform(-1, 1, size=(3, 3)).astype("float32")
    bias = rng.uniform(-0.5, 0.5, size=(3,)).astype("float32")
    x = rng.uniform(-1, 1, size=(4, 2, 3)).astype("float32")
    result = {"keras": keras.__version__, "kernel": kernel.tolist(), "bias": bias.tolist(), "x": x.tolist(), "functions": {}}
    for function, merge in MERGES.items():
        i = keras.Input((2, 3), name="x")
        dense = keras.layers.Dense(3, activation="tanh", name="dense")
        model = keras.Model(i, merge()([dense(i), i]))
        dense.set_weights([kernel, bias])
        expected = np.asarray(model.predict(x, verbose=0), dtype="float64")
        result["functions"][function] = {"config": tfkeras215_config(function), "expected": expected.tolist()}
        print(function, expected.shape)
    with open(os.path.join(OUT, "tfoplambda.json"), "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
