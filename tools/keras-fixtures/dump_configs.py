"""Saves both seed models (compiled with Adam) with whatever Keras 3 release is on PYTHONPATH and keeps the
config.json of each .keras file: tools/keras-fixtures/configs_across_versions.sh runs it for every Keras 3 minor
release. Usage: python3 dump_configs.py OUTPUT_FOLDER
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
