using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// docs/saving.md's custom layer (<see cref="BahdanauAttention"/>: several inputs, a mask, a non-trainable weight),
/// compiled and run, against the same layer written in Python and run by Keras 3.16 (tools/keras-fixtures/custom_layer.py).
/// </summary>
public class CustomLayerExampleTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "custom");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "bahdanau_attention.json")))!.AsObject();

    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(21);
        LayerRegistry.Register<BahdanauAttention>();
    }

    [TearDown]
    public void TearDown() => LayerRegistry.Unregister("BahdanauAttention");

    [Test]
    public void DocExample_IsThisTestProjectsClass_Verbatim() =>
        DocExamples.AssertShownVerbatim("saving.md", "Layers/BahdanauAttention.cs");

    [Test]
    public void Load_KerasFileWithTheRegisteredLayer_PredictsAsKeras()
    {
        using var model = Model.Load(Path.Combine(Folder, "bahdanau_attention.keras"));
        var attention = (BahdanauAttention)model.GetLayer("attention");
        Assert.That(attention.Units, Is.EqualTo(5));
        Assert.That(attention.Weights.Select(w => (w.Name, w.Trainable)), Is.EqualTo(new[] { ("w", true), ("u", true), ("v", true), ("temperature", false) }));
        Assert.That(attention.GetWeights()[3].Data.ToArray(), Is.EqualTo(new[] { 2f }), "the non-trainable weight is read from the file");
        var predicted = (float[,])model.Predict(Floats3(Fixture["x"]!));
        Assert.That(predicted, Is.EqualTo(Floats2(Fixture["y"]!)).Within(1e-5));
    }

    [Test]
    public void EagerCall_WithAValuesMask_GivesKerasOutput()
    {
        var eager = Fixture["eager"]!;
        var attention = new BahdanauAttention(4, "eager");
        using var query = tensor(Floats2(eager["query"]!).Cast<float>().ToArray(), new long[] { 2, 3 });
        using var values = tensor(Floats3(eager["values"]!).Cast<float>().ToArray(), new long[] { 2, 5, 2 });
        using var mask = tensor(eager["mask"]!.AsArray().SelectMany(r => r!.AsArray().Select(v => v!.GetValue<bool>())).ToArray(), new long[] { 2, 5 });
        using (attention.Invoke(query, values))
        {
            // The first call builds the layer from the data's shapes; Keras' weights then replace the initial ones.
        }

        attention.SetWeights(eager["weights"]!.AsArray().Select(w => Weight(w!)).ToArray());
        using var output = attention.Invoke(new[] { query, values }, masks: new Tensor?[] { null, mask });
        using var unmasked = attention.Invoke(query, values);
        var expected = Floats2(eager["output"]!).Cast<float>().ToArray();
        Assert.That(output.data<float>().ToArray(), Is.EqualTo(expected).Within(1e-5));
        Assert.That(unmasked.data<float>().ToArray(), Is.Not.EqualTo(expected).Within(1e-3), "the mask changes the first sample");
    }

    [Test]
    public void AfterAnLstm_FitTrainsTheTrainableWeightsOnly_AndTheModelRoundTrips()
    {
        var x = new Input(shape: (6, 3), name: "x");
        var lstm = new LSTM(8, returnSequences: true, returnState: true);
        var outputs = lstm.CallMulti(x);
        var attention = new BahdanauAttention(5);
        using var model = new Model(x, new Dense(2).Call(attention.Call(outputs[1], outputs[0])));
        model.Compile("adam", "mse");
        var before = attention.GetWeights();
        var data = Floats3(Fixture["x"]!);
        model.Fit(data, new float[,] { { 1, 0 }, { 0, 1 }, { 1, 1 }, { 0, 0 } }, epochs: 2, verbose: 0);
        var after = attention.GetWeights();
        Assert.That(after[0].Data.ToArray(), Is.Not.EqualTo(before[0].Data.ToArray()), "w is trained");
        Assert.That(after[3].Data.ToArray(), Is.EqualTo(new[] { 1f }), "the non-trainable temperature is not");
        Assert.That(model.SummaryText(), Does.Contain("bahdanau_attention_1 (Bahdan"), "the default name, and the class in the summary");

        var path = Path.Combine(Path.GetTempPath(), $"ks-attention-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            using var loaded = Model.Load(path);
            Assert.That((float[,])loaded.Predict(data), Is.EqualTo((float[,])model.Predict(data)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void WrongInputs_AreRefusedNamingTheLayerAndShapes_BeforeItBuilds()
    {
        var attention = new BahdanauAttention(4, "attention");
        var symbolic = Assert.Throws<LayerInputException>(() => attention.Call(new Input(shape: (5, 2)), new Input(shape: (5, 2))));
        Assert.That(symbolic!.Message, Does.Contain("BahdanauAttention 'attention'").And.Contain("(None, 5, 2)").And.Contain("rank 2"));
        using var query = zeros(2, 3);
        var eager = Assert.Throws<LayerInputException>(() => attention.Invoke(query));
        Assert.That(eager!.Message, Does.Contain("takes [query, values]"));
        Assert.That((attention.Built, attention.Weights.Count, attention.InboundNodes.Count), Is.EqualTo((false, 0, 0)));
    }

    private static WeightArray Weight(JsonNode node)
    {
        var values = FixtureJson.ToArray(node.AsArray());
        return new WeightArray(Enumerable.Range(0, values.Rank).Select(values.GetLength).ToArray(), FixtureJson.Flatten(node).Select(v => (float)v).ToArray());
    }

    private static float[,] Floats2(JsonNode node) => FixtureJson.ToFloat2(node.AsArray());

    private static float[,,] Floats3(JsonNode node) => FixtureJson.ToFloat3(node.AsArray());
}
