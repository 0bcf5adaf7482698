"""Writes one-layer fixtures for the CNN-LSTM layer family (issue 14) under
test/CnnLstm.Functional.Tests/Layers/KerasFixtures/family/.

Run from the repository root with real Keras 3 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/layers.py
For each case: <case>.keras (Input > the layer, weights randomised where it has any) and, in cases.json, the input,
Keras' prediction, the parameter count and the layer's config as Keras writes it (the tests compare the library's
config of the same layer with it). CI never runs Python.
"""
import json
import os
import sys

import numpy as np
import keras

from common import randomize_biases

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "family")

L = keras.layers

# name: (input shape, layer factory)
CASES = {
    "flatten": ((4, 3), lambda: L.Flatten()),
    "reshape": ((4, 3), lambda: L.Reshape((2, 6))),
    "reshape_inferred": ((4, 3), lambda: L.Reshape((-1, 3, 2))),
    "permute": ((4, 3), lambda: L.Permute((2, 1))),
    "repeat_vector": ((3,), lambda: L.RepeatVector(4)),
    "global_max_pooling1d": ((5, 3), lambda: L.GlobalMaxPooling1D()),
    "global_max_pooling1d_keepdims": ((5, 3), lambda: L.GlobalMaxPooling1D(keepdims=True)),
    "global_average_pooling1d": ((5, 3), lambda: L.GlobalAveragePooling1D()),
    "average_pooling1d": ((7, 3), lambda: L.AveragePooling1D(2)),
    "average_pooling1d_same": ((7, 3), lambda: L.AveragePooling1D(3, strides=2, padding="same")),
    "zero_padding1d": ((4, 3), lambda: L.ZeroPadding1D(2)),
    "zero_padding1d_pair": ((4, 3), lambda: L.ZeroPadding1D((1, 3))),
    "cropping1d": ((6, 3), lambda: L.Cropping1D((1, 2))),
    "up_sampling1d": ((4, 3), lambda: L.UpSampling1D(3)),
    "gaussian_noise": ((4, 3), lambda: L.GaussianNoise(0.3)),
    "spatial_dropout1d": ((4, 3), lambda: L.SpatialDropout1D(0.3)),
    "layer_normalization": ((4, 3), lambda: L.LayerNormalization()),
    "layer_normalization_options": ((4, 3), lambda: L.LayerNormalization(epsilon=0.01, center=False)),
    "simple_rnn": ((5, 3), lambda: L.SimpleRNN(4)),
    "simple_rnn_sequences_relu": ((5, 3), lambda: L.SimpleRNN(4, activation="relu", return_sequences=True)),
    "lstm_go_backwards": ((5, 3), lambda: L.LSTM(4, go_backwards=True)),
    "lstm_go_backwards_sequences": ((5, 3), lambda: L.LSTM(4, go_backwards=True, return_sequences=True)),
    "time_distributed_dense": ((4, 3), lambda: L.TimeDistributed(L.Dense(2))),
    "time_distributed_conv1d": ((4, 6, 3), lambda: L.TimeDistributed(L.Conv1D(2, 3, activation="relu"))),
    "time_distributed_max_pooling1d": ((4, 6, 3), lambda: L.TimeDistributed(L.MaxPooling1D(2))),
    "time_distributed_flatten": ((4, 3, 2), lambda: L.TimeDistributed(L.Flatten())),
    "bidirectional_concat": ((5, 3), lambda: L.Bidirectional(L.LSTM(4))),
    "bidirectional_sum_sequences": ((5, 3), lambda: L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="sum")),
    "bidirectional_mul": ((5, 3), lambda: L.Bidirectional(L.LSTM(4), merge_mode="mul")),
    "bidirectional_ave": ((5, 3), lambda: L.Bidirectional(L.LSTM(4), merge_mode="ave")),
    "gru": ((5, 3), lambda: L.GRU(4)),
    "gru_reset_before_sequences": ((5, 3), lambda: L.GRU(4, reset_after=False, return_sequences=True)),
    "gru_go_backwards_state": ((5, 3), lambda: L.GRU(4, go_backwards=True, return_state=True)),
    "bidirectional_gru": ((5, 3), lambda: L.Bidirectional(L.GRU(4, return_sequences=True))),
    "bidirectional_state_none": ((5, 3), lambda: L.Bidirectional(L.LSTM(4, return_state=True), merge_mode=None)),
    "bidirectional_state_concat": ((5, 3), lambda: L.Bidirectional(L.SimpleRNN(4, return_sequences=True, return_state=True))),
    "time_distributed_conv2d": ((3, 5, 4, 2), lambda: L.TimeDistributed(L.Conv2D(3, 2, activation="relu"))),
    "time_distributed_average_pooling2d": ((3, 5, 4, 2), lambda: L.TimeDistributed(L.AveragePooling2D(2))),
    "conv2d": ((6, 5, 2), lambda: L.Conv2D(3, (3, 2), activation="relu")),
    "conv2d_same_strides": ((7, 6, 2), lambda: L.Conv2D(3, 3, strides=2, padding="same")),
    "conv2d_dilated": ((7, 6, 2), lambda: L.Conv2D(2, 2, dilation_rate=(2, 1))),
    "max_pooling2d": ((6, 5, 2), lambda: L.MaxPooling2D()),
    "max_pooling2d_same": ((7, 5, 2), lambda: L.MaxPooling2D((3, 2), strides=2, padding="same")),
    "average_pooling2d": ((6, 5, 2), lambda: L.AveragePooling2D((2, 3))),
    "average_pooling2d_same": ((7, 5, 2), lambda: L.AveragePooling2D(3, strides=2, padding="same")),
    "global_max_pooling2d": ((4, 5, 2), lambda: L.GlobalMaxPooling2D()),
    "global_average_pooling2d_keepdims": ((4, 5, 2), lambda: L.GlobalAveragePooling2D(keepdims=True)),
    "separable_conv1d": ((6, 3), lambda: L.SeparableConv1D(4, 3, activation="relu")),
    "separable_conv1d_same_multiplier": ((7, 3), lambda: L.SeparableConv1D(4, 3, strides=2, padding="same", depth_multiplier=2)),
    "lstm_dropout": ((5, 3), lambda: L.LSTM(4, dropout=0.2, recurrent_dropout=0.3)),
    "gru_dropout": ((5, 3), lambda: L.GRU(4, dropout=0.2, recurrent_dropout=0.3)),
    "simple_rnn_dropout": ((5, 3), lambda: L.SimpleRNN(4, dropout=0.2, recurrent_dropout=0.3)),
    "batch_normalization": ((4, 3), lambda: L.BatchNormalization()),
    "batch_normalization_options": ((4, 3), lambda: L.BatchNormalization(momentum=0.9, epsilon=0.01, center=False)),
}


