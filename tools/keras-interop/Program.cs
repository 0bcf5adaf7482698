using System.Text.Json;
using KerasStyle;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

// Writes, into the folder given, the seed's two models (sentiment with a 2,000-word vocabulary) in every format the
// library writes, and the library's predictions on fixed inputs (predictions.json), for real Keras to load and
// compare (tools/keras-fixtures/check_library_files.py).
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: KerasInterop OUTPUT_FOLDER");
    return 2;
}

var folder = Directory.CreateDirectory(args[0]).FullName;
var predictions = new Dictionary<string, object>();
foreach (var name in new[] { "regression", "sentiment" })
{
    Backend.ClearSession();
    Utils.SetRandomSeed(20261130);
    using var model = name == "regression" ? CnnLstmModels.Regression() : CnnLstmModels.Sentiment(maxFeatures: 2000);
    var random = new Random(7);
    Array x;
    if (name == "regression")
    {
        var values = new float[5, 1, 3];
        for (var i = 0; i < 5; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                values[i, 0, j] = (float)((random.NextDouble() * 2) - 1);
            }
        }

        x = values;
    }
    else
    {
        var ids = new long[4, 100];
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 100; j++)
            {
                ids[i, j] = random.Next(2000);
            }
        }

        x = ids;
    }

    model.Save(Path.Combine(folder, $"{name}.keras"));
    model.SaveWeights(Path.Combine(folder, $"{name}.weights.h5"));
    model.SaveWeights(Path.Combine(folder, $"{name}.h5"));
    model.Save(Path.Combine(folder, $"{name}-full.h5"));
    model.Save(Path.Combine(folder, $"{name}-tfkeras2.h5"), H5Format.TfKeras2);
    File.WriteAllText(Path.Combine(folder, $"{name}.json"), model.ToJson());
    var y = (float[,])model.Predict(x);
    predictions[name] = new { x = Nested(x), y = Nested(y) };
}

File.WriteAllText(Path.Combine(folder, "predictions.json"), JsonSerializer.Serialize(predictions));

