"""Writes keras2_small.h5 with h5py (the HDF5 C library), laid out as Keras 2's save_weights writes weights:
root attributes layer_names / backend / keras_version as byte strings, a group per layer with a byte-string
weight_names attribute (an empty float array when the layer has no weights), float32 datasets at those names.

The model is Input(3, 2) -> LSTM(1) -> Dense(2); the values match Keras2WeightsH5Tests. Run with python3 and h5py.
"""
import numpy as np
import h5py

LAYERS = [
    ("input_1", []),
    ("lstm_1", [
        ("lstm_1/kernel:0", np.array([[0.5, -0.25, 0.75, 0.1], [-0.3, 0.2, 0.05, -0.6]], dtype=np.float32)),
        ("lstm_1/recurrent_kernel:0", np.array([[0.2, 0.3, -0.4, 0.6]], dtype=np.float32)),
        ("lstm_1/bias:0", np.array([0.1, 1.0, -0.1, 0.05], dtype=np.float32)),
    ]),
    ("dense_1", [
        ("dense_1/kernel:0", np.array([[1.5, -0.5]], dtype=np.float32)),
        ("dense_1/bias:0", np.array([-0.2, 0.3], dtype=np.float32)),
    ]),
]


def byte_strings(values):
    return np.asarray([v.encode("utf8") for v in values]) if values else np.asarray([])


with h5py.File("keras2_small.h5", "w") as f:
    f.attrs["layer_names"] = byte_strings([name for name, _ in LAYERS])
    f.attrs["backend"] = "tensorflow".encode("utf8")
    f.attrs["keras_version"] = "2.1.6".encode("utf8")
    for name, weights in LAYERS:
        group = f.create_group(name)
        group.attrs["weight_names"] = byte_strings([w for w, _ in weights])
        for weight, value in weights:
            dataset = group.create_dataset(weight, value.shape, dtype=value.dtype)
            dataset[:] = value
