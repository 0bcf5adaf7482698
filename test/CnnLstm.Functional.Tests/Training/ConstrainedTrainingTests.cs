using System.Text.Json.Nodes;
using KerasStyle.Constraints;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Constraints;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training;

/// <summary>
/// Training with weight constraints against Keras 3.16 (KerasFixtures/constraints.json): an Embedding, Conv1D, LSTM
/// and Dense model with a constraint on every kind of argument, trained with SGD from Keras' initial weights; Keras
/// assigns each constraint after every optimizer update.
/// </summary>
public class ConstrainedTrainingTests
{
    private static JsonObject Fixture => ConstraintTests.Fixture;

    internal static Model Build()
    {
        var input = new Input(6, DType.Int32);
        var h = new Embedding(10, 4, name: "embedding") { EmbeddingsConstraint = new UnitNorm(1) }.Call(input);
        h = new Conv1D(3, 2, name: "conv1d") { KernelConstraint = new MaxNorm(0.4, new[] { 0, 1 }), BiasConstraint = new NonNeg() }.Call(h);
        h = new LSTM(4, name: "lstm")
        {
            KernelConstraint = new UnitNorm(),
            RecurrentConstraint = new MinMaxNorm(0.3, 0.6, rate: 0.5),
            BiasConstraint = new MaxNorm(0.5),
        }.Call(h);
        h = new Dense(3, "tanh", name: "dense") { KernelConstraint = new MinMaxNorm(0.5, 0.9, axis: 0), BiasConstraint = new NonNeg() }.Call(h);
        return new Model(input, new Dense(2, name: "out") { KernelConstraint = new MaxNorm(0.8) }.Call(h));
    }

    private static void SetWeights(Model model, JsonNode weights) =>
        model.SetWeights(weights.AsArray().Select(w => WeightArray.FromArray(ToArray(w!))).ToArray());

    private static Array ToArray(JsonNode node)
    {
        var shape = new List<int>();
        for (var n = node; n is JsonArray list; n = list[0])
        {
            shape.Add(list.Count);
        }

        var values = FixtureJson.Flatten(node).Select(v => (float)v).ToArray();
        var result = Array.CreateInstance(typeof(float), shape.ToArray());
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(float));
        return result;
    }

    private static void AssertWeights(Model model, JsonArray expected)
    {
        var actual = model.GetWeights();
        Assert.That(actual, Has.Count.EqualTo(expected.Count));
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].Data, Is.EqualTo(FixtureJson.Flatten(expected[i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i}");
        }
    }

    [Test]
    public void Fit_WithConstraints_GivesKerasLossesAndWeights()
    {
        var x = FixtureJson.ToInt2(Fixture["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(Fixture["y"]!.AsArray());
        using var model = Build();
        SetWeights(model, Fixture["initial_weights"]!);
        model.Compile(new SGD(0.5), "mse");
        var history = model.Fit(x, y, batchSize: 3, epochs: 2, verbose: 0, shuffle: false);
        Assert.That(history["loss"], Is.EqualTo(Fixture["history"]!["loss"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).Within(1e-5));
        AssertWeights(model, Fixture["weights"]!.AsArray());
    }

    [Test]
    public void Fit_FromTheLibrarysOwnJson_TrainsAsKeras()
    {
        var x = FixtureJson.ToInt2(Fixture["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(Fixture["y"]!.AsArray());
        using var built = Build();
        using var model = Model.FromJson(built.ToJson());
        SetWeights(model, Fixture["initial_weights"]!);
        model.Compile(new SGD(0.5), "mse");
        model.Fit(x, y, batchSize: 3, epochs: 2, verbose: 0, shuffle: false);
        AssertWeights(model, Fixture["weights"]!.AsArray());
    }

    [TestCase("embedding")]
    [TestCase("conv1d")]
    [TestCase("lstm")]
    [TestCase("dense")]
    [TestCase("out")]
    public void GetConfig_WritesConstraintsAsKeras316AndReadsKerasConfig(string layer)
    {
        using var model = Build();
        var config = model.Layers.Single(l => l.Name == layer).GetConfig();
        var keras = Fixture["configs"]![layer]!.AsObject();
        var keys = keras.Where(kv => kv.Key.Contains("constraint", StringComparison.Ordinal)).ToArray();
        Assert.That(keys, Is.Not.Empty);
        foreach (var (key, value) in keys)
        {
            Assert.That(JsonNode.DeepEquals(config[key], value), Is.True, $"{layer}.{key}: {config[key]?.ToJsonString()} against {value?.ToJsonString()}");
        }

        Assert.That(config.Where(kv => kv.Key.Contains("constraint", StringComparison.Ordinal)).Select(kv => kv.Key), Is.EquivalentTo(keys.Select(kv => kv.Key)));
    }

    [Test]
    public void ApplyGradients_OnAConstrainedWeight_AssignsTheConstraintAfterTheUpdate()
    {
        var input = new Input(3);
        using var model = new Model(input, new Dense(2, useBias: false) { KernelConstraint = new NonNeg() }.Call(input));
        var kernel = model.TrainableWeights[0];
        model.SetWeights(new[] { WeightArray.FromArray(new float[,] { { 0.5f, -0.1f }, { 0.2f, 0.3f }, { -0.4f, 0.1f } }) });
        using var sgd = new SGD(1.0);
        using var grad = tensor(new float[] { 1, 0, 0, 1, 0, 0 }, new long[] { 3, 2 });
        sgd.ApplyGradients(new[] { ((Tensor?)grad, kernel) });
        Assert.That(model.GetWeights()[0].Data, Is.EqualTo(new float[] { 0, 0, 0.2f, 0, 0, 0.1f }).Within(1e-7));
    }

    [Test]
    public void DepthwiseConv_WithAKernelConstraint_IsRefusedWhenBuiltNamingDepthwiseConstraint()
    {
        var input = new Input(new[] { 5, 3 });
        var layer = new DepthwiseConv1D(2) { KernelConstraint = new NonNeg() };
        Assert.That(() => layer.Call(input), Throws.TypeOf<NotSupportedException>().With.Message.Contains("DepthwiseConstraint"));
    }
}