// Graphs that are not chains (issue 13): every merge layer, written in each model format.
Backend.ClearSession();
{
    var a = new Input(new[] { 4, 3 }, name: "a");
    var b = new Input(new[] { 4, 3 }, name: "b");
    var c = new Input(new[] { 3 }, name: "c");
    var merged = new[]
    {
        new Concatenate(name: "concatenate").Call(a, b),
        new Concatenate(axis: 1, name: "concatenate_axis1").Call(a, b),
        new Add(name: "add").Call(a, b, a),
        new Subtract(name: "subtract").Call(a, b),
        new Multiply(name: "multiply").Call(a, c),
        new Average(name: "average").Call(a, b),
        new Maximum(name: "maximum").Call(a, b),
        new Minimum(name: "minimum").Call(a, b),
        new Dot(2, name: "dot").Call(a, b),
        new Dot((1, 1), normalize: true, name: "dot_normalized").Call(a, b),
    };
    using var merges = new Model(new KerasTensor[] { a, b, c }, merged, "merges");
    var random = new Random(5);
    float[,,] Sequences()
    {
        var values = new float[3, 4, 3];
        for (var i = 0; i < values.Length; i++)
        {
            values[i / 12, i / 3 % 4, i % 3] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    var xa = Sequences();
    var xb = Sequences();
    var xc = new float[3, 3];
    for (var i = 0; i < xc.Length; i++)
    {
        xc[i / 3, i % 3] = (float)((random.NextDouble() * 2) - 1);
    }

    WriteGraph("merges", merges, new Array[] { xa, xb, xc });
}

// A functional encoder called on two inputs (shared weights) and a Sequential head inside a functional model.
Backend.ClearSession();
Utils.SetRandomSeed(20261130);
{
    var x = new Input(new[] { 4, 3 }, name: "sequence");
    var h = new LSTM(5, name: "lstm").Call(new Conv1D(4, 2, activation: "relu", name: "conv1d").Call(x));
    using var encoder = new Model(x, new Dense(3, activation: "tanh", name: "code").Call(h), "encoder");
    using var head = new Sequential(name: "head");
    head.Add(new Input(new[] { 6 }));
    head.Add(new Dense(4, activation: "relu", name: "hidden"));
    head.Add(new Dense(1, name: "score"));
    var a = new Input(new[] { 4, 3 }, name: "a");
    var b = new Input(new[] { 4, 3 }, name: "b");
    var (ea, eb) = (encoder.Call(a), encoder.Call(b));
    var joined = new Concatenate(name: "joined").Call(new Subtract(name: "difference").Call(ea, eb), ea);
    using var siamese = new Model(new KerasTensor[] { a, b }, head.Call(joined), "siamese");
    var random = new Random(6);
    float[,,] Sequences()
    {
        var values = new float[3, 4, 3];
        for (var i = 0; i < values.Length; i++)
        {
            values[i / 12, i / 3 % 4, i % 3] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    WriteGraph("nested", siamese, new Array[] { Sequences(), Sequences() });
}

// An LSTM encoder whose states start an LSTM decoder.
Backend.ClearSession();
Utils.SetRandomSeed(20261130);
{
    var source = new Input(shape: (5, 3), name: "source");
    var target = new Input(shape: (4, 2), name: "target");
    var encoded = new LSTM(6, returnState: true, name: "encoder").CallMulti(source);
    var decoded = new LSTM(6, returnSequences: true, name: "decoder").Call(target, initialState: new[] { encoded[1], encoded[2] });
    using var seq2seq = new Model(new[] { source, target }, new Dense(2, name: "out").Call(decoded), "seq2seq");
    var random = new Random(8);
    float[,,] Uniform(int steps, int features)
    {
        var values = new float[3, steps, features];
        for (var i = 0; i < values.Length; i++)
        {
            values[i / (steps * features), i / features % steps, i % features] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    WriteGraph("seq2seq", seq2seq, new Array[] { Uniform(5, 3), Uniform(4, 2) });
}

// Masks: Embedding(maskZero) and Masking feeding LSTMs, a mask kept by Dense, merged masks (zero-padded inputs).
Backend.ClearSession();
Utils.SetRandomSeed(20261130);
{
    var tokens = new Input(shape: 6, dtype: DType.Int32, name: "tokens");
    var tokens2 = new Input(shape: 6, dtype: DType.Int32, name: "tokens2");
    var series = new Input(shape: (6, 2), name: "series");
    var e = new Embedding(20, 4, name: "embedding", maskZero: true).Call(tokens);
    var e2 = new Embedding(20, 4, name: "embedding2", maskZero: true).Call(tokens2);
    var steps = new LSTM(5, returnSequences: true, name: "steps").Call(e);
    var last = new LSTM(3, name: "last").Call(steps);
    var s = new LSTM(4, name: "masked_series").Call(new Masking(0.0, name: "masking").Call(series));
    var either = new LSTM(2, name: "or_mask").Call(new Add(name: "sum").Call(e, e2));
    var score = new Dense(1, name: "score").Call(new Concatenate(name: "joined").Call(last, s, either));
    using var masks = new Model(new[] { tokens, tokens2, series }, new[] { score, new Dense(3, name: "per_step").Call(e), steps }, "masks");
    var random = new Random(9);
    var ids = new int[4, 6];
    var ids2 = new int[4, 6];
    var values = new float[4, 6, 2];
    for (var i = 0; i < 4; i++)
    {
        for (var t = 0; t < 6; t++)
        {
            // Zero padding on the left for ids, on the right for ids2, and whole zero steps in the series.
            ids[i, t] = t < i ? 0 : random.Next(1, 20);
            ids2[i, t] = t >= 6 - i ? 0 : random.Next(1, 20);
            for (var f = 0; f < 2 && t % 3 != i % 3; f++)
            {
                values[i, t, f] = (float)((random.NextDouble() * 2) - 1);
            }
        }
    }

    WriteGraph("masks", masks, new Array[] { ids, ids2, values });
}

// The round trip: a compiled model defined here (the regression model without dropout, whose masks could not match),
// for Keras to train and save; the tests load Keras' file back and train on.
Backend.ClearSession();
Utils.SetRandomSeed(20261130);
using (var roundTrip = CnnLstmModels.Regression(dropoutRate: 0))
{
    roundTrip.Compile(new KerasStyle.Training.Optimizers.Adam(learningRate: 0.01), "mse");
    roundTrip.Save(Path.Combine(folder, "roundtrip.keras"));
    roundTrip.Save(Path.Combine(folder, "roundtrip.h5"));
}

var data = new Random(11);
var trainX = new float[32, 1, 3];
var trainY = new float[32, 1];
for (var i = 0; i < 32; i++)
{
    for (var j = 0; j < 3; j++)
    {
        trainX[i, 0, j] = (float)data.NextDouble();
    }

    trainY[i, 0] = (float)((trainX[i, 0, 0] + (2 * trainX[i, 0, 2])) / 3);
}

File.WriteAllText(Path.Combine(folder, "roundtrip-data.json"), JsonSerializer.Serialize(new { x = Nested(trainX), y = Nested(trainY) }));

// The other direction for tf.keras 2: the same model trained one epoch here, saved in tf.keras 2.11's form with its
// Adam state; Keras restores that state as tf.keras 2.11 does (by position) and trains a second epoch.
Backend.ClearSession();
Utils.SetRandomSeed(20261130);
using (var trainedHere = CnnLstmModels.Regression(dropoutRate: 0))
{
    trainedHere.Compile(new KerasStyle.Training.Optimizers.Adam(learningRate: 0.01), "mse");
    trainedHere.Fit(trainX, trainY, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
    trainedHere.Save(Path.Combine(folder, "roundtrip-here-1epoch-tfkeras2.h5"), H5Format.TfKeras2);
}
Console.WriteLine($"wrote {folder}");
return 0;

// A model that is not a chain in every form Keras reads, with the library's predictions (every output, flattened).
void WriteGraph(string name, Model model, Array[] x)
{
    model.Save(Path.Combine(folder, $"{name}.keras"));
    model.Save(Path.Combine(folder, $"{name}-full.h5"));
    model.Save(Path.Combine(folder, $"{name}-tfkeras2.h5"), H5Format.TfKeras2);
    File.WriteAllText(Path.Combine(folder, $"{name}.json"), model.ToJson());
    var outputs = model.Predict(x);
    File.WriteAllText(Path.Combine(folder, $"{name}-predictions.json"), JsonSerializer.Serialize(new
    {
        x = x.Select(Nested).ToArray(),
        y = outputs.Select(o => o.Cast<float>().Select(v => (double)v).ToArray()).ToArray(),
    }));
}

static object Nested(Array a) => a.Rank switch
{
    2 => Enumerable.Range(0, a.GetLength(0)).Select(i => Enumerable.Range(0, a.GetLength(1)).Select(j => Convert.ToDouble(a.GetValue(i, j))).ToArray()).ToArray(),
    3 => Enumerable.Range(0, a.GetLength(0)).Select(i => Enumerable.Range(0, a.GetLength(1)).Select(j => Enumerable.Range(0, a.GetLength(2)).Select(k => Convert.ToDouble(a.GetValue(i, j, k))).ToArray()).ToArray()).ToArray(),
    _ => throw new ArgumentException("rank 2 or 3"),
};
