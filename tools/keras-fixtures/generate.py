"""Writes the real-Keras fixtures under test/CnnLstm.Functional.Tests/Saving/KerasFixtures/.

Run with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`), from the repository root:
    /usr/bin/python3 tools/keras-fixtures/generate.py
Every file Keras writes is committed; CI never runs Python. index.json records the Keras version and snapshot.

Models: the seed's regression model (functional) and the seed's sentiment model (Sequential) with a 2,000-word
vocabulary instead of 20,000, so that each file stays near 1 MB; the layers, their order and every other size are
the seed's. For each: model.save('.keras'), save_weights('.weights.h5'), legacy model.save('.h5'), to_json(), and
model.predict on fixed inputs (with dropout off) in predictions.json. For the regression model also two files in
tf.keras 2's layouts written with h5py (tfkeras2-*.h5: weights, and full model with model_config); see
tf_keras2_files.
"""
import json
import os
import platform
import sys

import numpy as np
import keras
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "CnnLstm.Functional.Tests", "Saving", "KerasFixtures")


def regression():
    inputs = keras.Input(shape=(1, 3), name="window")
    x = keras.layers.Dropout(0.25)(inputs)
    x = keras.layers.Conv1D(10, 1, padding="valid", activation="relu", strides=1)(x)
    x = keras.layers.MaxPooling1D(pool_size=1)(x)
    x = keras.layers.LSTM(70)(x)
    outputs = keras.layers.Dense(1, activation="linear")(x)
    return keras.Model(inputs, outputs, name="regression")


def sentiment():
    return keras.Sequential([
        keras.Input(shape=(100,), dtype="int32"),
        keras.layers.Embedding(2000, 128),
        keras.layers.Dropout(0.25),
        keras.layers.Conv1D(64, 5, padding="valid", activation="relu", strides=1),
        keras.layers.MaxPooling1D(pool_size=4),
        keras.layers.LSTM(70),
        keras.layers.Dense(1),
        keras.layers.Activation("sigmoid"),
    ], name="sentiment")


