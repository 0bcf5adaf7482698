"""Keras 3.16 reference for weight initializers (issue 25: keras.initializers).

get_config and serialize of every class with non-default arguments, keras.initializers.get on every name and alias,
the argument errors Keras raises, compute_fans, and a small model whose layers take initializers of every kind of
argument (seeded, constant, by name): its to_json() and each layer's get_config(). Values drawn by Keras' backends
differ from this library's (each backend draws its own numbers for a seed), so no random values are recorded; the
constant ones (Constant, Identity, Ones, Zeros) are.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/initializers.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/initializers.py
"""
import json
import os

import numpy as np
import keras
from keras import initializers
from keras.src.initializers.random_initializers import compute_fans

out = {"keras": keras.__version__}

cases = {
    "Constant(0.3)": initializers.Constant(0.3),
    "Zeros()": initializers.Zeros(),
    "Ones()": initializers.Ones(),
    "Identity(2.5)": initializers.Identity(gain=2.5),
    "RandomNormal(1.0,0.2,seed=3)": initializers.RandomNormal(mean=1.0, stddev=0.2, seed=3),
    "RandomUniform(-1.0,2.0,seed=4)": initializers.RandomUniform(minval=-1.0, maxval=2.0, seed=4),
    "TruncatedNormal(0.5,0.1,seed=5)": initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=5),
    "VarianceScaling(0.5,fan_out,uniform,seed=6)": initializers.VarianceScaling(scale=0.5, mode="fan_out", distribution="uniform", seed=6),
    "VarianceScaling(2.0,fan_avg,Normal)": initializers.VarianceScaling(scale=2.0, mode="fan_avg", distribution="Normal"),
    "VarianceScaling(1.0,fan_in,untruncated_normal,axes)": initializers.VarianceScaling(distribution="untruncated_normal", input_axes=[0, 1], output_axes=[2]),
    "GlorotNormal(seed=7)": initializers.GlorotNormal(seed=7),
    "GlorotUniform(seed=8)": initializers.GlorotUniform(seed=8),
    "HeNormal(seed=9)": initializers.HeNormal(seed=9),
    "HeUniform(seed=10)": initializers.HeUniform(seed=10),
    "LecunNormal(seed=11)": initializers.LecunNormal(seed=11),
    "LecunUniform(seed=12)": initializers.LecunUniform(seed=12),
    "Orthogonal(1.5,seed=13)": initializers.Orthogonal(gain=1.5, seed=13),
}
out["get_config"] = {name: i.get_config() for name, i in cases.items()}
out["serialize"] = {name: initializers.serialize(i) for name, i in cases.items()}

names = ["zeros", "Zeros", "zero", "ones", "Ones", "one", "identity", "Identity", "IdentityInitializer",
         "random_normal", "RandomNormal", "normal", "random_uniform", "RandomUniform", "uniform", "truncated_normal",
         "TruncatedNormal", "variance_scaling", "VarianceScaling", "glorot_normal", "GlorotNormal", "glorot_uniform",
         "GlorotUniform", "he_normal", "HeNormal", "he_uniform", "HeUniform", "lecun_normal", "LecunNormal",
         "lecun_uniform", "LecunUniform", "orthogonal", "Orthogonal", "OrthogonalInitializer"]
got = {}
for name in names:
    s = initializers.serialize(initializers.get(name))
    if "seed" in s["config"]:
        s["config"]["seed"] = None  # an unseeded initializer's config writes its given seed (None)
    got[name] = s
out["get"] = got
refused = {}
# "constant" / "Constant": Constant.from_config reads config["value"], so get() on the bare name raises KeyError.
for name in ["glorot", "xavier", "he", "Glorot_Uniform", "randomnormal", "constant", "Constant"]:
    try:
        initializers.get(name)
        refused[name] = None
    except (ValueError, KeyError) as e:
        refused[name] = f"{type(e).__name__}: {e}"
out["get_refused"] = refused

errors = {}
for label, make in {
    "scale=-1": lambda: initializers.VarianceScaling(scale=-1.0),
    "scale=0": lambda: initializers.VarianceScaling(scale=0.0),
    "mode=invalid_mode": lambda: initializers.VarianceScaling(mode="invalid_mode"),
    "distribution=invalid": lambda: initializers.VarianceScaling(distribution="invalid"),
    "Orthogonal rank 1": lambda: initializers.Orthogonal()((5,)),
    "Identity rank 3": lambda: initializers.Identity()((2, 2, 2)),
    "RandomUniform int32": lambda: initializers.RandomUniform()((2, 2), dtype="int32"),
    "RandomNormal int32": lambda: initializers.RandomNormal()((2, 2), dtype="int32"),
}.items():
    try:
        make()
        errors[label] = None
    except Exception as e:  # torch's RuntimeError for a normal draw of an integer dtype
        errors[label] = f"{type(e).__name__}: {e}"
out["errors"] = errors

out["fans"] = {str(list(s)): list(compute_fans(s)) for s in [(), (7,), (3, 5), (2, 3, 4), (3, 3, 2, 8)]}
out["fans_axes"] = {"(8,64,64),[0],[1,2]": list(compute_fans((8, 64, 64), [0], [1, 2])), "(4,5,6),[-1],[0,1]": list(compute_fans((4, 5, 6), [-1], [0, 1]))}
out["values"] = {
    "Constant(0.3)(2,3)": np.asarray(initializers.Constant(0.3)((2, 3))).tolist(),
    "Identity(2.5)(3,4)": np.asarray(initializers.Identity(gain=2.5)((3, 4))).tolist(),
    "Identity()(3,2)": np.asarray(initializers.Identity()((3, 2))).tolist(),
    "Ones()(2,2)": np.asarray(initializers.Ones()((2, 2))).tolist(),
    "Constant(3.7)(2,) int32": np.asarray(initializers.Constant(3.7)((2,), dtype="int32")).tolist(),
}


def build():
    inp = keras.Input((5, 3), name="x")
    h = keras.layers.Conv1D(4, 2, kernel_initializer="he_uniform", bias_initializer=initializers.Constant(0.1), name="conv1d")(inp)
    h = keras.layers.BatchNormalization(gamma_initializer=initializers.Constant(2.0), beta_initializer="ones",
                                        moving_mean_initializer=initializers.Constant(0.5), moving_variance_initializer=initializers.Constant(4.0),
                                        name="bn")(h)
    h = keras.layers.LSTM(3, kernel_initializer=initializers.LecunNormal(seed=1), recurrent_initializer=initializers.Orthogonal(gain=2.0, seed=2),
                          bias_initializer=initializers.RandomUniform(-0.1, 0.1, seed=4), name="lstm")(h)
    h = keras.layers.Dense(4, kernel_initializer=initializers.HeNormal(seed=3), bias_initializer=initializers.Constant(0.25), name="dense")(h)
    h = keras.layers.Dense(2, kernel_initializer=initializers.VarianceScaling(0.5, "fan_out", "uniform", seed=5),
                           bias_initializer="zeros", name="out")(h)
    return keras.Model(inp, h)


model = build()
out["model_json"] = json.loads(model.to_json())
out["configs"] = {layer.name: layer.get_config() for layer in model.layers}
out["weights"] = {v.path: np.asarray(v).tolist() for v in model.weights
                  if v.path.split("/")[0] in ("conv1d", "bn", "dense") and v.path.endswith(("bias", "gamma", "beta", "moving_mean", "moving_variance"))}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "initializers.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
