# Makes test/CnnLstm.Functional.Tests/Saving/KerasFixtures/userblock/{userblock.h5,userblock.json}: a small model saved
# by Keras 3.16 as a legacy full-model .h5, copied by h5py into a file with a 512-byte HDF5 user block (text in it, as
# tools that stamp files write), and Keras' prediction for a fixed input. Run in that folder, with the real-Keras
# environment (source /work/shared/tools/real-keras/env.sh /work/real-keras; python3 .../userblock.py).
import json, os, h5py, numpy as np, keras
rng = np.random.default_rng(3)
model = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)])
for w in model.weights:
    w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype("float32"))
model.save("plain.h5")
with h5py.File("plain.h5", "r") as src, h5py.File("userblock.h5", "w", userblock_size=512) as dst:
    for k, v in src.attrs.items():
        dst.attrs[k] = v
    for k in src.keys():
        src.copy(src[k], dst, name=k)
os.remove("plain.h5")
with open("userblock.h5", "r+b") as f:
    f.write(b"user block: written by a tool that stamps its files")
x = rng.uniform(-1, 1, size=(2, 4, 2)).astype("float32")
y = model.predict(x, verbose=0)
json.dump({"x": x.tolist(), "y": np.asarray(y, dtype="float64").tolist()}, open("userblock.json", "w"))
