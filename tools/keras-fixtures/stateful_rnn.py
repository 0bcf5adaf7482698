"""Writes the stateful-RNN and initial-state fixtures (issue 24) under
test/CnnLstm.Functional.Tests/Layers/Recurrent/KerasFixtures/stateful/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/stateful_rnn.py
Stateful cases: Input(batch_shape=(2, 5, 3)) > the stateful layer (> Dense), biases randomised, saved as .keras and
legacy .h5; cases.json holds three consecutive inputs x1, x2, x3 (batch 2) and Keras' predictions of
predict(x1), predict(x2), then reset_state() on the layer and predict(x3); a predict over x1 and x2 stacked (4 samples,
batch_size 2: the state carried between the batches); for the trained case three train_on_batch losses (SGD 0.1, mse)
with the prediction after them. Initial-state cases: GRU, SimpleRNN, Bidirectional(LSTM) and Bidirectional(GRU) called
with initial_state from model inputs, with returned states. `tfkeras2_stateful.h5` is the stateful LSTM case written
in tf.keras 2.11's layout with h5py (a Sequential whose LSTM has batch_input_shape [2, 5, 3] and stateful true; no
tf.keras 2 can be installed here). Every file is loaded back in Keras and checked to predict the same. CI never runs
Python.
"""
import json
import os
import sys

import h5py
import numpy as np
import keras

from common import randomize_biases, f64

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Recurrent",
                   "KerasFixtures", "stateful")
L = keras.layers


def stateful_model(name, make, dense):
    inputs = keras.Input(batch_shape=(2, 5, 3), name="x")
    layer = make()
    y = layer(inputs)
    if dense:
        y = L.Dense(2, name="dense")(y)
    return keras.Model(inputs, y, name=name), layer


STATEFUL = {
    "stateful_lstm": (lambda: L.LSTM(4, stateful=True, name="lstm"), True),
    "stateful_gru_sequences": (lambda: L.GRU(4, stateful=True, return_sequences=True, name="gru"), False),
    "stateful_simple_rnn_cell": (lambda: L.RNN(L.SimpleRNNCell(3), stateful=True, name="rnn"), False),
    "stateful_bidirectional_lstm": (lambda: L.Bidirectional(L.LSTM(3, stateful=True, return_sequences=True), name="bidirectional"), False),
}


def check_files(name, x, expected):
    for ext in ("keras", "h5"):
        loaded = keras.saving.load_model(os.path.join(OUT, f"{name}.{ext}"), compile=False)
        got = loaded.predict(x, batch_size=2, verbose=0)
        assert np.allclose(got, expected, atol=1e-6), (name, ext)


def stateful_cases(rng):
    cases = {}
    for name, (make, dense) in STATEFUL.items():
        model, layer = stateful_model(name, make, dense)
        randomize_biases(model, rng)
        xs = [rng.uniform(-1, 1, size=(2, 5, 3)).astype("float32") for _ in range(3)]
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save(os.path.join(OUT, f"{name}.h5"))
        y1 = model.predict(xs[0], batch_size=2, verbose=0)
        y2 = model.predict(xs[1], batch_size=2, verbose=0)
        layer.reset_state()
        y3 = model.predict(xs[2], batch_size=2, verbose=0)
        layer.reset_state()
        check_files(name, xs[0], y1)
        layer.reset_state()
        y12 = model.predict(np.concatenate([xs[0], xs[1]]), batch_size=2, verbose=0)
        layer.reset_state()
        config = json.loads(model.to_json())["config"]["layers"]
        cases[name] = {"x": [x.tolist() for x in xs], "y1": f64(y1), "y2": f64(y2), "y3_after_reset": f64(y3), "y_x1_x2_one_predict": f64(y12),
                       "layer_name": layer.name, "layer_config": next(c for c in config if c["config"]["name"] == layer.name),
                       "input_config": config[0], "weights": [f64(w) for w in model.weights], "weight_paths": [w.path for w in model.weights]}
        if name == "stateful_lstm":
            tf_keras2_file(model, layer)
            # Keras' torch backend fails backward through its fused LSTM path when the state variables are assigned
            # after the forward pass (in-place change of the initial state); the step loop path (use_cudnn=False,
            # the same maths) copies the states first.
            trained = stateful_model("trained", lambda: L.LSTM(4, stateful=True, name="lstm", use_cudnn=False), dense)[0]
            trained.set_weights(model.get_weights())
            trained.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
            targets = [rng.uniform(-1, 1, size=(2, 2)).astype("float32") for _ in range(3)]
            losses = [float(trained.train_on_batch(x, t)) for x, t in zip(xs, targets)]
            cases[name]["train"] = {"targets": [t.tolist() for t in targets], "losses": losses,
                                    "y_after": f64(trained.predict(xs[0], batch_size=2, verbose=0)),
                                    "weights_after": [f64(w) for w in trained.weights]}
    return cases


