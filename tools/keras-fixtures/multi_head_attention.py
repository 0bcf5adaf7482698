"""Writes the MultiHeadAttention and EinsumDense fixtures (issue 24) under
test/CnnLstm.Functional.Tests/Layers/Attention/KerasFixtures/mha/.

Run from the repository root with real Keras 3.16 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/multi_head_attention.py
Files (CI never runs Python):
  <case>.keras / <case>.h5   one small model per option (float inputs): self, cross (key given), attention_mask (an
                             input), causal, output_shape, axes2 (attention over 2 axes of rank-4 inputs), scores
                             (return_attention_scores, the scores as a second output), dropout, masked (Embedding
                             masks on query and value), einsum (EinsumDense alone, ellipsis equation)
  mha.json                   inputs, each model's predictions, param count, layer config, weight paths in the
                             .weights.h5, summary lines, and three Adam training steps (loss, weights after)
"""
import json
import os

import h5py
import numpy as np
import keras

from common import f64

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Attention", "KerasFixtures", "mha")
L = keras.layers


def model(case):
    q = keras.Input(shape=(5, 6), name="q")
    inputs = [q]
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")
    kwargs = {}
    if case == "self":
        result = layer(q, q)
    elif case == "cross":
        v = keras.Input(shape=(4, 7), name="v")
        k = keras.Input(shape=(4, 2), name="k")
        inputs += [v, k]
        layer = L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, name="mha")
        result = layer(q, v, key=k)
    elif case == "attention_mask":
        v = keras.Input(shape=(4, 6), name="v")
        m = keras.Input(shape=(5, 4), name="m")
        inputs += [v, m]
        result = layer(q, v, attention_mask=m)
    elif case == "causal":
        layer = L.MultiHeadAttention(num_heads=2, key_dim=3, use_bias=False, name="mha")
        result = layer(q, q, use_causal_mask=True)
    elif case == "output_shape":
        layer = L.MultiHeadAttention(num_heads=2, key_dim=3, output_shape=(2, 4), name="mha")
        result = layer(q, q)
    elif case == "axes2":
        q = keras.Input(shape=(3, 4, 6), name="q")
        inputs = [q]
        layer = L.MultiHeadAttention(num_heads=2, key_dim=3, attention_axes=(1, 2), name="mha")
        result = layer(q, q)
    elif case == "scores":
        v = keras.Input(shape=(4, 6), name="v")
        inputs += [v]
        result = layer(q, v, return_attention_scores=True)
    elif case == "dropout":
        layer = L.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.3, seed=1, name="mha")
        result = layer(q, q)
    elif case == "masked":
        qi = keras.Input(shape=(5,), dtype="int32", name="qi")
        vi = keras.Input(shape=(4,), dtype="int32", name="vi")
        inputs = [qi, vi]
        qe = L.Embedding(20, 6, mask_zero=True, name="qe")(qi)
        ve = L.Embedding(20, 6, mask_zero=True, name="ve")(vi)
        result = layer(qe, ve)
    elif case == "einsum":
        x = keras.Input(shape=(5, 6), name="q")
        layer = L.EinsumDense("...b,bc->...c", output_shape=4, bias_axes="c", activation="tanh", name="mha")
        inputs = [x]
        result = layer(x)
    else:
        raise ValueError(case)
    outputs = [result[0], result[1]] if isinstance(result, tuple) else [result]
    return keras.Model(inputs, outputs, name=case), layer


CASES = ["self", "cross", "attention_mask", "causal", "output_shape", "axes2", "scores", "dropout", "masked", "einsum"]


def data(m, rng):
    xs = []
    for t in m.inputs:
        shape = (3,) + tuple(t.shape[1:])
        if t.dtype.startswith("int"):
            x = rng.integers(1, 20, size=shape).astype("int32")
            x[1, -2:] = 0
            x[2, -1:] = 0
            if t.name == "qi":
                x[2, :] = 0  # a fully masked query row
        elif t.name == "m":
            x = (rng.uniform(size=shape) > 0.3).astype("float32")
            x[0, 1, :] = 0  # a fully masked row
        else:
            x = rng.uniform(-1, 1, size=shape).astype("float32")
        xs.append(x)
    return xs


def h5_paths(path):
    names = []
    with h5py.File(path) as f:
        f.visititems(lambda n, o: names.append(n + ("" if isinstance(o, h5py.Group) else " " + str(list(o.shape)))))
    return names


def summary_lines(m):
    lines = []
    m.summary(print_fn=lambda s, **k: lines.extend(s.split("\n")))
    return lines


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(24)
    rng = np.random.default_rng(24)
    result = {"keras": keras.__version__, "models": {}}
    for case in CASES:
        m, layer = model(case)
        for w in m.weights:
            w.assign(rng.uniform(-0.6, 0.6, size=w.shape).astype("float32"))
        m.save(os.path.join(OUT, case + ".keras"))
        m.save(os.path.join(OUT, case + ".h5"))
        m.save_weights("/tmp/mha_fixture.weights.h5")
        xs = data(m, rng)
        predictions = m.predict(xs, verbose=0)
        if not isinstance(predictions, list):
            predictions = [predictions]
        entry = {"inputs": [f64(x) for x in xs], "input_names": [t.name for t in m.inputs],
                 "predictions": [f64(p) for p in predictions], "params": int(m.count_params()),
                 "config": layer.get_config(), "model_config": json.loads(m.to_json()),
                 "output_shapes": [list(o.shape) for o in m.outputs],
                 "weight_paths": [w.path for w in m.weights], "h5_paths": h5_paths("/tmp/mha_fixture.weights.h5"),
                 "summary": summary_lines(m)}
        if case in ("self", "masked", "cross", "dropout"):
            t = keras.Model(m.inputs, m.outputs[0])
            t.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
            y = rng.uniform(-1, 1, size=(3,) + tuple(m.outputs[0].shape[1:])).astype("float32")
            losses = [float(t.train_on_batch(xs, y)) for _ in range(3)] if case != "dropout" else []
            if case != "dropout":
                entry["train"] = {"y": f64(y), "losses": losses, "weights_after": [f64(w) for w in t.weights]}
        result["models"][case] = entry
    with open(os.path.join(OUT, "mha.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
