"""Saves both seed models (compiled with Adam) with whatever Keras 3 release is on PYTHONPATH and keeps the
config.json of each .keras file; saves the regression model (weights from a fixed seed, non-trivial biases) as
.keras and legacy .h5 with Keras' predictions on fixed inputs. tools/keras-fixtures/configs_across_versions.sh runs
it for every Keras 3 minor release. Usage: python3 dump_configs.py OUTPUT_FOLDER
"""
import json
import os
import sys
import tempfile
import zipfile

import keras

out = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import regression, sentiment  # noqa: E402  the same two models as the other fixtures

for name, build in [("regression", regression), ("sentiment", sentiment)]:
    m = build()
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"] if name == "regression" else ["accuracy"])
    m.build((None, 1, 3) if name == "regression" else (None, 100))
    with tempfile.TemporaryDirectory() as scratch:
        archive = os.path.join(scratch, "m.keras")
        m.save(archive)
        with zipfile.ZipFile(archive) as z:
            config = json.loads(z.read("config.json"))
    path = os.path.join(out, f"keras-{keras.__version__}-{name}.json")
    with open(path, "w") as f:
        json.dump(config, f)
    print(path)

# Whole files: the regression model, saved both ways, with Keras' predictions (dropout is off in predict).
import numpy as np  # noqa: E402

keras.utils.set_random_seed(5)
model = regression()
rng = np.random.default_rng(5)
for layer in model.layers:
    for weight in layer.weights:
        if "bias" in weight.path:
            weight.assign(rng.uniform(-0.2, 0.2, size=weight.shape).astype("float32"))
x = rng.uniform(-1, 1, size=(3, 1, 3)).astype("float32")
# Predict first: a release whose LSTM cannot run on this torch (3.3) then leaves no files without predictions.
y = np.asarray(model.predict(x, verbose=0), dtype="float64")
prefix = os.path.join(out, f"keras-{keras.__version__}-regression-model")
model.save(prefix + ".keras")
model.save(prefix + ".h5")
with open(prefix + ".predictions.json", "w") as f:
    json.dump({"x": x.tolist(), "y": y.tolist()}, f)