def tf_keras2_files(model, name):
    """The regression model as tf.keras 2.11 writes it, written with h5py the way tf.keras 2 does: variable-length
    string attributes (h5py's default for str), weight names with ':0', the LSTM's weights under its cell, the
    tf.keras 2 config form (batch_input_shape, inbound_nodes as lists). No tf.keras 2 installation is reachable here,
    so these follow tf.keras 2.11's hdf5_format.py and get_config; the weights are the Keras 3 model's."""
    import h5py

    def initializer(class_name, **config):
        return {"class_name": class_name, "config": config}

    def layer_weights(layer):
        if layer.name == "lstm":
            return [f"lstm/lstm_cell/{n}:0" for n in ("kernel", "recurrent_kernel", "bias")]
        return [f"{layer.name}/{n}:0" for n in ("kernel", "bias")] if layer.weights else []

    glorot = initializer("GlorotUniform", seed=None)
    zeros = initializer("Zeros")
    common = {"kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    configs = {
        "window": ("InputLayer", {"batch_input_shape": [None, 1, 3], "dtype": "float32", "sparse": False, "ragged": False, "name": "window"}),
        "dropout": ("Dropout", {"name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.25, "noise_shape": None, "seed": None}),
        "conv1d": ("Conv1D", {"name": "conv1d", "trainable": True, "dtype": "float32", "filters": 10, "kernel_size": [1], "strides": [1], "padding": "valid",
                              "data_format": "channels_last", "dilation_rate": [1], "groups": 1, "activation": "relu", "use_bias": True,
                              "kernel_initializer": glorot, "bias_initializer": zeros, **common}),
        "max_pooling1d": ("MaxPooling1D", {"name": "max_pooling1d", "trainable": True, "dtype": "float32", "strides": [1], "pool_size": [1], "padding": "valid", "data_format": "channels_last"}),
        "lstm": ("LSTM", {"name": "lstm", "trainable": True, "dtype": "float32", "return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False,
                          "unroll": False, "time_major": False, "units": 70, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
                          "kernel_initializer": glorot, "recurrent_initializer": initializer("Orthogonal", gain=1.0, seed=None), "bias_initializer": zeros,
                          "unit_forget_bias": True, "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                          "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}),
        "dense": ("Dense", {"name": "dense", "trainable": True, "dtype": "float32", "units": 1, "activation": "linear", "use_bias": True,
                            "kernel_initializer": glorot, "bias_initializer": zeros, **common}),
    }
    order = [layer.name for layer in model.layers]
    previous = None
    layers = []
    for layer_name in order:
        class_name, config = configs[layer_name]
        layers.append({"class_name": class_name, "config": config, "name": layer_name,
                       "inbound_nodes": [] if previous is None else [[[previous, 0, 0, {}]]]})
        previous = layer_name
    model_config = {"class_name": "Functional", "config": {"name": name, "layers": layers, "input_layers": [["window", 0, 0]],
                                                          "output_layers": [["dense", 0, 0]]}, "keras_version": "2.11.0", "backend": "tensorflow"}

    def write_weights(group):
        group.attrs["layer_names"] = order  # a list of str: h5py writes variable-length strings
        group.attrs["backend"] = "tensorflow"
        group.attrs["keras_version"] = "2.11.0"
        for layer in model.layers:
            g = group.create_group(layer.name)
            names = layer_weights(layer)
            g.attrs["weight_names"] = names
            for weight_name, value in zip(names, layer.get_weights()):
                g.create_dataset(weight_name, data=np.asarray(value, dtype="float32"))

    with h5py.File(os.path.join(OUT, f"tfkeras2-{name}.weights.h5"), "w") as f:
        write_weights(f)
    with h5py.File(os.path.join(OUT, f"tfkeras2-{name}.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(model_config)  # a str: variable-length, as tf.keras 2 writes it
        f.attrs["keras_version"] = "2.11.0"
        f.attrs["backend"] = "tensorflow"
        write_weights(f.create_group("model_weights"))


def trained_files(rng):
    """The regression model without dropout, compiled with Adam and trained one epoch in Keras, saved with its
    optimizer state as .keras and as legacy .h5 (training_config, optimizer_weights); then a second epoch. The tests
    load both files, check Keras' predictions and step count, and train a second epoch to Keras' predictions."""
    keras.utils.set_random_seed(11)
    inputs = keras.Input(shape=(1, 3), name="window")
    x = keras.layers.Conv1D(10, 1, activation="relu")(inputs)
    x = keras.layers.LSTM(70)(x)
    model = keras.Model(inputs, keras.layers.Dense(1)(x), name="trained")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    x = rng.uniform(0, 1, size=(32, 1, 3)).astype("float32")
    y = ((x[:, 0, :1] + 2 * x[:, 0, 2:]) / 3).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(os.path.join(OUT, "trained.keras"))
    model.save(os.path.join(OUT, "trained.h5"))
    after_one = model.predict(x, verbose=0)
    iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    after_two = model.predict(x, verbose=0)
    return {"x": x.tolist(), "y": y.tolist(), "iterations_after_one_epoch": iterations,
            "predictions_after_one_epoch": np.asarray(after_one, dtype="float64").tolist(),
            "predictions_after_two_epochs": np.asarray(after_two, dtype="float64").tolist()}


def main():
    keras.utils.set_random_seed(20261130)
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    cases = {
        "regression": (regression(), rng.uniform(-1, 1, size=(5, 1, 3)).astype("float32")),
        "sentiment": (sentiment(), rng.integers(0, 2000, size=(4, 100)).astype("int32")),
    }
    predictions = {}
    for name, (model, x) in cases.items():
        # Non-trivial biases, so that a bias read from the wrong place shows.
        for layer in model.layers:
            for weight in layer.weights:
                if "bias" in weight.path:
                    weight.assign(rng.uniform(-0.2, 0.2, size=weight.shape).astype("float32"))
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        model.save(os.path.join(OUT, f"{name}.h5"))  # legacy HDF5: variable-length string attributes, as h5py writes them
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            f.write(model.to_json())
        if name == "regression":
            tf_keras2_files(model, name)
        y = model.predict(x, verbose=0)
        predictions[name] = {"x": x.tolist(), "y": np.asarray(y, dtype="float64").tolist()}
    predictions["trained"] = trained_files(rng)
    with open(os.path.join(OUT, "predictions.json"), "w") as f:
        json.dump(predictions, f)
    snapshot = os.path.join(os.path.dirname(keras.__file__), "..", "SNAPSHOT")
    index = {
        "keras": keras.__version__,
        "keras_snapshot": open(snapshot).read().strip() if os.path.exists(snapshot) else None,
        "backend": keras.backend.backend(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "generator": "tools/keras-fixtures/generate.py",
        "files": sorted(f for f in os.listdir(OUT) if f != "index.json"),
    }
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
    print(json.dumps(index, indent=2))


if __name__ == "__main__":
    sys.exit(main())
