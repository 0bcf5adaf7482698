"""Writes the crafted HDF5 files of test/CnnLstm.Functional.Tests/Saving/BreakFiles (issue 20, section 3).

Each is a weights file for Input(3) -> Dense(2) (kernel (3, 2), bias (2,)) in the Keras 3 layout
(layers/dense/vars/0..1) or the Keras 2 layout (layer_names, dense/dense/kernel:0), broken in one way:
link cycles (hard and soft), soft and external links, external and virtual storage, a dataset declared huge
but never written, chunks far larger than their dataset, and a deflate bomb. Run with Debian's python3 and
h5py (apt-get install python3-h5py) from any directory:

    /usr/bin/python3 tools/break-files/make_break_files.py
"""
import os
import zlib

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Saving", "BreakFiles")
KERNEL = np.arange(6, dtype=np.float32).reshape(3, 2) / 10
BIAS = np.array([0.5, -0.5], dtype=np.float32)


def keras3(name, kernel=True):
    """A valid Keras 3 weights file, left open for the caller to break; kernel=False leaves vars/0 out."""
    f = h5py.File(os.path.join(OUT, name), "w")
    f.create_group("vars")
    dense_vars = f.create_group("layers/dense/vars")
    if kernel:
        dense_vars["0"] = KERNEL
    dense_vars["1"] = BIAS
    return f


def keras2(name):
    """A valid Keras 2 weights file, left open for the caller to break."""
    f = h5py.File(os.path.join(OUT, name), "w")
    f.attrs["layer_names"] = np.asarray([b"dense"])
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = b"2.1.6"
    group = f.create_group("dense")
    group.attrs["weight_names"] = np.asarray([b"dense/kernel:0", b"dense/bias:0"])
    group["dense/kernel:0"] = KERNEL
    group["dense/bias:0"] = BIAS
    return f


os.makedirs(OUT, exist_ok=True)

# Hard links: a group linking to itself, to the root, and a Keras 2 layer group linking to the root.
with keras3("hard_cycle_self.weights.h5") as f:
    f["layers/dense/loop"] = f["layers/dense"]
with keras3("hard_cycle_root.weights.h5") as f:
    f["layers/dense/vars/up"] = f["/"]
with keras2("hard_cycle_legacy.h5") as f:
    f["dense/up"] = f["/"]

# Soft links: to itself, to a parent, and a plain one Keras refuses too.
with keras3("soft_cycle_self.weights.h5") as f:
    f["layers/dense/loop"] = h5py.SoftLink("/layers/dense/loop")
with keras3("soft_cycle_parent.weights.h5") as f:
    f["layers/dense/vars/up"] = h5py.SoftLink("/layers")
with keras2("soft_cycle_legacy.h5") as f:
    f["dense/dense/self"] = h5py.SoftLink("self")

# Links and storage in other files.
with keras3("external_link.weights.h5") as f:
    f["layers/dense/vars/2"] = h5py.ExternalLink("/etc/passwd", "/x")
with keras3("external_storage.weights.h5", kernel=False) as f:
    f["layers/dense/vars"].create_dataset("0", (3, 2), dtype="<f4", external=[("/etc/passwd", 0, 24)])
with keras2("external_storage_legacy.h5") as f:
    del f["dense/dense/kernel:0"]
    f["dense/dense"].create_dataset("kernel:0", (3, 2), dtype="<f4", external=[("/etc/passwd", 0, 24)])
with keras3("virtual.weights.h5", kernel=False) as f:
    layout = h5py.VirtualLayout(shape=(3, 2), dtype="<f4")
    layout[:] = h5py.VirtualSource("/etc/passwd.h5", "x", shape=(3, 2))
    f["layers/dense/vars"].create_virtual_dataset("0", layout)

# Size: a billion floats declared and never written; chunks of 8 MB for 24 bytes; a 24-byte chunk whose
# deflate stream inflates to 64 MiB.
with keras3("huge_unwritten.weights.h5", kernel=False) as f:
    f["layers/dense/vars"].create_dataset("0", (1_000_000_000,), dtype="<f4", chunks=(1_000_000,))
with keras3("huge_chunks.weights.h5", kernel=False) as f:
    f["layers/dense/vars"].create_dataset("0", data=KERNEL, maxshape=(None, None), chunks=(2000, 1000), compression="gzip")
with keras3("deflate_bomb.weights.h5", kernel=False) as f:
    dataset = f["layers/dense/vars"].create_dataset("0", (3, 2), dtype="<f4", chunks=(3, 2), compression="gzip")
    dataset.id.write_direct_chunk((0, 0), zlib.compress(bytes(64 << 20), 9))
