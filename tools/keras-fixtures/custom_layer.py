"""Writes the custom-layer fixture (issue 21) under test/CnnLstm.Functional.Tests/Layers/KerasFixtures/custom/: a folder
of its own, as the ONNX tests load every .keras file of Layers/KerasFixtures and a custom layer has no ONNX form.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/custom_layer.py
The layer is docs/saving.md's worked example (test/.../Layers/BahdanauAttention.cs) written in Python: additive
attention over [query, values], score = v . tanh(W values_t + U query) / temperature (a non-trainable weight), masked
steps set to -1e9, softmax over the steps, weighted sum of the values. Files (CI never runs Python):
  bahdanau_attention.keras  Input (6, 3) > LSTM(8, return_sequences, return_state) > BahdanauAttention(5)([h, sequences])
                            > Dense(2), the custom layer registered as KerasStyle>BahdanauAttention, temperature 2
  bahdanau_attention.json   the model's input and Keras' prediction; an eager call layer([query, values],
                            mask=[None, mask]) with its weights, inputs, mask and output
"""
import json
import os

import numpy as np
import keras
from keras import ops

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "custom")


@keras.saving.register_keras_serializable(package="KerasStyle")
class BahdanauAttention(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.supports_masking = True

    def build(self, input_shape):
        query_shape, values_shape = input_shape
        self.w = self.add_weight(name="w", shape=(values_shape[-1], self.units), initializer="glorot_uniform")
        self.u = self.add_weight(name="u", shape=(query_shape[-1], self.units), initializer="glorot_uniform")
        self.v = self.add_weight(name="v", shape=(self.units,), initializer="glorot_uniform")
        self.temperature = self.add_weight(name="temperature", shape=(1,), initializer="ones", trainable=False)

    def call(self, inputs, mask=None):
        query, values = inputs
        hidden = ops.tanh(ops.matmul(values, self.w) + ops.expand_dims(ops.matmul(query, self.u), 1))
        scores = ops.matmul(hidden, self.v) / self.temperature
        if mask is not None and mask[1] is not None:
            scores = ops.where(mask[1], scores, -1e9)
        weights = ops.softmax(scores, axis=1)
        return ops.sum(ops.expand_dims(weights, -1) * values, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[1][0], input_shape[1][-1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def main():
    keras.utils.set_random_seed(21)
    rng = np.random.default_rng(21)
    x = keras.Input(shape=(6, 3), name="x")
    sequences, h, _ = keras.layers.LSTM(8, return_sequences=True, return_state=True, name="lstm")(x)
    attention = BahdanauAttention(5, name="attention")
    context = attention([h, sequences])
    model = keras.Model(x, keras.layers.Dense(2, name="out")(context), name="attention_model")
    attention.temperature.assign(np.array([2.0], dtype="float32"))
    data = rng.normal(size=(4, 6, 3)).astype("float32")
    model.save(os.path.join(OUT, "bahdanau_attention.keras"))

    eager = BahdanauAttention(4, name="eager")
    query = rng.normal(size=(2, 3)).astype("float32")
    values = rng.normal(size=(2, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    eager.build([query.shape, values.shape])
    eager.temperature.assign(np.array([0.5], dtype="float32"))
    output = eager([query, values], mask=[None, mask])
    fixture = {
        "keras_version": keras.__version__,
        "x": data.tolist(),
        "y": np.asarray(model.predict(data, verbose=0), dtype="float64").tolist(),
        "eager": {
            "weights": [np.asarray(ops.convert_to_numpy(w), dtype="float64").tolist() for w in eager.weights],
            "query": query.tolist(),
            "values": values.tolist(),
            "mask": mask.tolist(),
            "output": np.asarray(ops.convert_to_numpy(output), dtype="float64").tolist(),
        },
    }
    with open(os.path.join(OUT, "bahdanau_attention.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
