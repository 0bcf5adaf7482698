using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers.Merging;

/// <summary>
/// tf.keras 2's TFOpLambda (issue 22) in the form tf.keras 2.15 writes it in a <c>.keras</c> archive
/// (tools/keras-fixtures/tfoplambda.py): <c>x + y</c>, <c>x - y</c>, <c>x * y</c> with y the keyword tensor of the
/// node, against Keras 3.16's equivalent Add, Subtract and Multiply with the same weights.
/// </summary>
public class TFOpLambdaTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "tfoplambda");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "tfoplambda.json")))!.AsObject();

    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    [TestCase("__operators__.add")]
    [TestCase("math.subtract")]
    [TestCase("math.multiply")]
    public void FromJson_TfKeras215OpLayerWithKeywordTensor_PredictsAsKerasMergeWithin1e6(string function)
    {
        using var model = Load(function);
        AssertAsKeras(model, function);
    }

    [TestCase("__operators__.add", "Add")]
    [TestCase("math.subtract", "Subtract")]
    [TestCase("math.multiply", "Multiply")]
    public void Save_OpLayer_IsWrittenAsTheKeras3MergeLayer_AndEveryFormRoundTrips(string function, string merge)
    {
        using var model = Load(function);
        var entry = JsonNode.Parse(model.ToJson())!["config"]!["layers"]![2]!;
        Assert.That(entry["class_name"]!.GetValue<string>(), Is.EqualTo(merge));
        Assert.That(entry["inbound_nodes"]![0]!["args"]![0]!.AsArray().Select(t => t!["config"]!["keras_history"]![0]!.GetValue<string>()), Is.EqualTo(new[] { "dense", "x" }));
        ModelFiles.CheckEveryForm(model, m => AssertAsKeras(m, function));
    }

    [TestCase("__operators__.getitem", "tf.__operators__.getitem")]
    [TestCase("math.reduce_sum", "tf.math.reduce_sum")]
    public void FromJson_OtherFunction_IsRefusedNamingIt(string function, string named)
    {
        var json = Config("__operators__.add").ToJsonString().Replace("\"function\":\"__operators__.add\"", $"\"function\":\"{function}\"");
        var error = Assert.Catch(() => Model.FromJson(json))!;
        Assert.That(error, Is.InstanceOf<NotSupportedException>().Or.InstanceOf<FormatException>());
        Assert.That(error.Message, Does.Contain(named));
    }

    [Test]
    public void FromJson_ConstantY_IsRefusedAsNotATensor()
    {
        var config = Config("__operators__.add");
        config["config"]!["layers"]![2]!["inbound_nodes"] = JsonNode.Parse("""[["dense", 0, 0, {"y": 1.0, "name": null}]]""");
        Assert.That(Assert.Catch(() => Model.FromJson(config.ToJsonString()))!.Message, Does.Contain("y = 1.0 is not a tensor"));
    }

    [Test]
    public void FromJson_OtherKeywordArgument_IsRefusedNamingIt()
    {
        var config = Config("__operators__.add");
        config["config"]!["layers"]![2]!["inbound_nodes"] = JsonNode.Parse("""[["dense", 0, 0, {"y": ["x", 0, 0], "name": null, "axis": 1}]]""");
        Assert.That(Assert.Catch(() => Model.FromJson(config.ToJsonString()))!.Message, Does.Contain("'axis'"));
    }

    [Test]
    public void Load_RealTfKeras215Transformer_ReadsItsMultiHeadAttentionAndOpLayers()
    {
        var file = Path.Combine(RealModels, "set2", "AllaudinAli__ECG-Signal-Classification__transformer_model.keras");
        if (!File.Exists(file))
        {
            Assert.Ignore($"{file} is absent.");
        }

        // Issue 24: its MultiHeadAttention (projections under tf.keras 2.15's '_query_dense/vars', ...) loads with the rest.
        using var model = Model.Load(file);
        var attention = model.Layers.OfType<KerasStyle.Layers.MultiHeadAttention>().Single();
        Assert.That((attention.NumHeads, attention.KeyDim, attention.Weights.Count), Is.EqualTo((4, 64, 8)));
        Assert.That(attention.Weights[0].Get().Data.Any(v => v != 0), Is.True, "the query kernel came from the file");
        var x = NpyFile.Read(file + ".x.npy");
        var expected = NpyFile.Read(file + ".y.npy").Cast<float>().ToArray();
        Assert.That(((Array)model.Predict(x)).Cast<float>().ToArray(), Is.EqualTo(expected).Within(1e-4));
    }

    [Test]
    public void Load_RealTfKeras215Transformer_ItsOpLayersAndCompileConfigAreRead()
    {
        // The file without its MultiHeadAttention (not yet in the library): each attention output replaced by its
        // query input, so every TFOpLambda and the tensorflow_addons compile config are read as the file has them.
        var file = Path.Combine(RealModels, "set2", "AllaudinAli__ECG-Signal-Classification__transformer_model.keras");
        if (!File.Exists(file))
        {
            Assert.Ignore($"{file} is absent.");
        }

        using var zip = System.IO.Compression.ZipFile.OpenRead(file);
        using var reader = new StreamReader(zip.GetEntry("config.json")!.Open());
        var root = JsonNode.Parse(reader.ReadToEnd())!.AsObject();
        var layers = root["config"]!["layers"]!.AsArray();
        var attention = layers.Single(l => l!["class_name"]!.GetValue<string>() == "MultiHeadAttention")!;
        var query = attention["inbound_nodes"]![0]![0]![0]!.GetValue<string>();
        layers.Remove(attention);
        var text = root.ToJsonString().Replace($"[\"{attention["name"]!.GetValue<string>()}\",0,0,", $"[\"{query}\",0,0,");
        var warnings = new List<string>();
        void Record(object? sender, string message) => warnings.Add(message);
        KerasStyle.Warnings.Raised += Record;
        try
        {
            using var model = Model.FromJson(text);
            Assert.That(model.Layers.OfType<TFOpLambda>().Select(l => l.Function), Is.EqualTo(new[] { "__operators__.add", "__operators__.add" }));
            Assert.That(model.IsCompiled, Is.False);
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.Contain("SigmoidFocalCrossEntropy"));
            Assert.That(((float[,])model.Predict(new float[2, 186, 1])).GetLength(0), Is.EqualTo(2));
        }
        finally
        {
            KerasStyle.Warnings.Raised -= Record;
        }
    }

    private static JsonObject Config(string function) => Fixture["functions"]![function]!["config"]!.DeepClone().AsObject();

    private static Model Load(string function)
    {
        var fixture = Fixture;
        var model = Model.FromJson(Config(function).ToJsonString());
        model.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(fixture["kernel"]!.AsArray())), new WeightArray(new[] { 3 }, FixtureJson.Flatten(fixture["bias"]!).Select(v => (float)v).ToArray()) });
        return model;
    }

    private static void AssertAsKeras(Model model, string function)
    {
        var fixture = Fixture;
        var output = (float[,,])model.Predict(FixtureJson.ToFloat3(fixture["x"]!.AsArray()));
        Assert.That(output.Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(fixture["functions"]![function]!["expected"]!)).Within(1e-6));
    }
}
