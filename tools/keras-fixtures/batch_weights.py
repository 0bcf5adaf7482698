"""Keras 3.16 reference values for issue 25's training-vocabulary gaps:
- "on_batch": a Dense(3, softmax) model compiled with SGD, sparse categorical cross-entropy and a weighted
  sparse_categorical_accuracy, run 3 train_on_batch steps with sample weights, one with class_weight, then
  test_on_batch with sample weights (return_dict=True), and its weights after;
- "class_axis_1": a (batch, classes, steps) output (Dense(3) over a (3, 2) sequence, softmax, Permute((2, 1)))
  compiled with SparseCategoricalCrossentropy(axis=1), 3 train_on_batch steps on (batch, steps) class ids (with and
  without (batch, steps) sample weights), evaluate, and the weights after; or Keras' error; and the same model
  compiled with metrics=["accuracy"] on 4 steps (Keras computes it over the last axis: its error);
- "vector_metrics": what Keras logs for F1Score(average=None) and Precision(thresholds=[0.3, 0.5]) in fit's History,
  evaluate (list and return_dict) and train_on_batch: each value's type and length (arrays, not numbers), and
  EarlyStopping's error when it monitors one.
Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/batch_weights.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/batch_weights.py
"""
import json
import os

import numpy as np
import keras

rng = np.random.default_rng(2525)
f32 = lambda a: np.asarray(a, dtype="float32")
out = {}

x = f32(rng.normal(size=(5, 2)))
y = np.asarray([0, 2, 1, 2, 0], dtype="int64")
kernel = f32(rng.normal(size=(2, 3)) * 0.5)
bias = f32([0.1, -0.2, 0.05])
weights = [f32([0.5, 1.0, 2.0, 0.0, 1.5]), f32([1.0, 0.25, 1.0, 3.0, 0.5]), f32([2.0, 2.0, 0.0, 1.0, 1.0])]
class_weight = {0: 2.0, 2: 0.5}
test_weight = f32([1.0, 0.0, 2.0, 0.5, 1.0])

keras.utils.clear_session()
inp = keras.Input((2,))
model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(inp))
model.layers[-1].set_weights([kernel, bias])
model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", weighted_metrics=["sparse_categorical_accuracy"])
steps = [{k: float(v) for k, v in model.train_on_batch(x, y, sample_weight=w, return_dict=True).items()} for w in weights]
steps.append({k: float(v) for k, v in model.train_on_batch(x, y, class_weight=class_weight, return_dict=True).items()})
test = {k: float(v) for k, v in model.test_on_batch(x, y, sample_weight=test_weight, return_dict=True).items()}
try:
    model.train_on_batch(x, y, sample_weight=weights[0], class_weight=class_weight)
    both = None
except ValueError as e:
    both = str(e).split(".")[0]
out["on_batch"] = {"x": x.tolist(), "y": y.tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(),
                   "sample_weights": [w.tolist() for w in weights], "class_weight": {str(k): v for k, v in class_weight.items()},
                   "test_weight": test_weight.tolist(), "steps": steps, "test": test, "both_error": both,
                   "weights_after": [np.asarray(w, dtype="float64").tolist() for w in model.layers[-1].get_weights()]}

x_seq = f32(rng.normal(size=(4, 3, 2)))
ids = np.asarray([[0, 1, 2], [2, 2, 1], [1, 0, 0], [0, 2, 1]], dtype="int64")
seq_weight = f32(rng.uniform(0, 2, size=(4, 3)))
out["class_axis_1"] = {"x": x_seq.tolist(), "y": ids.tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(), "cases": {}}
for case, w in (("unweighted", None), ("weighted", seq_weight)):
    keras.utils.clear_session()
    inp = keras.Input((3, 2))
    dense = keras.layers.Dense(3, activation="softmax")
    output = keras.layers.Permute((2, 1))(dense(inp))
    model = keras.Model(inp, output)
    dense.set_weights([kernel, bias])
    model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(axis=1))
    try:
        losses = [float(model.train_on_batch(x_seq, ids, sample_weight=w)) for _ in range(3)]
        evaluate = float(model.evaluate(x_seq, ids, sample_weight=w, batch_size=4, verbose=0))
        out["class_axis_1"]["cases"][case] = {"sample_weight": None if w is None else w.tolist(), "losses": losses, "evaluate": evaluate,
                                              "weights_after": [np.asarray(v, dtype="float64").tolist() for v in dense.get_weights()]}
    except Exception as e:
        out["class_axis_1"]["cases"][case] = {"error": f"{type(e).__name__}: {e}"}

keras.utils.clear_session()
inp = keras.Input((4, 2))
model = keras.Model(inp, keras.layers.Permute((2, 1))(keras.layers.Dense(3, activation="softmax")(inp)))
model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(axis=1), metrics=["accuracy"])
try:
    model.evaluate(f32(rng.normal(size=(2, 4, 2))), np.asarray([[0, 1, 2, 0], [2, 1, 0, 0]]), verbose=0)
    out["class_axis_1"]["accuracy_4_steps_error"] = None
except Exception as e:
    out["class_axis_1"]["accuracy_4_steps_error"] = f"{type(e).__name__}: {e}"


def described(v):
    a = np.asarray(v)
    return {"type": "array", "length": int(a.size)} if a.ndim > 0 else {"type": "number"}


keras.utils.clear_session()
xv = f32(rng.normal(size=(8, 2)))
yv = np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2, 0, 1]]
inp = keras.Input((2,))
model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(inp))
model.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy",
              metrics=[keras.metrics.F1Score(average=None), keras.metrics.Precision(thresholds=[0.3, 0.5])])
history = model.fit(xv, yv, epochs=2, batch_size=4, verbose=0, validation_data=(xv, yv)).history
vector = {"history": {k: [described(v) for v in values] for k, values in history.items()},
          "evaluate_list": [described(v) for v in model.evaluate(xv, yv, verbose=0)],
          "evaluate_dict": {k: described(v) for k, v in model.evaluate(xv, yv, verbose=0, return_dict=True).items()},
          "train_on_batch": {k: described(v) for k, v in model.train_on_batch(xv, yv, return_dict=True).items()}}
try:
    model.fit(xv, yv, epochs=2, batch_size=4, verbose=0, validation_data=(xv, yv), callbacks=[keras.callbacks.EarlyStopping(monitor="val_f1_score")])
    vector["early_stopping_error"] = None
except Exception as e:
    vector["early_stopping_error"] = f"{type(e).__name__}: {e}"
out["vector_metrics"] = vector

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "batch_weights.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
print(json.dumps({k: v for k, v in out["on_batch"].items() if k in ("steps", "test", "both_error")}))
print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "weights_after"} for k, v in out["class_axis_1"]["cases"].items()}))
print(json.dumps(out["vector_metrics"]), out["class_axis_1"]["accuracy_4_steps_error"])
