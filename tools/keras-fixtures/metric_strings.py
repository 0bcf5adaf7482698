"""Keras 3.16 reference for issue 25: the metric strings keras.metrics.get accepts (class names such as "AUC",
"MeanSquaredError", aliases "MSE"/"MAE", any case of "accuracy"/"acc"), what each resolves to in compile
(keras/src/trainers/compile_utils.py get_metric: "accuracy"/"acc" in any case by output and loss, otherwise
metrics.get, an instance of the class with default arguments renamed to the string), the name it is logged under
(fit history keys, evaluate keys) and its value on fixed predictions; and the default names of unnamed
TruePositives/FalsePositives/TrueNegatives/FalseNegatives (numbered from the second instance).

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/metric_strings.json. Run with the real-Keras environment:
    source /work/shared/tools/real-keras/env.sh /work/real-keras && /usr/bin/python3 tools/keras-fixtures/metric_strings.py
"""
import json
import os

import numpy as np
import keras

rng = np.random.default_rng(25)
out = {"keras": keras.__version__, "cases": {}, "default_names": {}}

# Identity models: the predictions are the inputs, so every value is fixed (as metrics.py).
p_bin = rng.uniform(0.02, 0.98, (10, 1)).astype("float32")
y_bin = (rng.uniform(size=(10, 1)) > 0.5).astype("float32")
p_cat = rng.uniform(0.05, 1.0, (10, 3)).astype("float32")
p_cat = p_cat / p_cat.sum(axis=1, keepdims=True)
y_ids = rng.integers(0, 3, (10,))
y_cat = np.eye(3, dtype="float32")[y_ids]
y_sparse = y_ids.astype("float32").reshape(10, 1)
p_reg = rng.normal(size=(10, 2)).astype("float32")
y_reg = rng.normal(size=(10, 2)).astype("float32")

DATA = {
    "binary": ("binary_crossentropy", p_bin, y_bin),
    "categorical": ("categorical_crossentropy", p_cat, y_cat),
    "sparse": ("sparse_categorical_crossentropy", p_cat, y_sparse),
    "regression": ("mse", p_reg, y_reg),
}

STRINGS = {
    "binary": ["AUC", "Precision", "Recall", "Accuracy", "ACC", "Acc", "ACCURACY", "BinaryAccuracy", "MeanSquaredError",
               "MeanAbsoluteError", "RootMeanSquaredError", "MSE", "MAE", "TruePositives", "true_positives"],
    "categorical": ["Accuracy", "ACC", "CategoricalAccuracy", "MSE"],
    "sparse": ["Accuracy", "acc", "SparseCategoricalAccuracy"],
    "regression": ["MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError", "MSE", "MAE", "mse", "mae",
                   "root_mean_squared_error", "CosineSimilarity", "LogCoshError"],
}


def identity(units):
    inp = keras.Input((units,))
    return keras.Model(inp, keras.layers.Activation("linear")(inp))


for kind, strings in STRINGS.items():
    loss, p, y = DATA[kind]
    for text in strings:
        keras.backend.clear_session()
        model = identity(p.shape[1])
        model.compile(optimizer="sgd", loss=loss, metrics=[text])
        result = model.evaluate(p, y, batch_size=4, verbose=0, return_dict=True)
        history = model.fit(p, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        compiled = model._compile_metrics._flat_metrics if hasattr(model._compile_metrics, "_flat_metrics") else None
        metric = [m for m in model.metrics if m.name not in ("loss",)][0]
        inner = getattr(metric, "metrics", [metric])
        out["cases"][f"{kind}:{text}"] = {
            "kind": kind, "loss": loss, "metric": text,
            "class": type(inner[0]).__name__ if inner else None,
            "history_keys": sorted(history.history.keys()),
            "evaluate": {k: float(v) for k, v in result.items()},
        }

keras.backend.clear_session()
for cls in (keras.metrics.TruePositives, keras.metrics.FalsePositives, keras.metrics.TrueNegatives, keras.metrics.FalseNegatives):
    out["default_names"][cls.__name__] = [cls().name, cls().name, cls(name="mine").name, cls().name]

out["p_bin"], out["y_bin"] = p_bin.tolist(), y_bin.tolist()
out["p_cat"], out["y_cat"], out["y_sparse"] = p_cat.tolist(), y_cat.tolist(), y_sparse.tolist()
out["p_reg"], out["y_reg"] = p_reg.tolist(), y_reg.tolist()

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "metric_strings.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(path))
