using System.Text.Json;
using KerasStyle;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tools.KerasInterop;

// Writes, into the folder given, the seed's two models (sentiment with a 2,000-word vocabulary) in every format the
// library writes, and the library's predictions on fixed inputs (predictions.json), for real Keras to load and
// compare (tools/keras-fixtures/check_library_files.py).
if (args.Length == 2 && args[0] == "convs")
{
    // The convolution family (issue 24, tools/keras-fixtures/conv_family.py --check): each one-layer model Keras
    // wrote into Layers/KerasFixtures/convs, loaded here and written back (.keras, full-model .h5, tf.keras 2 .h5,
    // ToJson) into the folder given (convs/library), with the library's predictions on Keras' inputs.
    var library = Directory.CreateDirectory(args[1]).FullName;
    var fixtures = Path.GetDirectoryName(library)!;
    foreach (var (caseName, fixture) in System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(fixtures, "cases.json")))!["cases"]!.AsObject())
    {
        using var model = Model.Load(Path.Combine(fixtures, caseName + ".keras"));
        model.Save(Path.Combine(library, $"{caseName}.keras"));
        model.Save(Path.Combine(library, $"{caseName}-full.h5"));
        model.Save(Path.Combine(library, $"{caseName}-tfkeras2.h5"), H5Format.TfKeras2);
        File.WriteAllText(Path.Combine(library, $"{caseName}.json"), model.ToJson());
        var y = model.Predict(new[] { FromJson(fixture!["x"]!.AsArray()) })[0];
        File.WriteAllText(Path.Combine(library, $"{caseName}-predictions.json"), JsonSerializer.Serialize(new { y = y.Cast<float>().Select(v => (double)v).ToArray() }));
    }

    Console.WriteLine($"wrote {library}");
    return 0;
}

if (args.Length is not (1 or 2) || (args.Length == 2 && args[1] != "mha"))
{
    Console.Error.WriteLine("usage: KerasInterop OUTPUT_FOLDER [mha]");
    return 2;
}

var folder = Directory.CreateDirectory(args[0]).FullName;
if (args.Length == 2)
{
    // MultiHeadAttention and EinsumDense (issue 24): each model Keras wrote (tools/keras-fixtures/multi_head_attention.py),
    // loaded here and written back in every form, with the library's predictions on Keras' inputs.
    var mhaFixtures = Path.GetFullPath(Path.Combine(folder, "..", "..", "Layers", "Attention", "KerasFixtures", "mha"));
    Directory.CreateDirectory(Path.Combine(folder, "mha"));
    foreach (var (caseName, fixture) in System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(mhaFixtures, "mha.json")))!["models"]!.AsObject())
    {
        using var model = Model.Load(Path.Combine(mhaFixtures, caseName + ".keras"));
        var x = fixture!["inputs"]!.AsArray().Select((v, i) => fixture["input_names"]![i]!.GetValue<string>() is "qi" or "vi" ? ToInts(FromJson(v!.AsArray())) : FromJson(v!.AsArray())).ToArray();
        if (caseName != "dropout")
        {
            WriteGraph(Path.Combine("mha", caseName), model, x);
        }
        else
        {
            // tf.keras 2 has no seed: no tf.keras 2 form of this one.
            model.Save(Path.Combine(folder, "mha", $"{caseName}.keras"));
            model.Save(Path.Combine(folder, "mha", $"{caseName}-full.h5"));
            File.WriteAllText(Path.Combine(folder, "mha", $"{caseName}.json"), model.ToJson());
            File.WriteAllText(Path.Combine(folder, "mha", $"{caseName}-predictions.json"), JsonSerializer.Serialize(new
            {
                x = x.Select(Nested).ToArray(),
                y = model.Predict(x).Select(o => o.Cast<float>().Select(v => (double)v).ToArray()).ToArray(),
            }));
        }
    }

    return 0;
}

static Array ToInts(Array values)
{
    var ints = Array.CreateInstance(typeof(int), Enumerable.Range(0, values.Rank).Select(values.GetLength).ToArray());
    var index = new int[values.Rank];
    for (var n = 0; n < values.Length; n++)
    {
        var rest = n;
        for (var d = values.Rank - 1; d >= 0; d--)
        {
            (index[d], rest) = (rest % values.GetLength(d), rest / values.GetLength(d));
        }

        ints.SetValue((int)(float)values.GetValue(index)!, index);
    }

    return ints;
}

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

