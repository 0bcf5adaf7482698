"""Keras 3.16 reference values for issue 25's metrics: each metric after two update_state calls with sample
weights (batches of 4 and 3), after reset_state, its get_config, and a model fit 2 epochs logging a few of them.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/metrics_more.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/metrics_more.py
"""
import json
import os

import numpy as np
import keras
from keras import ops

rng = np.random.default_rng(25)
out = {"keras": keras.__version__}

batches = []
for size in (4, 3):
    logits = rng.normal(size=(size, 5)).astype("float32")
    ids = rng.integers(0, 5, size=(size,))
    batches.append({
        "p": rng.uniform(0.02, 0.98, size=(size, 3)).astype("float32").tolist(),
        "binary": rng.integers(0, 2, size=(size, 3)).astype("float32").tolist(),
        "signs": (rng.integers(0, 2, size=(size, 3)) * 2 - 1).astype("float32").tolist(),
        "regression": rng.normal(size=(size, 3)).astype("float32").tolist(),
        "regression_p": rng.normal(size=(size, 3)).astype("float32").tolist(),
        "positive": rng.uniform(0.1, 3.0, size=(size, 3)).astype("float32").tolist(),
        "positive_p": rng.uniform(0.1, 3.0, size=(size, 3)).astype("float32").tolist(),
        "rounded": rng.integers(0, 3, size=(size, 3)).astype("float32").tolist(),
        "rounded_p": rng.integers(0, 3, size=(size, 3)).astype("float32").tolist(),
        "p5": (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype("float32").tolist(),
        "onehot5": np.eye(5, dtype="float32")[ids].tolist(),
        "classes5": ids.astype("float32").tolist(),
        "w": rng.uniform(0, 2, size=(size,)).astype("float32").tolist(),
    })
out["batches"] = batches

M = keras.metrics
metrics = {
    "MeanAbsolutePercentageError": (lambda: M.MeanAbsolutePercentageError(), "positive", "positive_p"),
    "MeanSquaredLogarithmicError": (lambda: M.MeanSquaredLogarithmicError(), "positive", "positive_p"),
    "LogCoshError": (lambda: M.LogCoshError(), "regression", "regression_p"),
    "CosineSimilarity": (lambda: M.CosineSimilarity(), "regression", "regression_p"),
    "R2Score": (lambda: M.R2Score(), "regression", "regression_p"),
    "R2Score_variance": (lambda: M.R2Score(class_aggregation="variance_weighted_average"), "regression", "regression_p"),
    "R2Score_regressors": (lambda: M.R2Score(num_regressors=2), "regression", "regression_p"),
    "Accuracy": (lambda: M.Accuracy(), "rounded", "rounded_p"),
    "Hinge": (lambda: M.Hinge(), "binary", "regression_p"),
    "Hinge_signs": (lambda: M.Hinge(), "signs", "regression_p"),
    "SquaredHinge": (lambda: M.SquaredHinge(), "binary", "regression_p"),
    "CategoricalHinge": (lambda: M.CategoricalHinge(), "onehot5", "p5"),
    "TopKCategoricalAccuracy": (lambda: M.TopKCategoricalAccuracy(), "onehot5", "p5"),
    "TopKCategoricalAccuracy_k2": (lambda: M.TopKCategoricalAccuracy(k=2), "onehot5", "p5"),
    "SparseTopKCategoricalAccuracy": (lambda: M.SparseTopKCategoricalAccuracy(), "classes5", "p5"),
    "SparseTopKCategoricalAccuracy_k2": (lambda: M.SparseTopKCategoricalAccuracy(k=2), "classes5", "p5"),
    "TruePositives": (lambda: M.TruePositives(), "binary", "p"),
    "FalsePositives": (lambda: M.FalsePositives(thresholds=0.3), "binary", "p"),
    "TrueNegatives": (lambda: M.TrueNegatives(), "binary", "p"),
    "FalseNegatives": (lambda: M.FalseNegatives(thresholds=0.7), "binary", "p"),
}
out["metrics"] = {}
for name, (make, target, prediction) in metrics.items():
    metric = make()
    results = []
    for batch in batches:
        metric.update_state(np.asarray(batch[target], "float32"), np.asarray(batch[prediction], "float32"), sample_weight=np.asarray(batch["w"], "float32"))
        results.append(float(ops.convert_to_numpy(metric.result())))
    unweighted = make()
    for batch in batches:
        unweighted.update_state(np.asarray(batch[target], "float32"), np.asarray(batch[prediction], "float32"))
    config = metric.get_config()
    metric.reset_state()
    out["metrics"][name] = {"target": target, "prediction": prediction, "results": results,
                            "unweighted": float(ops.convert_to_numpy(unweighted.result())),
                            "after_reset": float(np.nan_to_num(ops.convert_to_numpy(metric.result()))), "config": config}

# Mean and Sum on values.
values = [np.asarray(b["regression"], "float32") for b in batches]
for name, make in {"Mean": M.Mean, "Sum": M.Sum}.items():
    metric = make()
    results = []
    for v, b in zip(values, batches):
        metric.update_state(v, sample_weight=np.asarray(b["w"], "float32"))
        results.append(float(ops.convert_to_numpy(metric.result())))
    out["metrics"][name] = {"target": "regression", "prediction": None, "results": results, "config": metric.get_config()}

# Fit 2 epochs, a few metrics by string name and object; History values.
x = rng.normal(size=(12, 4)).astype("float32")
y = rng.normal(size=(12, 3)).astype("float32")
kernel = (rng.normal(size=(4, 3)) * 0.5).astype("float32")
bias = np.zeros(3, "float32")
inp = keras.Input((4,))
model = keras.Model(inp, keras.layers.Dense(3)(inp))
model.layers[1].set_weights([kernel, bias])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse",
              metrics=["mape", "msle", "log_cosh_error", "cosine_similarity", M.R2Score(), "hinge", "squared_hinge", "categorical_hinge"])
history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
out["fit"] = {"x": x.tolist(), "y": y.tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(),
              "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
              "compile_metrics": [m if isinstance(m, str) else keras.saving.serialize_keras_object(m) for m in model._compile_config.config["metrics"]] if hasattr(model, "_compile_config") else None}

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "metrics_more.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, default=str)
print("wrote", path, out["fit"]["history"].keys())
