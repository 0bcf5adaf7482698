"""Writes tf.keras 2 full-model .h5 files with optimizer state (optimizer_weights) in both tf.keras 2 layouts.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`), after
generate.py (it reads KerasFixtures/trained.keras, the model Keras 3.16 trained one epoch with Adam):
    /usr/bin/python3 tools/keras-fixtures/tfkeras2_optimizer.py
No tf.keras 2 can be installed here (TensorFlow is not served by the registries we reach), so the files are written
with h5py exactly as tf.keras 2 writes them, following keras-team/keras at the tags named below, with the weights
and Adam state of trained.keras (Keras 3's Adam and tf.keras 2's compute the same update):
  tfkeras2-trained-2.10.h5  tf.keras 2.10 (OptimizerV2, hdf5_format.save_optimizer_weights_to_hdf5_group):
                            'Adam/iter:0', then every weight's 'm', then every weight's 'v', named
                            'Adam/conv1d_2/kernel/m:0'; optimizer config with 'decay'.
  tfkeras2-trained-2.11.h5  tf.keras 2.11 (optimizer_experimental): 'iteration:0', then 'm' and 'v' of each weight
                            in turn, named 'Adam/m/conv1d_2/kernel:0'; config with jit_compile, is_legacy_optimizer.
Strings as tf.keras 2 writes them: model_config and training_config as UTF-8 bytes (fixed-length), layer_names and
weight_names as arrays of bytes, keras_version and backend as str (variable-length). The tests load each file,
check the step count and Keras' predictions, and train a second epoch to Keras' second-epoch predictions
(predictions.json "trained").
"""
import json
import os
import sys

import h5py
import numpy as np
import keras

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "CnnLstm.Functional.Tests", "Saving", "KerasFixtures")


def model_config(model):
    """The trained model (Input(1, 3) > Conv1D(10, 1, relu) > LSTM(70) > Dense(1)) in tf.keras 2's get_config form."""
    def init(class_name, **config):
        return {"class_name": class_name, "config": config}

    regularizers = {"kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    conv, lstm, dense = (layer.name for layer in model.layers[1:])
    layers = [
        ("InputLayer", {"batch_input_shape": [None, 1, 3], "dtype": "float32", "sparse": False, "ragged": False, "name": "window"}),
        ("Conv1D", {"name": conv, "trainable": True, "dtype": "float32", "filters": 10, "kernel_size": [1], "strides": [1], "padding": "valid",
                    "data_format": "channels_last", "dilation_rate": [1], "groups": 1, "activation": "relu", "use_bias": True,
                    "kernel_initializer": init("GlorotUniform", seed=None), "bias_initializer": init("Zeros"), **regularizers}),
        ("LSTM", {"name": lstm, "trainable": True, "dtype": "float32", "return_sequences": False, "return_state": False, "go_backwards": False,
                  "stateful": False, "unroll": False, "time_major": False, "units": 70, "activation": "tanh", "recurrent_activation": "sigmoid",
                  "use_bias": True, "kernel_initializer": init("GlorotUniform", seed=None), "recurrent_initializer": init("Orthogonal", gain=1.0, seed=None),
                  "bias_initializer": init("Zeros"), "unit_forget_bias": True, "kernel_regularizer": None, "recurrent_regularizer": None,
                  "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
                  "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}),
        ("Dense", {"name": dense, "trainable": True, "dtype": "float32", "units": 1, "activation": "linear", "use_bias": True,
                   "kernel_initializer": init("GlorotUniform", seed=None), "bias_initializer": init("Zeros"), **regularizers}),
    ]
    entries, previous = [], None
    for class_name, config in layers:
        entries.append({"class_name": class_name, "config": config, "name": config["name"],
                        "inbound_nodes": [] if previous is None else [[[previous, 0, 0, {}]]]})
        previous = config["name"]
    return {"class_name": "Functional", "config": {"name": "trained", "layers": entries, "input_layers": [["window", 0, 0]],
                                                  "output_layers": [[dense, 0, 0]]}}


def weight_names(model):
    """tf.keras 2 variable names per layer: the LSTM's under its cell ('lstm_2/lstm_cell_2/kernel')."""
    names = {}
    for layer in model.layers:
        if layer.weights:
            names[layer.name] = [w.path.replace("lstm_cell", "lstm_cell_2") for w in layer.weights]
    return names


def write(path, model, version, optimizer_config, optimizer_names, optimizer_values):
    names = weight_names(model)
    training_config = {"loss": "mse", "metrics": ["mae"], "weighted_metrics": None, "loss_weights": None,
                       "optimizer_config": {"class_name": "Adam", "config": optimizer_config}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(model_config(model)).encode("utf8")
        f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = [layer.name.encode("utf8") for layer in model.layers]
        weights.attrs["backend"] = "tensorflow"
        weights.attrs["keras_version"] = version
        for layer in model.layers:
            group = weights.create_group(layer.name)
            layer_names = [f"{n}:0".encode("utf8") for n in names.get(layer.name, [])]
            group.attrs["weight_names"] = layer_names
            for name, value in zip(layer_names, layer.get_weights()):
                group.create_dataset(name, data=np.asarray(value, dtype="float32"))
        group = f.create_group("optimizer_weights")
        group.attrs["weight_names"] = [n.encode("utf8") for n in optimizer_names]
        for name, value in zip(optimizer_names, optimizer_values):
            group.create_dataset(name, data=value)


def main():
    model = keras.saving.load_model(os.path.join(OUT, "trained.keras"))
    optimizer = model.optimizer
    iterations = np.int64(keras.ops.convert_to_numpy(optimizer.iterations))
    by_path = {v.path: keras.ops.convert_to_numpy(v) for v in optimizer.variables}
    weights = [(w, f"adam/{w.path.replace('/', '_')}") for w in model.trainable_variables]
    shared = [n for layer in model.layers for n in weight_names(model).get(layer.name, [])]
    m = [by_path[key + "_momentum"] for _, key in weights]
    v = [by_path[key + "_velocity"] for _, key in weights]
    learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    adam = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}
    # tf.keras 2.10: OptimizerV2 weights = [iter] + all m + all v (adam.py _create_slots: two separate loops).
    write(os.path.join(OUT, "tfkeras2-trained-2.10.h5"), model, "2.10.0",
          {"name": "Adam", "learning_rate": learning_rate, "decay": 0.0, **adam},
          ["Adam/iter:0"] + [f"Adam/{n}/m:0" for n in shared] + [f"Adam/{n}/v:0" for n in shared],
          [iterations] + m + v)
    # tf.keras 2.11: optimizer_experimental variables = [iteration] + (m, v) per weight (adam.py build: one loop).
    write(os.path.join(OUT, "tfkeras2-trained-2.11.h5"), model, "2.11.0",
          {"name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
           "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True, "is_legacy_optimizer": False,
           "learning_rate": learning_rate, **adam},
          ["iteration:0"] + [f"Adam/{slot}/{n}:0" for n in shared for slot in ("m", "v")],
          [iterations] + [x for pair in zip(m, v) for x in pair])
    print(f"wrote tfkeras2-trained-2.10.h5 and tfkeras2-trained-2.11.h5 (iterations {iterations}, {len(shared)} weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
