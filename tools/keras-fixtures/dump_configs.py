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
def regression():
    inputs = keras.Input(shape=(1, 3), name="window")
    x = keras.layers.Dropout(0.25)(inputs)
    x = keras.layers.Conv1D(10, 1, padding="valid", activation="relu", strides=1)(x)
    x = keras.layers.MaxPooling1D(pool_size=1)(x)
    x = keras.layers.LSTM(70)(x)
    outputs = keras.layers.Dense(1, activation="linear")(x)
    return keras.Model(inputs, outputs, name="regression")
def sentiment():
    return keras.Sequential([keras.Input(shape=(100,), dtype="int32"), keras.layers.Embedding(2000, 128), keras.layers.Dropout(0.25),
        keras.layers.Conv1D(64, 5, padding="valid", activation="relu", strides=1), keras.layers.MaxPooling1D(pool_size=4),
        keras.layers.LSTM(70), keras.layers.Dense(1), keras.layers.Activation("sigmoid")], name="sentiment")
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