def trained(rng):
    """BatchNormalization trained 3 Adam steps (batch 8, 24 samples, no shuffle): its moving statistics, updated with
    momentum 0.99 from each batch, and every weight after; then the inference predictions."""
    inputs = keras.Input(shape=(4, 3), name="x")
    hidden = L.BatchNormalization(name="bn")(inputs)
    model = keras.Model(inputs, L.Dense(1, name="out")(L.Flatten(name="flat")(hidden)), name="bn_train")
    randomize_biases(model, rng)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    model.save(os.path.join(OUT, "bn_train.keras"))
    x = rng.normal(1.0, 2.0, size=(24, 4, 3)).astype("float32")
    y = rng.uniform(-1, 1, size=(24, 1)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return {"x": x.tolist(), "y": y.tolist(),
            "weights_after": {w.path: np.asarray(keras.ops.convert_to_numpy(w), dtype="float64").tolist() for w in model.weights},
            "predictions_after": np.asarray(model.predict(x, verbose=0), dtype="float64").tolist()}


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(29)
    rng = np.random.default_rng(29)
    cases = {}
    for name, (shape, make) in CASES.items():
        inputs = keras.Input(shape=shape, name="x")
        layer = make()
        model = keras.Model(inputs, layer(inputs), name=name)
        randomize_biases(model, rng)
        for weight in layer.weights:
            # Normalisation layers' scale, mean and variance away from 1, 0 and 1, so a missing one shows.
            if "gamma" in weight.path or "moving_variance" in weight.path:
                weight.assign(rng.uniform(0.5, 1.5, size=weight.shape).astype("float32"))
            elif "moving_mean" in weight.path:
                weight.assign(rng.uniform(-0.5, 0.5, size=weight.shape).astype("float32"))
        x = rng.uniform(-1, 1, size=(3,) + shape).astype("float32")
        model.save(os.path.join(OUT, f"{name}.keras"))
        config = json.loads(model.to_json())["config"]["layers"][1]
        y = model.predict(x, verbose=0)
        y = [np.asarray(o, dtype="float64").tolist() for o in y] if isinstance(y, (list, tuple)) else np.asarray(y, dtype="float64").tolist()
        cases[name] = {"x": x.tolist(), "y": y,
                       "params": model.count_params(), "layer_class": config["class_name"], "layer_config": config["config"],
                       "output_shape": list(model.outputs[0].shape)}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"keras": keras.__version__, "cases": cases, "trained": trained(rng)}, f)
    print(f"{len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
