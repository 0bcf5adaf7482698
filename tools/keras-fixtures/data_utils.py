"""Keras 3.16 reference values for the data utilities (issue 26) that run without TensorFlow.

- keras.utils.to_categorical on shapes (trailing-1 squeeze, scalars, empty input), num_classes given/inferred/0,
  and the errors it raises (an id >= num_classes, no num_classes on empty input).
- dataset_utils._rescale_dataset_split_sizes (split_dataset's size rules: int counts, float fractions, the
  complement, round-half-even) with its results and error messages.
- dataset_utils.index_directory (text_dataset_from_directory's file order and class indices) on a folder built
  here: class subfolders with nested folders, upper-case .TXT, hidden folders, files at the top, names that sort
  differently by case and digits; inferred labels, given class_names, no labels, shuffle=False; and
  get_training_or_validation_split's counts and check_validation_split_arg's errors.

timeseries_dataset_from_array and the datasets text_dataset_from_directory builds need TensorFlow (not installable
here); their expectations are computed by hand in the tests.

Writes test/CnnLstm.Functional.Tests/Datasets/KerasFixtures/data_utils.json. Run from the repository root:
    source ../shared/tools/real-keras/env.sh && /usr/bin/python3 tools/keras-fixtures/data_utils.py
"""
import json
import os
import shutil
import tempfile

import numpy as np
import keras
from keras.src.utils import dataset_utils

out = {"keras": keras.__version__}


def error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return {"type": type(e).__name__, "message": str(e)}
    return None


# to_categorical
cases = []
for x, n in [
    ([0, 1, 2, 3], 4),
    ([0, 2, 5], None),
    ([[1], [0], [2]], 3),
    ([[[1], [0]], [[2], [2]]], None),
    ([[1, 0], [2, 1]], 3),
    ([[1, 2, 0]], None),
    ([3], 5),
    (2, 4),
    ([1, 0], 0),
    ([[0]], 2),
]:
    y = keras.utils.to_categorical(np.array(x), n)
    cases.append({"x": x, "num_classes": n, "shape": list(y.shape), "dtype": str(y.dtype), "y": y.tolist()})
empty = keras.utils.to_categorical(np.zeros((0,), "int64"), 3)
cases.append({"x": [], "num_classes": 3, "shape": list(empty.shape), "dtype": str(empty.dtype), "y": empty.tolist()})
out["to_categorical"] = cases
out["to_categorical_errors"] = {
    "id_too_large": error(lambda: keras.utils.to_categorical(np.array([0, 3]), 3)),
    "empty_inferred": error(lambda: keras.utils.to_categorical(np.zeros((0,), "int64"))),
}

# split sizes
sizes = []
for left, right, total in [
    (0.8, None, 10), (None, 0.2, 10), (3, None, 10), (None, 3, 10), (0.5, 0.25, 8), (4, 2, 10),
    (0.25, None, 10), (0.35, None, 10), (0.45, None, 10), (None, 0.25, 10), (0.5, None, 5), (0.3, 0.3, 5),
    (1, 0.5, 4), (0.1, None, 3), (None, 0.9, 3), (0, 0, 10), (None, None, 10), (1.0, None, 10), (10, None, 10),
    (-1, None, 10), (None, 0.0, 10), (0.6, 0.5, 10), (7, 4, 10), (0.01, None, 10), ("a", None, 10),
]:
    entry = {"left": left, "right": right, "total": total}
    try:
        entry["result"] = list(dataset_utils._rescale_dataset_split_sizes(left, right, total))
    except Exception as e:  # noqa: BLE001
        entry["error"] = {"type": type(e).__name__, "message": str(e)}
    sizes.append(entry)
out["split_sizes"] = sizes

