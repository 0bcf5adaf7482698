"""Keras 3.16 reference values for issue 25's optimizers: each optimizer (and argument variant) trains a fixed
Dense(3, tanh) > Dense(1) model on fixed data with mse for 3 train_on_batch steps (weights after each step), saves
the model with its optimizer state as .keras, then trains 2 more steps (weights after each), so a reader can load the
file, continue and compare. Also each optimizer's get_config and its variables' names in Keras' order.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/optimizers/ (optimizers.json and <case>.keras). Run from
the repository root with the real-Keras environment (torch backend):
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/optimizers.py
"""
import json
import os

import numpy as np
import keras

OUT = "test/CnnLstm.Functional.Tests/Training/KerasFixtures/optimizers"
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(25)
x = rng.normal(size=(8, 4)).astype("float32")
y = rng.normal(size=(8, 1)).astype("float32")
w0 = [rng.normal(scale=0.5, size=(4, 3)).astype("float32"), rng.normal(scale=0.1, size=(3,)).astype("float32"),
      rng.normal(scale=0.5, size=(3, 1)).astype("float32"), rng.normal(scale=0.1, size=(1,)).astype("float32")]

O = keras.optimizers
cases = {
    "adamw": lambda: O.AdamW(learning_rate=0.05),
    "adamw_args": lambda: O.AdamW(learning_rate=0.02, weight_decay=0.1, beta_1=0.8, beta_2=0.95, epsilon=1e-3, amsgrad=True),
    "nadam": lambda: O.Nadam(learning_rate=0.05),
    "nadam_args": lambda: O.Nadam(learning_rate=0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-3),
    "adamax": lambda: O.Adamax(learning_rate=0.05),
    "adamax_args": lambda: O.Adamax(learning_rate=0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-3),
    "adagrad": lambda: O.Adagrad(learning_rate=0.05),
    "adagrad_args": lambda: O.Adagrad(learning_rate=0.1, initial_accumulator_value=0.5, epsilon=1e-3),
    "adadelta": lambda: O.Adadelta(learning_rate=1.0),
    "adadelta_args": lambda: O.Adadelta(learning_rate=0.5, rho=0.8, epsilon=1e-4),
    "lion": lambda: O.Lion(learning_rate=0.01),
    "lion_args": lambda: O.Lion(learning_rate=0.02, beta_1=0.5, beta_2=0.9),
    "ftrl": lambda: O.Ftrl(learning_rate=0.1),
    "ftrl_args": lambda: O.Ftrl(learning_rate=0.2, learning_rate_power=-0.7, initial_accumulator_value=0.3,
                                l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                                l2_shrinkage_regularization_strength=0.03, beta=0.5),
    "sgd_momentum": lambda: O.SGD(learning_rate=0.1, momentum=0.9),
    "sgd_nesterov": lambda: O.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    "rmsprop_centered_momentum": lambda: O.RMSprop(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True),
    "adam_amsgrad": lambda: O.Adam(learning_rate=0.05, beta_1=0.8, amsgrad=True),
}


def build():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.set_weights(w0)
    return model


out = {"keras": keras.__version__, "x": x.tolist(), "y": y.tolist(), "weights": [w.tolist() for w in w0],
       "saved_after": 3, "cases": {}}
for name, make in cases.items():
    optimizer = make()
    model = build()
    model.compile(optimizer=optimizer, loss="mse")
    steps = []
    for step in range(5):
        if step == 3:
            model.save(f"{OUT}/{name}.keras")
        model.train_on_batch(x, y)
        steps.append([w.tolist() for w in model.get_weights()])
    out["cases"][name] = {
        "class_name": optimizer.__class__.__name__,
        "config": json.loads(json.dumps(optimizer.get_config())),
        "variables": [v.path for v in optimizer.variables],
        "steps": steps,
    }
    # Keras reads its own file back and continues identically.
    again = keras.saving.load_model(f"{OUT}/{name}.keras")
    again.train_on_batch(x, y)
    np.testing.assert_allclose(again.get_weights()[0], np.array(steps[3][0]), rtol=1e-6, atol=1e-7)

# Each class's defaults, as compile("name") builds it.
out["defaults"] = {}
for key in ("adamw", "nadam", "adamax", "adagrad", "adadelta", "lion", "ftrl"):
    optimizer = keras.optimizers.get(key)
    out["defaults"][key] = {"class_name": optimizer.__class__.__name__, "config": json.loads(json.dumps(optimizer.get_config()))}

with open(f"{OUT}/optimizers.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote", len(cases), "cases")