def tf_keras2_file(model, layer):
    """The stateful LSTM model as tf.keras 2.11 writes a Sequential built with LSTM(4, batch_input_shape=(2, 5, 3),
    stateful=True): written with h5py in tf.keras 2.11's hdf5_format.py layout and get_config form."""
    def init(class_name, **config):
        return {"class_name": class_name, "config": config}

    glorot = init("GlorotUniform", seed=None)
    lstm = {"name": "lstm", "trainable": True, "batch_input_shape": [2, 5, 3], "dtype": "float32", "return_sequences": False, "return_state": False,
            "go_backwards": False, "stateful": True, "unroll": False, "time_major": False, "units": 4, "activation": "tanh",
            "recurrent_activation": "sigmoid", "use_bias": True, "kernel_initializer": glorot,
            "recurrent_initializer": init("Orthogonal", gain=1.0, seed=None), "bias_initializer": init("Zeros"), "unit_forget_bias": True,
            "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0,
            "implementation": 2}
    dense = {"name": "dense", "trainable": True, "dtype": "float32", "units": 2, "activation": "linear", "use_bias": True,
             "kernel_initializer": glorot, "bias_initializer": init("Zeros"), "kernel_regularizer": None, "bias_regularizer": None,
             "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}
    model_config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [2, 5, 3], "dtype": "float32", "sparse": False, "ragged": False, "name": "lstm_input"}},
        {"class_name": "LSTM", "config": lstm}, {"class_name": "Dense", "config": dense}]}, "keras_version": "2.11.0", "backend": "tensorflow"}
    names = {"lstm": [f"lstm/lstm_cell/{n}:0" for n in ("kernel", "recurrent_kernel", "bias")], "dense": ["dense/kernel:0", "dense/bias:0"]}
    with h5py.File(os.path.join(OUT, "tfkeras2_stateful.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(model_config)
        f.attrs["keras_version"] = "2.11.0"
        f.attrs["backend"] = "tensorflow"
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = ["lstm", "dense"]
        group.attrs["backend"] = "tensorflow"
        group.attrs["keras_version"] = "2.11.0"
        for l in model.layers[1:]:
            g = group.create_group(l.name)
            g.attrs["weight_names"] = names[l.name]
            for weight_name, value in zip(names[l.name], l.get_weights()):
                g.create_dataset(weight_name, data=np.asarray(value, dtype="float32"))


INITIAL = {
    # name: (layer factory, state sizes)
    "initial_gru": (lambda: L.GRU(4, return_state=True, name="gru"), [4]),
    "initial_gru_reset_before_backwards": (lambda: L.GRU(4, reset_after=False, go_backwards=True, return_sequences=True, name="gru"), [4]),
    "initial_simple_rnn": (lambda: L.SimpleRNN(4, return_sequences=True, return_state=True, name="simple_rnn"), [4]),
    "initial_bidirectional_lstm": (lambda: L.Bidirectional(L.LSTM(3, return_state=True), name="bidirectional"), [3, 3, 3, 3]),
    "initial_bidirectional_gru_sequences": (lambda: L.Bidirectional(L.GRU(3, return_sequences=True), merge_mode="sum", name="bidirectional"), [3, 3]),
}


def initial_cases(rng):
    cases = {}
    for name, (make, sizes) in INITIAL.items():
        x_in = keras.Input(shape=(5, 3), name="x")
        states_in = [keras.Input(shape=(s,), name=f"s{i}") for i, s in enumerate(sizes)]
        layer = make()
        outputs = keras.tree.flatten(layer(x_in, initial_state=states_in))
        model = keras.Model([x_in] + states_in, outputs if len(outputs) > 1 else outputs[0], name=name)
        randomize_biases(model, rng)
        x = rng.uniform(-1, 1, size=(3, 5, 3)).astype("float32")
        states = [rng.uniform(-1, 1, size=(3, s)).astype("float32") for s in sizes]
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save(os.path.join(OUT, f"{name}.h5"))
        y = model.predict([x] + states, verbose=0)
        y = y if isinstance(y, list) else [y]
        for ext in ("keras", "h5"):
            got = keras.saving.load_model(os.path.join(OUT, f"{name}.{ext}"), compile=False).predict([x] + states, verbose=0)
            got = got if isinstance(got, list) else [got]
            assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(got, y)), (name, ext)
        cases[name] = {"x": x.tolist(), "states": [s.tolist() for s in states], "y": [f64(a) for a in y], "layer_name": layer.name}
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(24)
    rng = np.random.default_rng(24)
    data = {"keras": keras.__version__, "stateful": stateful_cases(rng), "initial": initial_cases(rng)}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(data, f)
    print(f"{len(data['stateful'])} stateful cases, {len(data['initial'])} initial-state cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
