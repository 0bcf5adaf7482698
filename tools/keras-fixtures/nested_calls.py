"""Writes the nested-call fixtures (issue 22) under test/CnnLstm.Functional.Tests/Models/KerasFixtures/nested-calls/.

Run from the repository root with real Keras 3.16 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/nested_calls.py
For each model NAME: NAME.keras, NAME.h5 (legacy), NAME.json (model.to_json()) with NAME.weights.h5, and NAME.npz-free
NAME.expected.json (inputs and Keras' predictions):
  once        j = Input((4,)); Model(j, m0(j)), m0 a functional model built on its own Input (its call on j is node 1)
  twice       m0 called on j and on k; outputs [Concatenate([m0(j), m0(k)]), m0(k)]
  sequential  a Sequential (with an Input) called on j
  deep20      a model inside a model ... 20 levels deep, each level adding a Dense(4, tanh)
"""
import json
import os
import sys

import numpy as np
import keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Models", "KerasFixtures", "nested-calls")
L = keras.layers


def inner(name):
    i = keras.Input((4,), name=f"{name}_in")
    return keras.Model(i, L.Dense(3, activation="tanh", name=f"{name}_dense")(i), name=name)


def once():
    m0 = inner("m0")
    j = keras.Input((4,), name="j")
    return keras.Model(j, m0(j), name="once")


def twice():
    m0 = inner("m0")
    j = keras.Input((4,), name="j")
    k = keras.Input((4,), name="k")
    a, b = m0(j), m0(k)
    return keras.Model([j, k], [L.Concatenate(name="both")([a, b]), b], name="twice")


def sequential():
    s = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="tanh", name="s_dense")], name="s0")
    j = keras.Input((4,), name="j")
    return keras.Model(j, L.Dense(2, name="after")(s(j)), name="sequential")


def deep20():
    i = keras.Input((4,), name="in0")
    m = keras.Model(i, L.Dense(4, activation="tanh", name="dense0")(i), name="level0")
    for level in range(1, 20):
        i = keras.Input((4,), name=f"in{level}")
        m = keras.Model(i, L.Dense(4, activation="tanh", name=f"dense{level}")(m(i)), name=f"level{level}")
    return m


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(22)
    rng = np.random.default_rng(22)
    for name, build in [("once", once), ("twice", twice), ("sequential", sequential), ("deep20", deep20)]:
        model = build()
        for w in model.weights:
            w.assign(rng.uniform(-0.8, 0.8, size=w.shape).astype("float32"))
        inputs = [rng.uniform(-1, 1, size=(3, 4)).astype("float32") for _ in model.inputs]
        outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        model.save(os.path.join(OUT, f"{name}.keras"))
        model.save(os.path.join(OUT, f"{name}.h5"))
        model.save_weights(os.path.join(OUT, f"{name}.weights.h5"))
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            f.write(model.to_json())
        for path in [f"{name}.keras", f"{name}.h5"]:
            again = keras.saving.load_model(os.path.join(OUT, path))
            check = again.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
            check = check if isinstance(check, list) else [check]
            assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(outputs, check)), path
        with open(os.path.join(OUT, f"{name}.expected.json"), "w") as f:
            json.dump({"keras": keras.__version__, "inputs": [x.tolist() for x in inputs],
                       "outputs": [np.asarray(y, dtype="float64").tolist() for y in outputs]}, f)
        print(name, "ok", [np.asarray(y).shape for y in outputs])
    return 0


if __name__ == "__main__":
    sys.exit(main())
