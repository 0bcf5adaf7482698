'use strict';
// Generates the numerical-parity fixtures of KerasStyle from TensorFlow.js (pure JS CPU backend).
//
//   cd tools/parity && npm ci && node generate.js
//
// Writes one JSON file per case to test/CnnLstm.Functional.Tests/Parity/Fixtures/ (and index.json). The output is
// deterministic: running it twice gives byte-identical files. See README.md for the format.

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const FIXTURE_DIR = path.resolve(__dirname, '..', '..', 'test', 'CnnLstm.Functional.Tests', 'Parity', 'Fixtures');
const FORMAT = 'kerasstyle-parity/1';

// ---------------------------------------------------------------------------------------------------------------
// Deterministic numbers: mulberry32 (32-bit state, one uint32 per call). The C# tests re-implement it for the
// full-size sentiment fixture, whose 2.6 million weights are not stored.
// ---------------------------------------------------------------------------------------------------------------
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// FNV-1a of the case name: each case has its own stream, so adding a case never changes the others.
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(text, 'utf8')) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

// value = fround((2u - 1) * scale): uniform in [-scale, scale), rounded to float32.
function uniformFloats(rng, count, scale, offset = 0) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = Math.fround(offset + (2 * rng() - 1) * scale);
  }
  return out;
}

function uniformInts(rng, count, high) {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = Math.floor(rng() * high);
  }
  return out;
}

const b64 = (typed) => Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString('base64');
const prod = (shape) => shape.reduce((a, b) => a * b, 1);

