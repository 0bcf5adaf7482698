# Makes test/CnnLstm.Functional.Tests/Layers/KerasFixtures/cudnn/cudnn-keras2.{h5,json}: a Keras 2.2.4-style full-model file
# with CuDNNGRU and Bidirectional(CuDNNLSTM) and random weights, and the prediction of the same model in Keras 3 (GRU
# reset_after=True, LSTM) after Keras 2's _convert_rnn_weights. Run in the folder, with the real-Keras environment
# (source /work/shared/tools/real-keras/env.sh /work/real-keras; KERAS_BACKEND=torch python3 cudnn.py).
import h5py, json, numpy as np, keras
rng = np.random.default_rng(7)
T, F, U1, U2 = 5, 3, 4, 2
def cudnn_cfg(cls, name, units, rs, **extra):
    c = {"name": name, "trainable": True, "return_sequences": rs, "return_state": False, "go_backwards": False, "stateful": False,
         "units": units,
         "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
         "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
         "bias_initializer": {"class_name": "Zeros", "config": {}},
         "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
         "kernel_constraint": None, "recurrent_constraint": None, "bias_constraint": None}
    if cls == "CuDNNLSTM": c["unit_forget_bias"] = True
    c.update(extra)
    return {"class_name": cls, "config": c}
gru = cudnn_cfg("CuDNNGRU", "cu_dnngru_1", U1, True, batch_input_shape=[None, T, F], dtype="float32")
bi = {"class_name": "Bidirectional", "config": {"name": "bidirectional_1", "trainable": True, "layer": cudnn_cfg("CuDNNLSTM", "cu_dnnlstm_1", U2, False), "merge_mode": "concat"}}
dense = {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "units": 1, "activation": "linear", "use_bias": True,
    "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
    "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}
cfg = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": [gru, bi, dense]}}
r = lambda *s: rng.normal(0, 0.5, s).astype(np.float32)
W = {
 "cu_dnngru_1": [("cu_dnngru_1/kernel:0", r(F, 3*U1)), ("cu_dnngru_1/recurrent_kernel:0", r(U1, 3*U1)), ("cu_dnngru_1/bias:0", r(6*U1))],
 "bidirectional_1": [(f"bidirectional_1/{d}_cu_dnnlstm_1/{n}:0", a) for d in ["forward", "backward"] for n, a in [("kernel", r(U1, 4*U2)), ("recurrent_kernel", r(U2, 4*U2)), ("bias", r(8*U2))]],
 "dense_1": [("dense_1/kernel:0", r(2*U2, 1)), ("dense_1/bias:0", r(1))],
}
with h5py.File("cudnn-keras2.h5", "w") as f:
    f.attrs["keras_version"] = b"2.2.4"; f.attrs["backend"] = b"tensorflow"
    f.attrs["model_config"] = json.dumps(cfg).encode()
    g = f.create_group("model_weights")
    g.attrs["layer_names"] = [n.encode() for n in W]
    g.attrs["keras_version"] = b"2.2.4"; g.attrs["backend"] = b"tensorflow"
    for n, ws in W.items():
        lg = g.create_group(n); lg.attrs["weight_names"] = [w[0].encode() for w in ws]
        for wn, a in ws: lg[wn] = a
# Keras 2's _convert_rnn_weights
def tk(k, f, n): return np.hstack([f(x) for x in np.hsplit(k, n)])
def conv(ws, n):
    k, rk, b = [a for _, a in ws]; u = rk.shape[0]
    k = tk(k, lambda K: K.T.reshape(K.shape, order='F'), n); rk = tk(rk, lambda K: K.T, n)
    b = (b[:4*u] + b[4*u:]) if n == 4 else b.reshape(2, -1)
    return [k, rk, b]
m = keras.Sequential([keras.Input((T, F)), keras.layers.GRU(U1, return_sequences=True, reset_after=True),
    keras.layers.Bidirectional(keras.layers.LSTM(U2)), keras.layers.Dense(1)])
m.layers[0].set_weights(conv(W["cu_dnngru_1"], 3))
bw = W["bidirectional_1"]
m.layers[1].set_weights(conv(bw[:3], 4) + conv(bw[3:], 4))
m.layers[2].set_weights([a for _, a in W["dense_1"]])
x = rng.normal(0, 1, (2, T, F)).astype(np.float32)
y = np.asarray(m.predict(x, verbose=0))
json.dump({"x": x.tolist(), "y": y.tolist(), "keras": keras.__version__, "made_by": "gen: Keras 2 _convert_rnn_weights + Keras 3 GRU/LSTM"}, open("cudnn-keras2.json", "w"))
print(y)
