"""Writes the crafted HDF5 files of test/CnnLstm.Functional.Tests/Saving/BreakFiles (issue 20, section 3).

Each is a weights file for Input(3) -> Dense(2) (kernel (3, 2), bias (2,)) in the Keras 3 layout
(layers/dense/vars/0..1) or the Keras 2 layout (layer_names, dense/dense/kernel:0), broken in one way:
link cycles (hard and soft), soft and external links, external and virtual storage, a dataset declared huge
but never written, chunks far larger than their dataset, a deflate bomb, and attributes (weight_names) declaring
far more values than they hold, directly or through a global heap object. Run with Debian's python3 and
h5py (apt-get install python3-h5py) from any directory:

    /usr/bin/python3 tools/break-files/make_break_files.py
"""
import os
import struct
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


def keras2(name, strings=None):
    """A valid Keras 2 weights file, left open for the caller to break; strings=h5py.string_dtype() writes
    weight_names as variable-length strings (in the global heap) instead of fixed-length ones."""
    f = h5py.File(os.path.join(OUT, name), "w")
    f.attrs["layer_names"] = np.asarray([b"dense"])
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = b"2.1.6"
    group = f.create_group("dense")
    group.attrs.create("weight_names", np.asarray([b"dense/kernel:0", b"dense/bias:0"]), dtype=strings)
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


def patch(name, edit):
    """Rewrites bytes of a written file: edit(data, at) where at is the offset of the name 'weight_names'."""
    file = os.path.join(OUT, name)
    with open(file, "rb") as f:
        data = bytearray(f.read())
    edit(data, data.find(b"weight_names"))
    with open(file, "wb") as f:
        f.write(data)


def declare_elements(type_bytes, count):
    """Sets the dimension and maximum of weight_names' dataspace (a version 1 attribute message: name padded to
    16 bytes, then the datatype padded to type_bytes, then the dataspace's 8-byte prefix) to count."""
    def edit(data, at):
        space = at + 16 + type_bytes
        assert data[space:space + 2] == b"\x01\x01", "weight_names' dataspace is not where expected"
        data[space + 8:space + 24] = struct.pack("<QQ", count, count)
    return edit


def declare_string_size(size):
    """Sets weight_names' fixed string length (bytes 4-7 of its datatype) to size."""
    def edit(data, at):
        data[at + 20:at + 24] = struct.pack("<I", size)
    return edit


def declare_heap_object_size(size):
    """Sets the size of the global heap object holding 'dense/kernel:0' to size."""
    def edit(data, _):
        heap = data.find(b"dense/kernel:0") - 16
        assert data.find(b"GCOL") >= 0 and heap > 0
        data[heap + 8:heap + 16] = struct.pack("<Q", size)
    return edit


# Attributes declaring far more than they hold: libhdf5 refuses them ("data size exceeds buffer size"); PureHDF
# allocated what they declared (1.5 GB for 10^8 strings).
with keras2("attribute_huge_fixed.h5"):
    pass
patch("attribute_huge_fixed.h5", declare_elements(8, 100_000_000))
with keras2("attribute_huge_string.h5"):
    pass
patch("attribute_huge_string.h5", declare_string_size(0xFFFFFFF0))
with keras2("attribute_huge_vlen.h5", strings=h5py.string_dtype()):
    pass
patch("attribute_huge_vlen.h5", declare_elements(24, 100_000_000))
with keras2("global_heap_object_huge.h5", strings=h5py.string_dtype()):
    pass
patch("global_heap_object_huge.h5", declare_heap_object_size(100_000_000))

# Attributes in dense storage (a fractal heap, h5py's libver='latest' beyond 8 attributes), where their sizes are
# not checked: refused like groups in dense link storage.
with h5py.File(os.path.join(OUT, "dense_attributes.weights.h5"), "w", libver="latest") as f:
    f.create_group("vars")
    f["layers/dense/vars/0"] = KERNEL
    f["layers/dense/vars/1"] = BIAS
    for i in range(12):
        f["layers/dense"].attrs[f"note{i}"] = np.arange(4)

# A legacy full-model file whose model_config is 100,000 nested arrays (System.Text.Json stops at 64 levels).
with keras2("deep_config.h5") as f:
    f.attrs["model_config"] = "[" * 100_000 + "]" * 100_000
