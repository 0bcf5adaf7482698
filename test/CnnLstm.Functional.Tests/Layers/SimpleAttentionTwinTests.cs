using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// docs/saving.md's ported custom layer: <see cref="SimpleAttention"/>, the C# twin of the <c>SimpleAttention</c> a Keras
/// user wrote for a published model (../shared/real-models/set2, lstm_attention_model.h5). Without the twin the file is
/// refused naming the layer; with it registered the file predicts what Keras 3.16 predicts with the author's Python
/// class registered (tools/keras-fixtures/custom_layer_twin.py, which runs the author's class from their repository).
/// </summary>
public class SimpleAttentionTwinTests
{
    private const string RealFile = "AdityaKumar1009__Dissolved-Oxygen-Prediction-for-Water-Quality-Monitoring__lstm_attention_model.h5";

    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "custom");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "simple_attention.json")))!.AsObject();

    private static string RealPath
    {
        get
        {
            var set2 = Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models", "set2"));
            if (!Directory.Exists(set2))
            {
                Assert.Ignore($"{set2} is absent.");
            }

            return Path.Combine(set2, RealFile);
        }
    }

    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(22);
    }

    [TearDown]
    public void TearDown() => LayerRegistry.Unregister("SimpleAttention");

    [Test]
    public void DocExample_IsThisTestProjectsClass_Verbatim() =>
        DocExamples.AssertShownVerbatim("saving.md", "Layers/SimpleAttention.cs");

    [Test]
    public void Load_RealFileWithoutTheTwin_IsRefusedNamingTheFileAndTheLayer()
    {
        var path = RealPath;
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path));
        Assert.That(error!.Message, Does.Contain(RealFile).And.Contain("'SimpleAttention'").And.Contain("simple_attention_2"));
        Assert.That(error.Message, Does.Contain("custom layer written in Python").And.Contain("C# twin").And.Contain("LayerRegistry.Register<TLayer>()"));
        Assert.That(error.Message, Does.Not.Contain("GlobalMaxPooling1D"), "one clear error, not a list of every built-in class");
    }

    [Test]
    public void Load_RealFileWithTheTwinRegistered_PredictsAsKerasWithTheAuthorsClass()
    {
        LayerRegistry.Register<SimpleAttention>();
        using var model = Model.Load(RealPath);
        var attention = (SimpleAttention)model.GetLayer("simple_attention_2");
        Assert.That(attention.Weights.Select(w => (w.Name, string.Join("x", w.Shape))), Is.EqualTo(new[] { ("att_weight", "25x1"), ("att_bias", "1x1") }));
        Assert.That(Fixture["file"]!.GetValue<string>(), Is.EqualTo(RealFile));
        var predicted = (float[,])model.Predict(FixtureJson.ToFloat3(Fixture["x"]!.AsArray()));
        Assert.That(predicted, Is.EqualTo(FixtureJson.ToFloat2(Fixture["y"]!.AsArray())).Within(1e-4));
    }

    [Test]
    public void EagerCall_OverSeveralSteps_GivesTheAuthorsLayersOutput()
    {
        // The file has one step (the softmax over the steps is then 1 whatever the weights); the fixture also ran the
        // author's layer on 4 steps with seeded weights.
        var eager = Fixture["eager"]!;
        var attention = new SimpleAttention("eager");
        using var input = tensor(FixtureJson.Flatten(eager["input"]!).Select(v => (float)v).ToArray(), new long[] { 2, 4, 3 });
        using (attention.Invoke(input))
        {
            // The first call builds the layer from the data's shape; the author's weights then replace the initial ones.
        }

        attention.SetWeights(eager["weights"]!.AsArray().Select(w => Weight(w!)).ToArray());
        using var output = attention.Invoke(input);
        Assert.That(output.shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(output.data<float>().ToArray(), Is.EqualTo(FixtureJson.Flatten(eager["output"]!).Select(v => (float)v).ToArray()).Within(1e-5));
    }

    [Test]
    public void Build_DrawsAttWeightAsKerasNormal_AndAttBiasAsZeros()
    {
        // The author's add_weight(initializer='normal') is Keras' RandomNormal(mean 0, stddev 0.05).
        var attention = new SimpleAttention();
        using (attention.Invoke(zeros(1, 3, 20000)))
        {
        }

        var weight = attention.GetWeights()[0].Data.ToArray();
        var mean = weight.Average();
        var std = Math.Sqrt(weight.Select(v => (v - mean) * (v - mean)).Average());
        Assert.That((Math.Abs(mean) < 0.002, Math.Abs(std - 0.05) < 0.002), Is.EqualTo((true, true)), $"mean {mean}, std {std}");
        Assert.That(attention.GetWeights()[1].Data.ToArray(), Is.EqualTo(new float[3]));
    }

    [Test]
    public void WrongInputs_AreRefusedNamingTheLayerAndShape_BeforeItBuilds()
    {
        var attention = new SimpleAttention("attention");
        var rank = Assert.Throws<LayerInputException>(() => attention.Call(new Input(25)));
        Assert.That(rank!.Message, Does.Contain("SimpleAttention 'attention'").And.Contain("(None, 25)").And.Contain("rank 3"));
        var ids = Assert.Throws<LayerInputException>(() => attention.Call(new Input((4, 25), DType.Int64)));
        Assert.That(ids!.Message, Does.Contain("float32").And.Contain("(None, 4, 25)"));
        Assert.That((attention.Built, attention.Weights.Count), Is.EqualTo((false, 0)));
    }

    private static WeightArray Weight(JsonNode node)
    {
        var values = FixtureJson.ToArray(node.AsArray());
        return new WeightArray(Enumerable.Range(0, values.Rank).Select(values.GetLength).ToArray(), FixtureJson.Flatten(node).Select(v => (float)v).ToArray());
    }
}
