"""Keras 3.16 reference values for the layers' own regularizer and constraint arguments (issue 25).

One small model per layer family with every such argument set (L1/L2/L1L2 penalties, MaxNorm/MinMaxNorm/NonNeg/
UnitNorm constraints):
  norms        LayerNormalization, BatchNormalization, GroupNormalization (beta_/gamma_regularizer and _constraint)
  prelu        PReLU (alpha_regularizer, alpha_constraint), two of them
  conv1d       DepthwiseConv1D (depthwise_/bias_*), SeparableConv1D (depthwise_/pointwise_/bias_*)
  conv2d       DepthwiseConv2D, SeparableConv2D, the same arguments
  convlstm1d   ConvLSTM1D (kernel_/recurrent_/bias_regularizer and _constraint); convlstm2d, convlstm3d the same
  attention    EinsumDense and MultiHeadAttention (kernel_/bias_regularizer and _constraint)
each ending in a Dense. Seeded weights set with set_weights (variances positive), fixed data, three SGD(0.1)
train_on_batch steps on mse: the loss of each step (with the penalties) and every weight after each step; the
regularization penalty of the initial weights (sum of model.losses); each layer's get_config.

Writes test/CnnLstm.Functional.Tests/Layers/KerasFixtures/constraints/layer_constraints.json. Run from the repository
root with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/layer_constraints.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np
import keras
from keras import constraints as C
from keras import layers
from keras import regularizers as R


def norms():
    inp = keras.Input((5, 4))
    h = layers.LayerNormalization(gamma_regularizer=R.L2(0.05), beta_regularizer=R.L1(0.02), gamma_constraint=C.NonNeg(),
                                  beta_constraint=C.MaxNorm(0.3), name="layer_norm")(inp)
    h = layers.BatchNormalization(gamma_regularizer=R.L1L2(0.01, 0.02), beta_regularizer=R.L2(0.03),
                                  gamma_constraint=C.MinMaxNorm(0.5, 1.0), beta_constraint=C.UnitNorm(), name="batch_norm")(h)
    h = layers.GroupNormalization(groups=2, gamma_regularizer=R.L2(0.04), beta_regularizer=R.L2(0.01),
                                  gamma_constraint=C.MaxNorm(1.0), beta_constraint=C.NonNeg(), name="group_norm")(h)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (4, 5, 4)


def prelu():
    inp = keras.Input((3, 4))
    h = layers.Dense(4, name="dense")(inp)
    h = layers.PReLU(alpha_regularizer=R.L2(0.1), alpha_constraint=C.NonNeg(), shared_axes=[1], name="prelu")(h)
    h = layers.Dense(4, name="dense_2")(h)
    h = layers.PReLU(alpha_regularizer=R.L1(0.05), alpha_constraint=C.MinMaxNorm(0.2, 0.5, axis=[0, 1]), name="prelu_2")(h)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (4, 3, 4)


def conv1d():
    inp = keras.Input((8, 3))
    h = layers.DepthwiseConv1D(3, depth_multiplier=2, depthwise_regularizer=R.L2(0.05), bias_regularizer=R.L1(0.01),
                               depthwise_constraint=C.MaxNorm(0.5, axis=[0, 1]), bias_constraint=C.NonNeg(), name="depthwise")(inp)
    h = layers.SeparableConv1D(4, 2, depthwise_regularizer=R.L1(0.02), pointwise_regularizer=R.L2(0.03), bias_regularizer=R.L2(0.01),
                               depthwise_constraint=C.UnitNorm(axis=0), pointwise_constraint=C.MinMaxNorm(0.3, 0.8, axis=[0, 1]),
                               bias_constraint=C.MaxNorm(0.2), name="separable")(h)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (4, 8, 3)


def conv2d():
    inp = keras.Input((5, 5, 2))
    h = layers.DepthwiseConv2D(2, depth_multiplier=2, depthwise_regularizer=R.L1L2(0.01, 0.02), bias_regularizer=R.L2(0.05),
                               depthwise_constraint=C.UnitNorm(axis=[0, 1]), bias_constraint=C.MaxNorm(0.1), name="depthwise")(inp)
    h = layers.SeparableConv2D(3, 2, depth_multiplier=2, depthwise_regularizer=R.L2(0.02), pointwise_regularizer=R.L1(0.01),
                               bias_regularizer=R.L1(0.02), depthwise_constraint=C.NonNeg(), pointwise_constraint=C.MaxNorm(0.6, axis=[0, 1, 2]),
                               bias_constraint=C.NonNeg(), name="separable")(h)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (3, 5, 5, 2)


def convlstm1d():
    inp = keras.Input((3, 6, 2))
    h = layers.ConvLSTM1D(3, 2, kernel_regularizer=R.L2(0.02), recurrent_regularizer=R.L1(0.01), bias_regularizer=R.L2(0.05),
                          kernel_constraint=C.MaxNorm(0.5, axis=[0, 1]), recurrent_constraint=C.UnitNorm(axis=[0, 1]),
                          bias_constraint=C.NonNeg(), name="conv_lstm")(inp)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (3, 3, 6, 2)


def convlstm2d():
    inp = keras.Input((2, 4, 4, 2))
    h = layers.ConvLSTM2D(2, 2, kernel_regularizer=R.L1(0.01), recurrent_regularizer=R.L2(0.02), bias_regularizer=R.L1L2(0.01, 0.01),
                          kernel_constraint=C.MinMaxNorm(0.2, 0.6, rate=0.5, axis=[0, 1, 2]), recurrent_constraint=C.MaxNorm(0.4),
                          bias_constraint=C.MaxNorm(0.3), name="conv_lstm")(inp)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (3, 2, 4, 4, 2)


def convlstm3d():
    inp = keras.Input((2, 3, 3, 3, 1))
    h = layers.ConvLSTM3D(2, 2, kernel_regularizer=R.L2(0.03), recurrent_regularizer=R.L2(0.01), bias_regularizer=R.L1(0.02),
                          kernel_constraint=C.NonNeg(), recurrent_constraint=C.MinMaxNorm(0.1, 0.5, axis=[0, 1, 2, 3]),
                          bias_constraint=C.UnitNorm(), name="conv_lstm")(inp)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (3, 2, 3, 3, 3, 1)


def attention():
    inp = keras.Input((4, 3))
    h = layers.EinsumDense("abc,cd->abd", (4, 5), bias_axes="d", kernel_regularizer=R.L2(0.02), bias_regularizer=R.L1(0.01),
                           kernel_constraint=C.MaxNorm(0.7), bias_constraint=C.NonNeg(), name="einsum")(inp)
    h = layers.MultiHeadAttention(2, 3, kernel_regularizer=R.L2(0.01), bias_regularizer=R.L2(0.02),
                                  kernel_constraint=C.UnitNorm(), bias_constraint=C.MaxNorm(0.5), name="mha")(h, h)
    h = layers.Flatten(name="flatten")(h)
    return keras.Model(inp, layers.Dense(2, name="out")(h)), (4, 4, 3)


out = {"keras": keras.__version__, "cases": {}}
for index, build in enumerate([norms, prelu, conv1d, conv2d, convlstm1d, convlstm2d, convlstm3d, attention]):
    keras.utils.set_random_seed(100 + index)
    rng = np.random.default_rng(2500 + index)
    model, x_shape = build()
    weights = []
    for v in model.weights:
        if "variance" in v.path:
            weights.append(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        else:
            weights.append(rng.normal(0.0, 0.5, v.shape).astype("float32"))
    model.set_weights(weights)
    x = rng.normal(0.0, 1.0, x_shape).astype("float32")
    y = rng.normal(0.0, 1.0, (x_shape[0], 2)).astype("float32")
    penalty = float(sum(float(keras.ops.convert_to_numpy(l)) for l in model.losses))
    model.compile(keras.optimizers.SGD(0.1), "mse")
    losses, steps = [], []
    for _ in range(3):
        losses.append(float(model.train_on_batch(x, y)))
        steps.append([np.asarray(w, dtype="float64").tolist() for w in model.get_weights()])
    out["cases"][build.__name__] = {
        "x": x.tolist(),
        "y": y.tolist(),
        "paths": [v.path for v in model.weights],
        "initial_weights": [w.tolist() for w in weights],
        "initial_penalty": penalty,
        "losses": losses,
        "weights_after_step": steps,
        "configs": {layer.name: layer.get_config() for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)},
    }

path = os.path.join("test", "CnnLstm.Functional.Tests", "Layers", "KerasFixtures", "constraints", "layer_constraints.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path, os.path.getsize(path), "bytes")
