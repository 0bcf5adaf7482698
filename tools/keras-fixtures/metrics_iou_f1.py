"""Keras 3.16 reference values for issue 25's F-score, sensitivity/specificity and IoU metrics: each after two
update_state calls with sample weights (batches of 4 and 3), unweighted, its get_config, and two small models
compiled with several of them, fit 2 epochs and evaluated.

Writes test/CnnLstm.Functional.Tests/Training/KerasFixtures/metrics_iou_f1.json. Run with the real-Keras environment:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/metrics_iou_f1.py
"""
import json
import os

import numpy as np
import keras
from keras import ops

rng = np.random.default_rng(2516)
out = {"keras": keras.__version__}


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


batches = []
for size in (4, 3):
    ids = rng.integers(0, 3, size=(size,))
    pred_ids = rng.integers(0, 3, size=(size,))
    p = rng.uniform(0.02, 0.98, size=(size, 3)).astype("float32")
    p[0, 0] = 0.0  # the bucket below the first threshold
    p[1, 1] = 0.5  # exactly on a threshold
    p[-1, 2] = 1.0
    batches.append({
        "p": p.tolist(),
        "binary": rng.integers(0, 2, size=(size, 3)).astype("float32").tolist(),
        "p3": softmax(rng.normal(size=(size, 3))).astype("float32").tolist(),
        "onehot3": np.eye(3, dtype="float32")[ids].tolist(),
        "classes3": ids.astype("float32").tolist(),
        "pred_classes3": pred_ids.astype("float32").tolist(),
        "onehot_pred3": np.eye(3, dtype="float32")[pred_ids].tolist(),
        "w": rng.uniform(0, 2, size=(size,)).astype("float32").tolist(),
        "int_w": rng.integers(0, 3, size=(size,)).astype("float32").tolist(),
        "int_w3": rng.integers(0, 3, size=(size, 3)).astype("float32").tolist(),
        "w3": rng.uniform(0, 2, size=(size, 3)).astype("float32").tolist(),
    })
out["batches"] = batches

M = keras.metrics
metrics = {
    "F1Score": (lambda: M.F1Score(), "binary", "p"),
    "F1Score_micro": (lambda: M.F1Score(average="micro", threshold=0.5), "binary", "p"),
    "F1Score_macro": (lambda: M.F1Score(average="macro"), "binary", "p3"),
    "F1Score_weighted": (lambda: M.F1Score(average="weighted", threshold=0.3), "binary", "p"),
    "FBetaScore": (lambda: M.FBetaScore(beta=2.0), "onehot3", "p3"),
    "FBetaScore_macro": (lambda: M.FBetaScore(average="macro", beta=0.5, threshold=0.6), "binary", "p"),
    "FBetaScore_weighted": (lambda: M.FBetaScore(average="weighted", beta=3.0), "onehot3", "p3"),
    "PrecisionAtRecall": (lambda: M.PrecisionAtRecall(0.5), "binary", "p"),
    "PrecisionAtRecall_few": (lambda: M.PrecisionAtRecall(0.8, num_thresholds=3), "binary", "p"),
    "PrecisionAtRecall_class": (lambda: M.PrecisionAtRecall(0.4, num_thresholds=7, class_id=2), "binary", "p"),
    "RecallAtPrecision": (lambda: M.RecallAtPrecision(0.6), "binary", "p"),
    "RecallAtPrecision_one": (lambda: M.RecallAtPrecision(0.3, num_thresholds=1), "binary", "p"),
    "SensitivityAtSpecificity": (lambda: M.SensitivityAtSpecificity(0.5), "binary", "p"),
    "SensitivityAtSpecificity_class": (lambda: M.SensitivityAtSpecificity(0.7, num_thresholds=11, class_id=0), "binary", "p"),
    "SpecificityAtSensitivity": (lambda: M.SpecificityAtSensitivity(0.6), "binary", "p"),
    "SpecificityAtSensitivity_few": (lambda: M.SpecificityAtSensitivity(0.9, num_thresholds=2), "binary", "p"),
    "MeanIoU": (lambda: M.MeanIoU(3), "classes3", "pred_classes3"),
    "MeanIoU_ignore": (lambda: M.MeanIoU(3, ignore_class=1), "classes3", "pred_classes3"),
    "MeanIoU_dense": (lambda: M.MeanIoU(3, sparse_y_pred=False), "classes3", "p3"),
    "MeanIoU_float": (lambda: M.MeanIoU(3, sparse_y_true=False, sparse_y_pred=False, dtype="float32"), "onehot3", "p3"),
    "IoU": (lambda: M.IoU(3, [0, 2]), "classes3", "pred_classes3"),
    "IoU_dense": (lambda: M.IoU(3, [1], sparse_y_true=False, sparse_y_pred=False, ignore_class=0), "onehot3", "p3"),
    "BinaryIoU": (lambda: M.BinaryIoU(), "binary", "p"),
    "BinaryIoU_one": (lambda: M.BinaryIoU(target_class_ids=[1], threshold=0.3), "binary", "p"),
    "OneHotIoU": (lambda: M.OneHotIoU(3, [0, 1]), "onehot3", "p3"),
    "OneHotIoU_sparse": (lambda: M.OneHotIoU(3, [2], sparse_y_pred=True), "onehot3", "pred_classes3"),
    "OneHotMeanIoU": (lambda: M.OneHotMeanIoU(3), "onehot3", "p3"),
    "OneHotMeanIoU_float": (lambda: M.OneHotMeanIoU(3, ignore_class=2, dtype="float32"), "onehot3", "p3"),
}


