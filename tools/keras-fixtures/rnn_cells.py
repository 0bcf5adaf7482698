"""Writes the RNN-cell fixtures (issue 21) under test/CnnLstm.Functional.Tests/Layers/KerasFixtures/rnn/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/rnn_cells.py
For each model case: <case>.keras and <case>.h5 (Input "x" > optional Masking > the layer under test, weights and
biases randomised) and, in cases.json, the input (rows of zeros where masked), Keras' predictions (every output,
flattened in order as the library returns them), the parameter count, the tested layer's name, class and config as
Keras writes it, and the weight paths of the .keras file. "cells" holds eager cell calls: cell(x, states) with the
cell's weights, Keras' output and new states. CI never runs Python.
"""
import json
import os
import sys
import zipfile
import io

import h5py
import numpy as np
import keras

from common import randomize_biases

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "rnn")

L = keras.layers

# name: (masked, layer factory)
CASES = {
    "rnn_lstm_cell": (False, lambda: L.RNN(L.LSTMCell(4))),
    "rnn_lstm_cell_sequences_state": (False, lambda: L.RNN(L.LSTMCell(4), return_sequences=True, return_state=True)),
    "rnn_lstm_cell_masked_state": (True, lambda: L.RNN(L.LSTMCell(4), return_sequences=True, return_state=True)),
    "rnn_gru_cell_state": (False, lambda: L.RNN(L.GRUCell(4), return_state=True)),
    "rnn_gru_cell_reset_before_masked": (True, lambda: L.RNN(L.GRUCell(4, reset_after=False), return_sequences=True, zero_output_for_mask=True)),
    "rnn_simple_rnn_cell_backwards": (False, lambda: L.RNN(L.SimpleRNNCell(4, activation="relu"), go_backwards=True, return_sequences=True)),
    "rnn_simple_rnn_cell_masked": (True, lambda: L.RNN(L.SimpleRNNCell(4))),
    "rnn_stacked_lstm_gru": (False, lambda: L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_sequences=True, return_state=True)),
    "rnn_stacked_lstm_gru_masked": (True, lambda: L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_state=True)),
    "rnn_cell_list": (False, lambda: L.RNN([L.SimpleRNNCell(3), L.LSTMCell(2), L.LSTMCell(2)])),
    "rnn_lstm_cell_dropout": (False, lambda: L.RNN(L.LSTMCell(4, dropout=0.2, recurrent_dropout=0.3))),
    "bidirectional_rnn_lstm_cell": (False, lambda: L.Bidirectional(L.RNN(L.LSTMCell(4), return_sequences=True))),
    "bidirectional_rnn_gru_cell_masked": (True, lambda: L.Bidirectional(L.RNN(L.GRUCell(3), return_sequences=True), merge_mode="sum")),
}


def flatten(y):
    """Keras' outputs as the library returns them: the output, then every state in order (nested lists flattened)."""
    if isinstance(y, (list, tuple)):
        return [a for item in y for a in flatten(item)]
    return [np.asarray(y, dtype="float64").tolist()]


def weight_paths(path):
    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    paths = []
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda name, obj: paths.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(paths)


def cell_calls(rng):
    """Eager cell(x, states) calls, as Keras' cell call: output and new states."""
    calls = {}
    for name, make, sizes in (("lstm_cell", lambda: L.LSTMCell(3), [3, 3]),
                              ("gru_cell", lambda: L.GRUCell(3), [3]),
                              ("gru_cell_reset_before", lambda: L.GRUCell(3, reset_after=False), [3]),
                              ("simple_rnn_cell", lambda: L.SimpleRNNCell(3, activation="relu"), [3]),
                              ("stacked", lambda: L.StackedRNNCells([L.LSTMCell(3), L.SimpleRNNCell(2)]), [3, 3, 2])):
        cell = make()
        x = rng.uniform(-1, 1, size=(2, 4)).astype("float32")
        cell.build((None, 4))
        for w in cell.weights:
            w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype("float32"))
        states = [rng.uniform(-1, 1, size=(2, s)).astype("float32") for s in sizes]
        given = [[states[0], states[1]], states[2]] if name == "stacked" else states
        output, new_states = cell(x, given)
        calls[name] = {"x": x.tolist(), "states": [s.tolist() for s in states],
                       "weights": [np.asarray(keras.ops.convert_to_numpy(w), dtype="float64").tolist() for w in cell.weights],
                       "weight_shapes": [list(w.shape) for w in cell.weights],
                       "output": np.asarray(keras.ops.convert_to_numpy(output), dtype="float64").tolist(),
                       "new_states": [np.asarray(keras.ops.convert_to_numpy(s), dtype="float64").tolist() for s in keras.tree.flatten(new_states)]}
    return calls


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(31)
    rng = np.random.default_rng(31)
    cases = {}
    for name, (masked, make) in CASES.items():
        inputs = keras.Input(shape=(5, 3), name="x")
        hidden = L.Masking(0.0, name="masking")(inputs) if masked else inputs
        layer = make()
        # Outputs flattened (a stack's states come nested from Keras' RNN), as the library lists them.
        outputs = keras.tree.flatten(layer(hidden))
        model = keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=name)
        randomize_biases(model, rng)
        x = rng.uniform(-1, 1, size=(3, 5, 3)).astype("float32")
        if masked:
            # Masked steps at the start, inside and at the end.
            x[0, 0] = 0
            x[1, 2] = 0
            x[2, 3:] = 0
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save(os.path.join(OUT, f"{name}.h5"))
        config = next(c for c in json.loads(model.to_json())["config"]["layers"] if c["config"]["name"] == layer.name)
        y = model.predict(x, verbose=0)
        cases[name] = {"x": x.tolist(), "y": flatten(y), "params": model.count_params(), "layer_name": layer.name,
                       "layer_class": config["class_name"], "layer_config": config["config"],
                       "output_shapes": [list(t.shape) for t in keras.tree.flatten(model.outputs)],
                       "weight_paths": weight_paths(os.path.join(OUT, f"{name}.keras"))}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"keras": keras.__version__, "cases": cases, "cells": cell_calls(rng)}, f)
    print(f"{len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
