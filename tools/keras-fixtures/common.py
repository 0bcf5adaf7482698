"""Helpers shared by the issue-13 fixture generators (merges.py, nested.py, seq2seq.py, masks.py)."""
import numpy as np
import keras


def randomize_biases(model, rng):
    """Non-trivial biases, so that a bias read from the wrong place shows."""
    for weight in model.weights:
        if "bias" in weight.path:
            weight.assign(rng.uniform(-0.2, 0.2, size=weight.shape).astype("float32"))


def compile_adam(model, **kwargs):
    """Adam(0.01) and mse, as every training fixture here."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", **kwargs)


def trained_state(model):
    """After fit: the step count, every weight by Keras path, and Keras' weight order."""
    return {
        "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        "weights_after": {w.path: np.asarray(keras.ops.convert_to_numpy(w), dtype="float64").tolist() for w in model.weights},
        "weight_order": [w.path for w in model.weights],
    }


def f64(x):
    """A Keras or numpy value as nested lists of float64, for JSON fixtures."""
    return np.asarray(keras.ops.convert_to_numpy(x), dtype="float64").tolist()
