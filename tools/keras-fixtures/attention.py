"""Writes the attention-layer fixtures (issue 24) under test/CnnLstm.Functional.Tests/Layers/Attention/KerasFixtures/.

Run from the repository root with real Keras 3.16 (../shared/tools/real-keras: `bash setup.sh; source env.sh`):
    /usr/bin/python3 tools/keras-fixtures/attention.py
Files (CI never runs Python):
  <case>.keras     one small model per option: ids (mask_zero Embedding) > LSTM(return_sequences) > Attention or
                   AdditiveAttention > GlobalAveragePooling1D > Dense; cases: dot, scale_concat (with a key),
                   causal, scores (return_attention_scores, the scores as a second output), dropout, additive,
                   additive_noscale_causal
  attention.json   the inputs (ids with trailing zeros), each model's predictions, param count and attention layer
                   config; eager calls (layer([q, v(, k)], mask=..., ...)) with their weights and outputs
"""
import json
import os

import numpy as np
import keras

from common import f64, randomize_biases

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "CnnLstm.Functional.Tests", "Layers", "Attention", "KerasFixtures")
L = keras.layers


def model(case):
    q_ids = keras.Input(shape=(6,), dtype="int32", name="q_ids")
    v_ids = keras.Input(shape=(7,), dtype="int32", name="v_ids")
    q = L.LSTM(4, return_sequences=True, name="q_lstm")(L.Embedding(20, 5, mask_zero=True, name="q_embedding")(q_ids))
    v = L.LSTM(4, return_sequences=True, name="v_lstm")(L.Embedding(20, 5, mask_zero=True, name="v_embedding")(v_ids))
    inputs = [q_ids, v_ids]
    kwargs = {}
    if case == "dot":
        layer, args = L.Attention(name="attention"), [q, v]
    elif case == "scale_concat":
        k = L.Dense(4, name="key")(v)
        layer, args = L.Attention(use_scale=True, score_mode="concat", name="attention"), [q, v, k]
    elif case == "causal":
        layer, args = L.Attention(use_scale=True, name="attention"), [q, q]
        kwargs = {"use_causal_mask": True}
        inputs = [q_ids]
    elif case == "scores":
        layer, args = L.Attention(name="attention"), [q, v]
        kwargs = {"return_attention_scores": True}
    elif case == "dropout":
        layer, args = L.Attention(dropout=0.4, seed=3, name="attention"), [q, v]
    elif case == "additive":
        layer, args = L.AdditiveAttention(name="attention"), [q, v]
    elif case == "additive_noscale_causal":
        layer, args = L.AdditiveAttention(use_scale=False, name="attention"), [q, q]
        kwargs = {"use_causal_mask": True}
        inputs = [q_ids]
    else:
        raise ValueError(case)
    result = layer(args, **kwargs)
    outputs = [L.Dense(1, name="out")(L.GlobalAveragePooling1D(name="pool")(result[0] if kwargs.get("return_attention_scores") else result))]
    if kwargs.get("return_attention_scores"):
        outputs.append(result[1])
    return keras.Model(inputs, outputs, name=case), layer


CASES = ["dot", "scale_concat", "causal", "scores", "dropout", "additive", "additive_noscale_causal"]


def eager(rng):
    """Direct calls on float tensors with masks, as attention_test.py does."""
    q = rng.uniform(-1, 1, size=(2, 3, 4)).astype("float32")
    v = rng.uniform(-1, 1, size=(2, 5, 4)).astype("float32")
    k = rng.uniform(-1, 1, size=(2, 5, 4)).astype("float32")
    q_mask = np.array([[True, True, False], [True, False, False]])
    v_mask = np.array([[True, True, True, False, False], [True, True, True, True, True]])
    calls = []
    specs = [
        ("dot", lambda: L.Attention(), {}),
        ("dot_scale_key_masks_causal", lambda: L.Attention(use_scale=True), {"key": True, "mask": True, "use_causal_mask": True}),
        ("concat_scale_masks", lambda: L.Attention(use_scale=True, score_mode="concat"), {"mask": True}),
        ("concat_key", lambda: L.Attention(score_mode="concat"), {"key": True}),
        ("additive_masks", lambda: L.AdditiveAttention(), {"mask": True}),
        ("additive_noscale_key_causal", lambda: L.AdditiveAttention(use_scale=False), {"key": True, "use_causal_mask": True}),
    ]
    for name, make, opts in specs:
        layer = make()
        args = [q, v, k] if opts.get("key") else [q, v]
        layer.build([a.shape for a in args])
        for w in layer.weights:
            w.assign(rng.uniform(0.5, 1.5, size=w.shape).astype("float32"))
        out, scores = layer(args, mask=[q_mask, v_mask] if opts.get("mask") else None,
                            use_causal_mask=opts.get("use_causal_mask", False), return_attention_scores=True)
        calls.append({"name": name, "config": layer.get_config(), "key": bool(opts.get("key")), "mask": bool(opts.get("mask")),
                      "use_causal_mask": opts.get("use_causal_mask", False),
                      "weights": [f64(w) for w in layer.weights], "output": f64(out), "scores": f64(scores)})
    return {"q": q.tolist(), "v": v.tolist(), "k": k.tolist(), "q_mask": q_mask.tolist(), "v_mask": v_mask.tolist(), "calls": calls}


def main():
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(24)
    rng = np.random.default_rng(24)
    q_ids = rng.integers(1, 20, size=(5, 6)).astype("int32")
    v_ids = rng.integers(1, 20, size=(5, 7)).astype("int32")
    for row, (nq, nv) in enumerate([(0, 0), (2, 3), (1, 0), (0, 4), (3, 1)]):
        if nq:
            q_ids[row, -nq:] = 0
        if nv:
            v_ids[row, -nv:] = 0
    result = {"keras": keras.__version__, "inputs": {"q_ids": q_ids.tolist(), "v_ids": v_ids.tolist()}, "models": {}}
    for case in CASES:
        m, layer = model(case)
        randomize_biases(m, rng)
        for w in layer.weights:
            w.assign(rng.uniform(0.5, 1.5, size=w.shape).astype("float32"))
        m.save(os.path.join(OUT, case + ".keras"))
        x = [q_ids] if len(m.inputs) == 1 else [q_ids, v_ids]
        predictions = m.predict(x, verbose=0)
        if not isinstance(predictions, list):
            predictions = [predictions]
        result["models"][case] = {"predictions": [f64(p) for p in predictions], "params": int(m.count_params()),
                                  "attention_config": layer.get_config(), "output_shapes": [list(o.shape) for o in m.outputs]}
    result["eager"] = eager(rng)
    with open(os.path.join(OUT, "attention.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