function encodeTensorData(shape, dtype, typed) {
  return { shape, dtype, data: b64(dtype === 'int32' ? Int32Array.from(typed) : Float32Array.from(typed)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Keras configuration (snake_case, Python Keras names) -> TF.js layer.
// ---------------------------------------------------------------------------------------------------------------
const tfjsActivation = (name) => (name === 'hard_sigmoid' ? 'hardSigmoid' : name);

function makeTfjsLayer(spec) {
  const c = spec.config;
  const name = spec.name;
  switch (spec.class_name) {
    case 'Conv1D':
      return tf.layers.conv1d({
        name,
        filters: c.filters,
        kernelSize: c.kernel_size,
        strides: c.strides,
        // TF.js 4.22 has no causal padding: the reference runs 'valid' on the input left-padded by
        // (kernel_size - 1) * dilation_rate zeros (see causalLeftPadding).
        padding: c.padding === 'causal' ? 'valid' : c.padding,
        dilationRate: c.dilation_rate,
        activation: tfjsActivation(c.activation),
        useBias: c.use_bias,
      });
    case 'MaxPooling1D':
      return tf.layers.maxPooling1d({ name, poolSize: c.pool_size, strides: c.strides, padding: c.padding });
    case 'LSTM':
      return tf.layers.lstm({
        name,
        units: c.units,
        activation: tfjsActivation(c.activation),
        recurrentActivation: tfjsActivation(c.recurrent_activation),
        useBias: c.use_bias,
        returnSequences: c.return_sequences,
        unitForgetBias: c.unit_forget_bias,
      });
    case 'Dense':
      return tf.layers.dense({ name, units: c.units, activation: tfjsActivation(c.activation), useBias: c.use_bias });
    case 'Embedding':
      return tf.layers.embedding({ name, inputDim: c.input_dim, outputDim: c.output_dim, inputLength: c.input_length });
    case 'Dropout':
      return tf.layers.dropout({ name, rate: c.rate });
    case 'Activation':
      return tf.layers.activation({ name, activation: tfjsActivation(c.activation) });
    default:
      throw new Error(`unknown layer class ${spec.class_name}`);
  }
}

// The TF.js configuration as the layer reports it (every default explicit), without initializers, regularizers and
// constraints, which do not matter once the weights are set.
function tfjsConfig(layer) {
  const config = layer.getConfig();
  const kept = {};
  for (const [k, v] of Object.entries(config)) {
    if (!/(Initializer|Regularizer|Constraint)$/.test(k)) {
      kept[k] = v;
    }
  }
  return kept;
}

function causalLeftPadding(spec) {
  const c = spec.config;
  return spec.class_name === 'Conv1D' && c.padding === 'causal' ? (c.kernel_size - 1) * c.dilation_rate : 0;
}

// Builds the TF.js model of a case. A causal Conv1D must read the model input directly: its TF.js input is widened
// by the left padding and the padding is applied to the data (see padInputs).
function buildModel(graph) {
  const tensors = {};
  const inputPadding = {};
  for (const call of graph.calls) {
    const layer = graph.layers.find((l) => l.name === call.layer);
    const pad = causalLeftPadding(layer);
    if (pad > 0) {
      if (!graph.inputs.some((i) => i.name === call.input)) {
        throw new Error('a causal Conv1D must be applied to a model input');
      }
      inputPadding[call.input] = pad;
    }
  }
  const inputs = graph.inputs.map((i) => {
    const shape = i.shape.slice();
    if (inputPadding[i.name]) {
      shape[0] += inputPadding[i.name];
    }
    const t = tf.input({ shape, dtype: i.dtype, name: i.name });
    tensors[i.name] = t;
    return t;
  });
  const layers = {};
  for (const spec of graph.layers) {
    layers[spec.name] = makeTfjsLayer(spec);
  }
  for (const call of graph.calls) {
    tensors[call.output] = layers[call.layer].apply(tensors[call.input]);
  }
  const model = tf.model({ inputs, outputs: graph.outputs.map((o) => tensors[o]), name: 'model' });
  return { model, layers, inputPadding };
}

function padInputs(graph, inputPadding, xs) {
  return xs.map((x, i) => {
    const pad = inputPadding[graph.inputs[i].name];
    return pad ? tf.pad(x, [[0, 0], [pad, 0], [0, 0]]) : x;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Weights: every weight of the model in TF.js getWeights() order (= Keras get_weights() order and layout), each
// drawn uniform in [-scale, scale) from the case's stream.
// ---------------------------------------------------------------------------------------------------------------
function weightList(model) {
  const list = [];
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      list.push({ layer, layerName: layer.name, name: w.originalName.split('/').pop(), shape: w.shape.slice() });
    }
  }
  return list;
}

function defaultScale(w) {
  const [a, b] = w.shape.length >= 2 ? [prod(w.shape.slice(0, -1)), w.shape[w.shape.length - 1]] : [w.shape[0], w.shape[0]];
  switch (w.name) {
    case 'bias':
      return 0.5;
    case 'embeddings':
      return 1.0;
    default: {
      // 1.5 x the glorot_uniform limit: large enough to reach the non-linear parts of every activation.
      return 1.5 * Math.sqrt(6 / (a + b));
    }
  }
}

function setRandomWeights(model, rng, scales, store) {
  const entries = [];
  const byLayer = new Map();
  for (const w of weightList(model)) {
    const key = `${w.layerName}/${w.name}`;
    const scale = scales && scales[key] !== undefined ? scales[key] : (scales && scales[w.name] !== undefined ? scales[w.name] : defaultScale(w));
    const values = uniformFloats(rng, prod(w.shape), scale);
    let sum = 0;
    for (const v of values) {
      sum += v;
    }
    const entry = { layer: w.layerName, name: w.name, shape: w.shape, scale };
    if (store) {
      entry.data = b64(values);
    } else {
      entry.data = null;
      entry.first = Array.from(values.slice(0, 4));
      entry.sum = sum;
    }
    entries.push(entry);
    if (!byLayer.has(w.layer)) {
      byLayer.set(w.layer, []);
    }
    byLayer.get(w.layer).push(tf.tensor(values, w.shape, 'float32'));
  }
  for (const [layer, tensors] of byLayer) {
    layer.setWeights(tensors);
    tensors.forEach((t) => t.dispose());
  }
  return entries;
}

function currentWeights(model) {
  const values = model.getWeights();
  return weightList(model).map((w, i) => ({ layer: w.layerName, name: w.name, shape: w.shape, data: b64(values[i].dataSync()) }));
}

function randomInput(rng, input, batch, range) {
  const shape = [batch, ...input.shape];
  if (input.dtype === 'int32') {
    return { shape, dtype: 'int32', values: uniformInts(rng, prod(shape), input.vocabulary) };
  }
  const [lo, hi] = range || [-2, 2];
  return { shape, dtype: 'float32', values: uniformFloats(rng, prod(shape), (hi - lo) / 2, (hi + lo) / 2) };
}

// ---------------------------------------------------------------------------------------------------------------
// Cases.
// ---------------------------------------------------------------------------------------------------------------
const cases = [];

function single(name, description, inputShape, layerClass, config, options = {}) {
  cases.push({
    name,
    description,
    graph: {
      inputs: [{ name: 'input', shape: inputShape, dtype: options.dtype || 'float32', vocabulary: options.vocabulary }],
      layers: [{ name: options.layerName || 'layer', class_name: layerClass, config }],
      calls: [{ layer: options.layerName || 'layer', input: 'input', output: 'output' }],
      outputs: ['output'],
    },
    batchSizes: options.batchSizes || [1, 4],
    inputRange: options.inputRange,
    scales: options.scales,
    notes: options.notes || [],
  });
}

const conv = (filters, kernelSize, o = {}) => ({
  filters,
  kernel_size: kernelSize,
  strides: o.strides || 1,
  padding: o.padding || 'valid',
  dilation_rate: o.dilation || 1,
  activation: o.activation || 'linear',
  use_bias: o.useBias === undefined ? true : o.useBias,
});

// Conv1D
single('conv1d_valid_relu', 'Conv1D valid, kernel 3, relu', [10, 3], 'Conv1D', conv(4, 3, { activation: 'relu' }));
single('conv1d_valid_linear', 'Conv1D valid, kernel 3, linear', [10, 3], 'Conv1D', conv(4, 3));
single('conv1d_valid_kernel1', 'Conv1D valid, kernel 1 (the regression seed layer)', [1, 3], 'Conv1D', conv(10, 1));
single('conv1d_same_linear_even_kernel', 'Conv1D same, kernel 4 (asymmetric padding), linear', [9, 2], 'Conv1D', conv(3, 4, { padding: 'same' }));
single('conv1d_same_relu', 'Conv1D same, kernel 5, relu', [8, 3], 'Conv1D', conv(5, 5, { padding: 'same', activation: 'relu' }));
single('conv1d_valid_strides2', 'Conv1D valid, kernel 3, strides 2, linear', [11, 3], 'Conv1D', conv(4, 3, { strides: 2 }));
single('conv1d_valid_strides2_relu_even_length', 'Conv1D valid, kernel 3, strides 2, relu, length 10', [10, 2], 'Conv1D', conv(3, 3, { strides: 2, activation: 'relu' }));
single('conv1d_same_strides2', 'Conv1D same, kernel 3, strides 2, linear', [10, 3], 'Conv1D', conv(4, 3, { strides: 2, padding: 'same' }));
single('conv1d_same_strides2_odd', 'Conv1D same, kernel 4, strides 2, length 9, relu', [9, 2], 'Conv1D', conv(3, 4, { strides: 2, padding: 'same', activation: 'relu' }));
single('conv1d_valid_dilation2', 'Conv1D valid, kernel 3, dilation 2, linear', [12, 3], 'Conv1D', conv(4, 3, { dilation: 2 }));
single('conv1d_same_dilation2_relu', 'Conv1D same, kernel 3, dilation 2, relu', [9, 2], 'Conv1D', conv(3, 3, { dilation: 2, padding: 'same', activation: 'relu' }));
single('conv1d_valid_no_bias', 'Conv1D valid, kernel 2, no bias', [6, 4], 'Conv1D', conv(2, 2, { useBias: false }));
single('conv1d_valid_k2_strides3', 'Conv1D valid, kernel 2, strides 3 (stride longer than the kernel)', [10, 2], 'Conv1D', conv(3, 2, { strides: 3 }));
single('conv1d_same_kernel_longer_than_input', 'Conv1D same, kernel 5 over 3 steps, strides 2', [3, 2], 'Conv1D', conv(2, 5, { padding: 'same', strides: 2 }));
const causalNote = 'TF.js 4.22 has no causal padding (conv1dWithBias throws NotImplementedError). Expected outputs are TF.js Conv1D '
  + "'valid' on the input left-padded with (kernel_size - 1) * dilation_rate zeros, which is the definition of causal padding; the "
  + 'inputs stored here are unpadded.';
single('conv1d_causal_k3', 'Conv1D causal, kernel 3, linear', [8, 3], 'Conv1D', conv(4, 3, { padding: 'causal' }), { notes: [causalNote] });
single('conv1d_causal_k3_dilation2_relu', 'Conv1D causal, kernel 3, dilation 2, relu', [9, 2], 'Conv1D', conv(3, 3, { padding: 'causal', dilation: 2, activation: 'relu' }), { notes: [causalNote] });
single('conv1d_causal_k2_strides2', 'Conv1D causal, kernel 2, strides 2, linear', [7, 3], 'Conv1D', conv(2, 2, { padding: 'causal', strides: 2 }), { notes: [causalNote] });
single('conv1d_causal_kernel_longer_than_input', 'Conv1D causal, kernel 4 over 2 steps, tanh', [2, 3], 'Conv1D', conv(2, 4, { padding: 'causal', activation: 'tanh' }), { notes: [causalNote] });

// MaxPooling1D
const pool = (poolSize, strides, padding) => ({ pool_size: poolSize, strides: strides === undefined ? poolSize : strides, padding: padding || 'valid' });
single('maxpool_pool2_valid', 'MaxPooling1D pool 2 (strides 2), valid, odd length', [9, 3], 'MaxPooling1D', pool(2));
single('maxpool_pool4_valid', 'MaxPooling1D pool 4 (strides 4), valid', [13, 2], 'MaxPooling1D', pool(4));
single('maxpool_pool1', 'MaxPooling1D pool 1 (the regression seed layer)', [1, 10], 'MaxPooling1D', pool(1));
single('maxpool_pool3_strides1_valid', 'MaxPooling1D pool 3, strides 1, valid', [7, 2], 'MaxPooling1D', pool(3, 1));
single('maxpool_pool2_strides1_same', 'MaxPooling1D pool 2, strides 1, same', [6, 3], 'MaxPooling1D', pool(2, 1, 'same'));
single('maxpool_pool4_same', 'MaxPooling1D pool 4 (strides 4), same', [10, 2], 'MaxPooling1D', pool(4, 4, 'same'));
single('maxpool_pool3_strides2_same', 'MaxPooling1D pool 3, strides 2, same', [8, 2], 'MaxPooling1D', pool(3, 2, 'same'));
single('maxpool_pool2_strides3_valid', 'MaxPooling1D pool 2, strides 3, valid', [10, 2], 'MaxPooling1D', pool(2, 3));
single('maxpool_pool2_strides3_same', 'MaxPooling1D pool 2, strides 3, same', [10, 2], 'MaxPooling1D', pool(2, 3, 'same'));
single('maxpool_pool5_same_longer_than_input', 'MaxPooling1D pool 5, strides 2, same, over 3 steps', [3, 2], 'MaxPooling1D', pool(5, 2, 'same'));
single('maxpool_pool4_same_all_negative', 'MaxPooling1D pool 4, same, all inputs negative (padding must never win)', [10, 2], 'MaxPooling1D', pool(4, 4, 'same'), { inputRange: [-3, -0.5] });

// LSTM (TF.js defaults to hard_sigmoid, so every case states recurrent_activation)
const lstm = (units, recurrent, returnSequences, o = {}) => ({
  units,
  activation: 'tanh',
  recurrent_activation: recurrent,
  use_bias: o.useBias === undefined ? true : o.useBias,
  return_sequences: returnSequences,
  unit_forget_bias: true,
});
const lstmNote = 'TF.js LSTM defaults to recurrentActivation hardSigmoid (Keras 2.1), tf.keras 2.x / Keras 3 and KerasStyle default to sigmoid: the configuration is explicit.';
single('lstm_seq_sigmoid_u3_in4', 'LSTM 3 units, 4 features, return_sequences, sigmoid', [5, 4], 'LSTM', lstm(3, 'sigmoid', true), { notes: [lstmNote] });
single('lstm_last_sigmoid_u6_in2', 'LSTM 6 units, 2 features, last output, sigmoid', [7, 2], 'LSTM', lstm(6, 'sigmoid', false), { notes: [lstmNote] });
single('lstm_seq_hard_sigmoid_u4_in3', 'LSTM 4 units, 3 features, return_sequences, hard_sigmoid', [6, 3], 'LSTM', lstm(4, 'hard_sigmoid', true), { notes: [lstmNote] });
single('lstm_last_hard_sigmoid_u5_in5', 'LSTM 5 units, 5 features, last output, hard_sigmoid', [4, 5], 'LSTM', lstm(5, 'hard_sigmoid', false), { notes: [lstmNote] });
single('lstm_last_sigmoid_u70_in10', 'LSTM 70 units over 10 features (the regression seed LSTM), sigmoid', [3, 10], 'LSTM', lstm(70, 'sigmoid', false), { notes: [lstmNote], batchSizes: [1, 3] });
single('lstm_seq_hard_sigmoid_u8_in6_long', 'LSTM 8 units, 6 features, 12 steps, return_sequences, hard_sigmoid', [12, 6], 'LSTM', lstm(8, 'hard_sigmoid', true), { notes: [lstmNote] });
single('lstm_last_sigmoid_no_bias', 'LSTM 3 units, no bias, sigmoid', [4, 3], 'LSTM', lstm(3, 'sigmoid', false, { useBias: false }), { notes: [lstmNote] });

// Dense with every activation
for (const act of ['relu', 'sigmoid', 'tanh', 'linear', 'softmax', 'elu', 'selu', 'softplus', 'hard_sigmoid']) {
  single(`dense_${act}`, `Dense 5 units, ${act}`, [6], 'Dense', { units: 5, activation: act, use_bias: true }, { inputRange: [-3, 3] });
}
single('dense_3d_input_tanh', 'Dense 4 units, tanh, on (batch, steps, features)', [3, 5], 'Dense', { units: 4, activation: 'tanh', use_bias: true });
single('dense_no_bias_linear', 'Dense 3 units, no bias', [4], 'Dense', { units: 3, activation: 'linear', use_bias: false });

// Embedding, Dropout, Activation
single('embedding', 'Embedding 12 x 5 over 7 token ids', [7], 'Embedding', { input_dim: 12, output_dim: 5, input_length: 7 }, { dtype: 'int32', vocabulary: 12, batchSizes: [1, 6] });
single('dropout_inference', 'Dropout 0.5 in inference (identity)', [5, 3], 'Dropout', { rate: 0.5 });
{
  const names = ['relu', 'sigmoid', 'tanh', 'linear', 'softmax', 'elu', 'selu', 'softplus', 'softsign', 'hard_sigmoid'];
  cases.push({
    name: 'activation_layers',
    description: 'Activation layers, one per activation, each applied to the same (batch, 3, 4) input (one output each)',
    graph: {
      inputs: [{ name: 'input', shape: [3, 4], dtype: 'float32' }],
      layers: names.map((a) => ({ name: `act_${a}`, class_name: 'Activation', config: { activation: a } })),
      calls: names.map((a) => ({ layer: `act_${a}`, input: 'input', output: `out_${a}` })),
      outputs: names.map((a) => `out_${a}`),
    },
    batchSizes: [1, 4],
    inputRange: [-4, 4],
    notes: ["TF.js has no 'exponential' activation, so it is not covered."],
  });
}

// Seed models
function sentimentGraph(vocabulary, length, embedding) {
  const layers = [
    { name: 'embedding_1', class_name: 'Embedding', config: { input_dim: vocabulary, output_dim: embedding, input_length: length } },
    { name: 'dropout_1', class_name: 'Dropout', config: { rate: 0.25 } },
    { name: 'conv1d_1', class_name: 'Conv1D', config: conv(64, 5, { activation: 'relu' }) },
    { name: 'max_pooling1d_1', class_name: 'MaxPooling1D', config: pool(4) },
    { name: 'lstm_1', class_name: 'LSTM', config: lstm(70, 'sigmoid', false) },
    { name: 'dense_1', class_name: 'Dense', config: { units: 1, activation: 'linear', use_bias: true } },
    { name: 'activation_1', class_name: 'Activation', config: { activation: 'sigmoid' } },
  ];
  return chain([{ name: 'input_1', shape: [length], dtype: 'int32', vocabulary }], layers);
}

function chain(inputs, layers) {
  let previous = inputs[0].name;
  const calls = layers.map((l) => {
    const call = { layer: l.name, input: previous, output: `${l.name}_out` };
    previous = call.output;
    return call;
  });
  return { inputs, layers, calls, outputs: [previous] };
}

function regressionGraph(dropout) {
  return chain([{ name: 'input_1', shape: [1, 3], dtype: 'float32' }], [
    { name: 'dropout_1', class_name: 'Dropout', config: { rate: dropout } },
    { name: 'conv1d_1', class_name: 'Conv1D', config: conv(10, 1) },
    { name: 'max_pooling1d_1', class_name: 'MaxPooling1D', config: pool(1) },
    { name: 'lstm_1', class_name: 'LSTM', config: lstm(70, 'sigmoid', false) },
    { name: 'dense_1', class_name: 'Dense', config: { units: 1, activation: 'linear', use_bias: true } },
  ]);
}

const seedNote = 'Built in C# with the library factory (CnnLstmModels); weights are set in model order with Model.SetWeights. '
  + 'The seed (Keras 2.1.5) LSTM used hard_sigmoid; KerasStyle, tf.keras 2.x and Keras 3 default to sigmoid, which is what the factory builds and what is stated here.';
cases.push({
  name: 'model_sentiment_small',
  description: 'Seed sentiment architecture (Embedding, Dropout 0.25, Conv1D 64x5 relu, MaxPooling1D 4, LSTM 70, Dense 1, sigmoid) with a 500 x 16 embedding over 20 tokens',
  graph: sentimentGraph(500, 20, 16),
  factory: { method: 'Sentiment', args: { maxFeatures: 500, maxLen: 20, embeddingSize: 16 } },
  batchSizes: [1, 4, 30],
  scales: { embeddings: 1.0 },
  notes: [seedNote],
});
cases.push({
  name: 'model_sentiment_full',
  description: 'Seed sentiment model at full size (Embedding 20000 x 128 over 100 tokens, 2,638,895 weights); weights are NOT stored but regenerated from the PRNG (see prng)',
  graph: sentimentGraph(20000, 100, 128),
  factory: { method: 'Sentiment', args: {} },
  batchSizes: [1, 3],
  scales: { embeddings: 1.0 },
  storeWeights: false,
  notes: [seedNote],
});
cases.push({
  name: 'model_regression',
  description: 'Seed regression model exactly (Input 1x3, Dropout 0.25, Conv1D 10x1, MaxPooling1D 1, LSTM 70, Dense 1 linear)',
  graph: regressionGraph(0.25),
  factory: { method: 'Regression', args: {} },
  batchSizes: [1, 5, 32],
  notes: [seedNote],
});
cases.push({
  name: 'graph_two_inputs_shared_dense',
  description: 'Two inputs, a shared Dense applied to both, two outputs (Dense sigmoid head on one branch, Dense softmax head on the other)',
  graph: {
    inputs: [{ name: 'input_a', shape: [6], dtype: 'float32' }, { name: 'input_b', shape: [6], dtype: 'float32' }],
    layers: [
      { name: 'shared', class_name: 'Dense', config: { units: 8, activation: 'relu', use_bias: true } },
      { name: 'head_a', class_name: 'Dense', config: { units: 1, activation: 'sigmoid', use_bias: true } },
      { name: 'head_b', class_name: 'Dense', config: { units: 3, activation: 'softmax', use_bias: true } },
    ],
    calls: [
      { layer: 'shared', input: 'input_a', output: 'h_a' },
      { layer: 'shared', input: 'input_b', output: 'h_b' },
      { layer: 'head_a', input: 'h_a', output: 'out_a' },
      { layer: 'head_b', input: 'h_b', output: 'out_b' },
    ],
    outputs: ['out_a', 'out_b'],
  },
  batchSizes: [1, 5],
  notes: [],
});

// Training cases
const adamKeras = { class_name: 'Adam', config: { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 } };
const sgdMomentum = { class_name: 'SGD', config: { learning_rate: 0.01, momentum: 0.9, nesterov: false } };
const adamNote = 'TF.js 4.22 Adam computes p -= lr * m_hat / (sqrt(v_hat) + eps) while Keras computes p -= lr_t * m / (sqrt(v) + eps) '
  + 'with lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t). These agree exactly when TF.js uses eps_t = eps / sqrt(1 - beta_2^t), '
  + 'so the generator sets optimizer.epsilon to that value before step t (tfjs_epsilon_per_step). The Keras epsilon is config.epsilon.';
const sgdNote = 'TF.js MomentumOptimizer keeps a = m*a + g and p -= lr*a; Keras keeps v = m*v - lr*g and p += v; with a constant learning rate v = -lr*a, so both give the same weights.';
function trainingCase(name, description, graph, optimizer, loss, batch, extra = {}) {
  cases.push({
    name,
    description,
    graph,
    factory: extra.factory,
    batchSizes: [],
    scales: extra.scales,
    training: { optimizer, loss, batch, steps: 3, inputRange: extra.inputRange, target: extra.target },
    notes: [optimizer.class_name === 'Adam' ? adamNote : sgdNote].concat(extra.notes || []),
  });
}
const regressionTarget = { kind: 'regression' };
const binaryTarget = { kind: 'binary' };
const bceNote = 'TF.js binaryCrossentropy clips predictions to [eps, 1 - eps] with eps = backend epsilon = 1e-7 (tfjs_loss_epsilon), '
  + 'turns them back into logits and applies sigmoid cross-entropy; Keras (and KerasStyle) use the logits of the final sigmoid directly. '
  + 'They agree while predictions stay inside the clip range, as here.';
const binaryGraph = () => chain([{ name: 'tokens', shape: [12], dtype: 'int32', vocabulary: 40 }], [
  { name: 'embedding', class_name: 'Embedding', config: { input_dim: 40, output_dim: 8, input_length: 12 } },
  { name: 'conv1d', class_name: 'Conv1D', config: conv(6, 3, { activation: 'relu' }) },
  { name: 'max_pooling1d', class_name: 'MaxPooling1D', config: pool(2) },
  { name: 'lstm', class_name: 'LSTM', config: lstm(5, 'sigmoid', false) },
  { name: 'dense', class_name: 'Dense', config: { units: 1, activation: 'linear', use_bias: true } },
  { name: 'activation', class_name: 'Activation', config: { activation: 'sigmoid' } },
]);
const binaryDenseGraph = () => chain([{ name: 'features', shape: [5], dtype: 'float32' }], [
  { name: 'hidden', class_name: 'Dense', config: { units: 4, activation: 'tanh', use_bias: true } },
  { name: 'output', class_name: 'Dense', config: { units: 1, activation: 'sigmoid', use_bias: true } },
]);
const regressionFactory = { method: 'Regression', args: { dropoutRate: 0.0 } };
trainingCase('train_regression_adam', 'Seed regression model (dropout 0), mse, Adam (Keras defaults), 3 steps on one batch of 16',
  regressionGraph(0.0), adamKeras, 'mean_squared_error', 16, { factory: regressionFactory, target: regressionTarget });
trainingCase('train_regression_sgd_momentum', 'Seed regression model (dropout 0), mse, SGD lr 0.01 momentum 0.9, 3 steps on one batch of 16',
  regressionGraph(0.0), sgdMomentum, 'mean_squared_error', 16, { factory: regressionFactory, target: regressionTarget });
trainingCase('train_binary_adam', 'Small sentiment-like classifier (Embedding 40x8, Conv1D, MaxPooling1D, LSTM 5, Dense, sigmoid), binary_crossentropy, Adam, 3 steps on one batch of 10',
  binaryGraph(), adamKeras, 'binary_crossentropy', 10, { target: binaryTarget, notes: [bceNote] });
trainingCase('train_binary_sgd_momentum', 'Small sentiment-like classifier, binary_crossentropy, SGD lr 0.01 momentum 0.9, 3 steps on one batch of 10',
  binaryGraph(), sgdMomentum, 'binary_crossentropy', 10, { target: binaryTarget, notes: [bceNote] });
trainingCase('train_binary_dense_sigmoid_adam', 'Dense 4 tanh, Dense 1 sigmoid, binary_crossentropy, Adam, 3 steps on one batch of 8',
  binaryDenseGraph(), adamKeras, 'binary_crossentropy', 8, { target: binaryTarget, notes: [bceNote] });
// With epsilon 1e-7 the placement of epsilon (sqrt(v) or sqrt(v_hat)) changes the weights by far less than the
// tolerance. With epsilon 1e-3, comparable to sqrt(v) here, it changes them by more: this case tells the two apart.
const adamLargeEpsilon = { class_name: 'Adam', config: { learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-3 } };
trainingCase('train_binary_dense_sigmoid_adam_epsilon_1e-3', 'Dense 4 tanh, Dense 1 sigmoid, binary_crossentropy, Adam with epsilon 1e-3 (large enough that adding it to sqrt(v) or to sqrt(v_hat) differs by more than the tolerance), 3 steps on one batch of 8',
  binaryDenseGraph(), adamLargeEpsilon, 'binary_crossentropy', 8, { target: binaryTarget, notes: [bceNote] });

// ---------------------------------------------------------------------------------------------------------------
// Running the cases.
// ---------------------------------------------------------------------------------------------------------------
function tfjsOptimizer(spec) {
  const c = spec.config;
  if (spec.class_name === 'Adam') {
    return tf.train.adam(c.learning_rate, c.beta_1, c.beta_2, c.epsilon);
  }
  if (spec.class_name === 'SGD') {
    return tf.train.momentum(c.learning_rate, c.momentum, c.nesterov);
  }
  throw new Error(`unknown optimizer ${spec.class_name}`);
}

const tfjsLoss = { mean_squared_error: 'meanSquaredError', binary_crossentropy: 'binaryCrossentropy' };

function makeTargets(rng, kind, x, batch) {
  const values = new Float32Array(batch);
  if (kind === 'regression') {
    // A smooth function of the three lagged values plus a little noise.
    for (let b = 0; b < batch; b++) {
      const [a, c, d] = [x.values[b * 3], x.values[b * 3 + 1], x.values[b * 3 + 2]];
      values[b] = Math.fround(0.5 * a - 0.3 * c + 0.8 * d + 0.1 * (2 * rng() - 1));
    }
  } else {
    for (let b = 0; b < batch; b++) {
      values[b] = b % 2 === 0 ? 1 : 0;
    }
  }
  return { shape: [batch, 1], dtype: 'float32', values };
}

async function runCase(spec) {
  const rng = mulberry32(fnv1a(spec.name));
  const { model, layers, inputPadding } = buildModel(spec.graph);
  const store = spec.storeWeights !== false;
  const weights = setRandomWeights(model, rng, spec.scales, store);
  const fixture = {
    format: FORMAT,
    name: spec.name,
    description: spec.description,
    reference: { library: '@tensorflow/tfjs', version: tf.version.tfjs, backend: tf.getBackend(), backend_epsilon: tf.backend().epsilon() },
    notes: spec.notes,
    graph: {
      inputs: spec.graph.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype })),
      layers: spec.graph.layers.map((l) => ({ ...l, tfjs_config: tfjsConfig(layers[l.name]) })),
      calls: spec.graph.calls,
      outputs: spec.graph.outputs,
    },
    tfjs_layer_order: model.layers.map((l) => l.name),
    factory: spec.factory || null,
    prng: {
      algorithm: 'mulberry32',
      seed: fnv1a(spec.name),
      rule: 'one stream per case; weights first, in the order of "weights", each element (row-major) = fround((2u - 1) * scale); then inputs',
    },
    weights,
    forward: [],
    training: null,
  };
  for (const [name, pad] of Object.entries(inputPadding)) {
    fixture.notes = fixture.notes.concat([`input '${name}' is left-padded with ${pad} zero steps before the TF.js 'valid' Conv1D.`]);
  }

  for (const batch of spec.batchSizes) {
    const xs = spec.graph.inputs.map((i) => randomInput(rng, i, batch, spec.inputRange));
    const tensors = xs.map((x) => tf.tensor(x.values, x.shape, x.dtype));
    const predicted = model.predict(padInputs(spec.graph, inputPadding, tensors), { batchSize: batch });
    const outs = Array.isArray(predicted) ? predicted : [predicted];
    fixture.forward.push({
      batch_size: batch,
      inputs: xs.map((x) => encodeTensorData(x.shape, x.dtype, x.values)),
      outputs: outs.map((o) => encodeTensorData(o.shape, 'float32', o.dataSync())),
    });
  }

  if (spec.training) {
    const t = spec.training;
    const input = spec.graph.inputs[0];
    const x = randomInput(rng, input, t.batch, t.inputRange);
    const y = makeTargets(rng, t.target.kind, x, t.batch);
    const optimizer = tfjsOptimizer(t.optimizer);
    model.compile({ optimizer, loss: tfjsLoss[t.loss] });
    const xt = tf.tensor(x.values, x.shape, x.dtype);
    const yt = tf.tensor(y.values, y.shape, 'float32');
    const steps = [];
    const epsilons = [];
    for (let step = 1; step <= t.steps; step++) {
      if (t.optimizer.class_name === 'Adam') {
        const c = t.optimizer.config;
        optimizer.epsilon = c.epsilon / Math.sqrt(1 - Math.pow(c.beta_2, step));
        epsilons.push(optimizer.epsilon);
      }
      const loss = await model.trainOnBatch(xt, yt);
      const entry = { step, loss: Math.fround(loss) };
      if (step === 1 || step === t.steps) {
        entry.weights = currentWeights(model);
      }
      steps.push(entry);
    }
    const predictions = model.predict(xt).dataSync();
    fixture.training = {
      optimizer: t.optimizer,
      tfjs_optimizer: t.optimizer.class_name === 'Adam'
        ? { call: 'tf.train.adam(learning_rate, beta_1, beta_2, epsilon)', tfjs_epsilon_per_step: epsilons }
        : { call: 'tf.train.momentum(learning_rate, momentum, nesterov)' },
      loss: t.loss,
      tfjs_loss: tfjsLoss[t.loss],
      tfjs_loss_epsilon: t.loss === 'binary_crossentropy' ? tf.backend().epsilon() : null,
      method: 'model.trainOnBatch(x, y), once per step, the same batch each time',
      x: encodeTensorData(x.shape, x.dtype, x.values),
      y: encodeTensorData(y.shape, 'float32', y.values),
      steps,
      final_predictions: encodeTensorData([t.batch, 1], 'float32', predictions),
    };
  }
  return fixture;
}

// TF.js 4.22 bug (tensorflow/tfjs#8255, #1529; fix proposed in PR #8506): the engine hands a kernel with ONE output a
// bare dy instead of [dy], and the Unpack gradient calls stack(dy), which throws "Argument tensors passed to stack
// must be a `Tensor[]`". An LSTM over ONE time step (the regression seed model) unstacks into one tensor, so training
// it fails. This registers the same gradient, accepting both forms; nothing else changes.
function patchUnpackGradient() {
  tf.registerGradient({
    kernelName: 'Unpack',
    gradFunc: (dy, saved, attrs) => ({ value: () => tf.stack(Array.isArray(dy) ? dy : [dy], attrs.axis) }),
  });
}

async function main() {
  patchUnpackGradient();
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.version.tfjs !== '4.22.0') {
    throw new Error(`expected @tensorflow/tfjs 4.22.0, found ${tf.version.tfjs}`);
  }
  fs.mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const file of fs.readdirSync(FIXTURE_DIR)) {
    if (file.endsWith('.json')) {
      fs.unlinkSync(path.join(FIXTURE_DIR, file));
    }
  }
  const index = [];
  for (const spec of cases) {
    const fixture = await runCase(spec);
    const text = JSON.stringify(fixture, null, 1) + '\n';
    fs.writeFileSync(path.join(FIXTURE_DIR, `${spec.name}.json`), text);
    index.push({ name: spec.name, description: spec.description, bytes: Buffer.byteLength(text) });
    process.stdout.write(`${spec.name}: ${Buffer.byteLength(text)} bytes\n`);
  }
  const indexText = JSON.stringify({ format: FORMAT, reference: { library: '@tensorflow/tfjs', version: tf.version.tfjs, backend: 'cpu' }, cases: index }, null, 1) + '\n';
  fs.writeFileSync(path.join(FIXTURE_DIR, 'index.json'), indexText);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