// Graphs that are not chains (issue 13) and RNNs of cells (issue 21), written in each model format with inputs drawn
// here.
foreach (var (name, seed) in new[] { ("merges", 5), ("nested", 6), ("seq2seq", 8), ("rnn_cells", 12), ("bidirectional_cell", 13) })
{
    Backend.ClearSession();
    Utils.SetRandomSeed(20261130);
    using var model = name switch
    {
        "merges" => GraphModels.Merges(),
        "nested" => GraphModels.Siamese(),
        "seq2seq" => GraphModels.Seq2Seq(),
        "rnn_cells" => GraphModels.RnnCells(),
        _ => GraphModels.BidirectionalCell(),
    };
    var random = new Random(seed);
    WriteGraph(name, model, model.Inputs.Select(input => Uniform(random, input.Shape)).ToArray());
}

// Masks: zero padding on the left of the ids, on the right of ids2, and whole zero steps in the series.
Backend.ClearSession();
Utils.SetRandomSeed(20261130);
{
    using var masks = GraphModels.Masks();
    var random = new Random(9);
    var ids = new int[4, 6];
    var ids2 = new int[4, 6];
    var values = new float[4, 6, 2];
    for (var i = 0; i < 4; i++)
    {
        for (var t = 0; t < 6; t++)
        {
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

// The layer family (issue 14): each one-layer model Keras wrote (tools/keras-fixtures/layers.py), loaded here and
// written back in every form, with the library's predictions on Keras' inputs.
var familyFixtures = Path.GetFullPath(Path.Combine(folder, "..", "..", "Layers", "KerasFixtures", "family"));
Directory.CreateDirectory(Path.Combine(folder, "family"));
foreach (var (caseName, fixture) in System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(familyFixtures, "cases.json")))!["cases"]!.AsObject())
{
    using var model = Model.Load(Path.Combine(familyFixtures, caseName + ".keras"));
    WriteGraph(Path.Combine("family", caseName), model, new[] { FromJson(fixture!["x"]!.AsArray()) });
}

// ConvLSTM1D/2D/3D (issue 24): each model Keras wrote (tools/keras-fixtures/conv_lstm.py), loaded here and written
// back in every form, with the library's predictions; `conv_lstm.py --check-library-files` loads them in Keras.
var convLstmFixtures = Path.GetFullPath(Path.Combine(folder, "..", "..", "Layers", "KerasFixtures", "convlstm"));
Directory.CreateDirectory(Path.Combine(folder, "convlstm"));
foreach (var (caseName, fixture) in System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(convLstmFixtures, "cases.json")))!["cases"]!.AsObject())
{
    using var model = Model.Load(Path.Combine(convLstmFixtures, caseName + ".keras"));
    WriteGraph(Path.Combine("convlstm", caseName), model, new[] { FromJson(fixture!["x"]!.AsArray()) });
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

// Three samples uniform in [-1, 1) of an input's per-sample shape.
static Array Uniform(Random random, KerasStyle.Graph.Shape shape)
{
    var values = Array.CreateInstance(typeof(float), new[] { 3 }.Concat(shape.SampleDims.Select(d => d!.Value)).ToArray());
    var index = new int[values.Rank];
    for (var n = 0; n < values.Length; n++)
    {
        var rest = n;
        for (var d = values.Rank - 1; d >= 0; d--)
        {
            index[d] = rest % values.GetLength(d);
            rest /= values.GetLength(d);
        }

        values.SetValue((float)((random.NextDouble() * 2) - 1), index);
    }

    return values;
}

// A nested JSON list of numbers as a float array of its rank.
static Array FromJson(System.Text.Json.Nodes.JsonArray rows)
{
    var lengths = new List<int>();
    for (System.Text.Json.Nodes.JsonNode? node = rows; node is System.Text.Json.Nodes.JsonArray list; node = list[0])
    {
        lengths.Add(list.Count);
    }

    var values = Array.CreateInstance(typeof(float), lengths.ToArray());
    var flat = new List<float>();
    void Collect(System.Text.Json.Nodes.JsonNode node)
    {
        if (node is System.Text.Json.Nodes.JsonArray list)
        {
            foreach (var item in list)
            {
                Collect(item!);
            }
        }
        else
        {
            flat.Add(node.GetValue<float>());
        }
    }

    Collect(rows);
    Buffer.BlockCopy(flat.ToArray(), 0, values, 0, flat.Count * sizeof(float));
    return values;
}

// An array of any rank as nested lists of doubles (for JSON).
static object Nested(Array a) => NestedFrom(a, Array.Empty<int>());

static object NestedFrom(Array a, int[] prefix) => prefix.Length == a.Rank - 1
    ? Enumerable.Range(0, a.GetLength(prefix.Length)).Select(i => Convert.ToDouble(a.GetValue(prefix.Append(i).ToArray()))).ToArray()
    : Enumerable.Range(0, a.GetLength(prefix.Length)).Select(i => NestedFrom(a, prefix.Append(i).ToArray())).ToArray();