# index_directory
root = tempfile.mkdtemp(prefix="kerasstyle-index-")
layout = [
    "b_class/z.txt", "b_class/a.txt", "b_class/B.txt", "b_class/10.txt", "b_class/9.txt", "b_class/nested/deep/x.txt",
    "b_class/nested/y.txt", "b_class/upper.TXT", "b_class/skip.md", "A_class/k.txt", "A_class/sub/k.txt",
    "a_class/one.txt", "a_class/Two.txt", ".hidden/h.txt", "top.txt", "empty_class/readme.md",
]
for rel in layout:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(rel)
index = {"layout": layout}


def relative(paths):
    return [os.path.relpath(p, root).replace(os.sep, "/") for p in paths]


for name, kwargs in [
    ("inferred", {"labels": "inferred"}),
    ("class_names", {"labels": "inferred", "class_names": ["b_class", "a_class"]}),
    ("none", {"labels": None}),
    ("inferred_shuffled", {"labels": "inferred", "shuffle": True, "seed": 1337}),
]:
    paths, labels, class_names = dataset_utils.index_directory(
        root, formats=(".txt",), verbose=False, **{"shuffle": False, **kwargs})
    index[name] = {
        "paths": relative(paths),
        "labels": None if labels is None else [int(v) for v in labels],
        "class_names": class_names,
    }
given = list(range(len(index["none"]["paths"])))
given = [v % 3 * 2 for v in given]
paths, labels, class_names = dataset_utils.index_directory(
    root, labels=given, formats=(".txt",), shuffle=False, verbose=False)
index["given"] = {"labels_in": given, "paths": relative(paths), "labels": list(labels), "class_names": class_names}
index["errors"] = {
    "class_names_mismatch": error(lambda: dataset_utils.index_directory(
        root, "inferred", formats=(".txt",), class_names=["a_class", "wrong"], shuffle=False, verbose=False)),
    "labels_length": error(lambda: dataset_utils.index_directory(
        root, [0, 1], formats=(".txt",), shuffle=False, verbose=False)),
}
shutil.rmtree(root)
out["index_directory"] = index

splits = []
for n, v in [(10, 0.2), (7, 0.3), (3, 0.5), (5, 0.1), (9, 0.99)]:
    tr, _ = dataset_utils.get_training_or_validation_split(list(range(n)), None, v, "training")
    va, _ = dataset_utils.get_training_or_validation_split(list(range(n)), None, v, "validation")
    splits.append({"n": n, "validation_split": v, "training": tr, "validation": va})
out["validation_splits"] = splits
out["validation_split_errors"] = {
    "split_2": error(lambda: dataset_utils.check_validation_split_arg(2, "training", False, 1)),
    "subset_other": error(lambda: dataset_utils.check_validation_split_arg(0.2, "other", False, 1)),
    "subset_without_split": error(lambda: dataset_utils.check_validation_split_arg(0.0, "training", False, 1)),
    "split_without_subset": error(lambda: dataset_utils.check_validation_split_arg(0.2, None, False, 1)),
    "no_seed": error(lambda: dataset_utils.check_validation_split_arg(0.2, "training", True, None)),
}

# The shuffles: NumPy's legacy RandomState (index_directory, timeseries_dataset_from_array's start positions) and
# Python's random (split_dataset's tf.data path: random.seed(seed); random.shuffle(list)).
import random as pyrandom

shuffles = []
for seed, n in [(0, 10), (1337, 16), (123, 6), (4294967295, 7), (42, 1000)]:
    a = np.arange(n, dtype="int32")
    np.random.RandomState(seed).shuffle(a)
    b = list(range(n))
    pyrandom.seed(seed)
    pyrandom.shuffle(b)
    shuffles.append({"seed": seed, "n": n, "numpy": a.tolist(), "python": b})
for seed in [2**40 + 5, -3]:
    b = list(range(20))
    pyrandom.seed(seed)
    pyrandom.shuffle(b)
    shuffles.append({"seed": seed, "n": 20, "numpy": None, "python": b})
out["shuffles"] = shuffles

target = os.path.join("test", "CnnLstm.Functional.Tests", "Datasets", "KerasFixtures", "data_utils.json")
with open(target, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", target)