def value(result):
    v = ops.convert_to_numpy(result)
    return v.tolist() if np.ndim(v) else float(v)


out["metrics"] = {}
for name, (make, target, prediction) in metrics.items():
    keras.backend.clear_session()  # default names without suffixes
    metric = make()
    weights = "int_w" if "IoU" in name and "float" not in name else "w"
    if name.startswith("BinaryIoU"):
        weights = "int_w3"  # Keras flattens targets and weights alike: one weight per entry
    results = []
    for batch in batches:
        metric.update_state(np.asarray(batch[target], "float32"), np.asarray(batch[prediction], "float32"), sample_weight=np.asarray(batch[weights], "float32"))
        results.append(value(metric.result()))
    float_weights = None
    if weights == "int_w":
        # Keras' integer state truncates float weights.
        truncated = make()
        for batch in batches:
            truncated.update_state(np.asarray(batch[target], "float32"), np.asarray(batch[prediction], "float32"), sample_weight=np.asarray(batch["w3" if weights == "int_w3" else "w"], "float32"))
        float_weights = value(truncated.result())
    unweighted = make()
    for batch in batches:
        unweighted.update_state(np.asarray(batch[target], "float32"), np.asarray(batch[prediction], "float32"))
    config = metric.get_config()
    metric.reset_state()
    out["metrics"][name] = {"target": target, "prediction": prediction, "weights": weights, "results": results,
                            "unweighted": value(unweighted.result()), "float_weights": float_weights, "config": config}


def fit(name, make_metrics, activation, loss, targets):
    keras.backend.clear_session()
    x = rng.normal(size=(12, 4)).astype("float32")
    kernel = (rng.normal(size=(4, 3)) * 0.5).astype("float32")
    bias = np.zeros(3, "float32")
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(3, activation=activation)(inp))
    model.layers[1].set_weights([kernel, bias])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss=loss, metrics=make_metrics())
    history = model.fit(x, targets, batch_size=4, epochs=2, shuffle=False, verbose=0)
    evaluated = model.evaluate(x, targets, batch_size=5, verbose=0, return_dict=True)
    out[name] = {"x": x.tolist(), "y": np.asarray(targets).tolist(), "kernel": kernel.tolist(), "bias": bias.tolist(),
                 "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
                 "evaluate": {k: float(v) for k, v in evaluated.items()},
                 "compile_metrics": [m if isinstance(m, str) else keras.saving.serialize_keras_object(m) for m in model._compile_config.config["metrics"]]}


fit("fit_binary", lambda: [M.F1Score(average="micro", threshold=0.5), M.FBetaScore(average="weighted", beta=2.0, threshold=0.5),
                           M.PrecisionAtRecall(0.6), M.RecallAtPrecision(0.5, num_thresholds=20), M.SensitivityAtSpecificity(0.5),
                           M.SpecificityAtSensitivity(0.5, class_id=1), M.BinaryIoU()],
    "sigmoid", "binary_crossentropy", rng.integers(0, 2, size=(12, 3)).astype("float32"))
fit("fit_sparse", lambda: [M.MeanIoU(3, sparse_y_pred=False), M.IoU(3, [0, 2], sparse_y_pred=False)],
    "softmax", "sparse_categorical_crossentropy", rng.integers(0, 3, size=(12,)).astype("float32"))
fit("fit_onehot", lambda: [M.OneHotMeanIoU(3), M.OneHotIoU(3, [1]), M.F1Score(average="macro")],
    "softmax", "categorical_crossentropy", np.eye(3, dtype="float32")[rng.integers(0, 3, size=(12,))])

path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "CnnLstm.Functional.Tests", "Training", "KerasFixtures", "metrics_iou_f1.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1, default=str)
print("wrote", path, {k: list(out[k]["history"]) for k in out if k.startswith("fit")})
