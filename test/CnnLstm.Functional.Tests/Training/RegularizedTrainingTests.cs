using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Regularizers;
using KerasStyle.Tests.Regularizers;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training;

/// <summary>
/// Training with weight and activity regularizers against Keras 3.16 (KerasFixtures/regularizers.json): an Embedding,
/// Conv1D, LSTM and Dense model with a regularizer on every kind of argument, trained with SGD and Adam from Keras'
/// initial weights. The logged loss includes the penalties, as Keras' <c>compute_loss</c>; the activity penalty is
/// divided by the batch size (7 samples in batches of 3 end with a batch of 1).
/// </summary>
public class RegularizedTrainingTests
{
    private static JsonObject Fixture => RegularizerTests.Fixture;

    internal static Model Build()
    {
        var input = new Input(6, DType.Int32);
        var h = new Embedding(10, 4, name: "embedding") { EmbeddingsRegularizer = new L2(0.01) }.Call(input);
        h = new Conv1D(3, 2, name: "conv1d") { KernelRegularizer = new L2(0.02), BiasRegularizer = new L1(0.05) }.Call(h);
        h = new LSTM(4, name: "lstm")
        {
            KernelRegularizer = new L2(0.01),
            RecurrentRegularizer = new L1(0.01),
            BiasRegularizer = new L1L2(0.01, 0.01),
            ActivityRegularizer = new L2(0.05),
        }.Call(h);
        h = new Dense(3, "tanh", name: "dense") { KernelRegularizer = new L1L2(0.01, 0.02), BiasRegularizer = new L2(0.03), ActivityRegularizer = new L1(0.02) }.Call(h);
        return new Model(input, new Dense(2, name: "out").Call(h));
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

    [TestCase("sgd")]
    [TestCase("adam")]
    public void FitEvaluateTrainOnBatch_WithRegularizers_GiveKerasLossesAndWeights(string optimizer)
    {
        var keras = Fixture["cases"]![optimizer]!;
        var x = FixtureJson.ToInt2(Fixture["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(Fixture["y"]!.AsArray());
        using var model = Build();
        SetWeights(model, keras["initial_weights"]!);
        model.Compile(optimizer == "sgd" ? new SGD(0.1) : new Adam(0.01), "mse");

        var history = model.Fit(x, y, batchSize: 3, epochs: 3, verbose: 0, shuffle: false);
        var expectedHistory = keras["history"]!["loss"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.That(history["loss"], Is.EqualTo(expectedHistory).Within(1e-5), "loss per epoch");
        Assert.That(model.Evaluate(x, y, batchSize: 3)["loss"], Is.EqualTo(keras["evaluate"]!["loss"]!.GetValue<double>()).Within(1e-5), "evaluate");
        Assert.That(model.TrainOnBatch(x, y)["loss"], Is.EqualTo(keras["train_on_batch"]!["loss"]!.GetValue<double>()).Within(1e-5), "train_on_batch");

        var expected = keras["weights"]!.AsArray();
        var actual = model.GetWeights();
        Assert.That(actual, Has.Count.EqualTo(expected.Count));
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].Data, Is.EqualTo(FixtureJson.Flatten(expected[i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i}");
        }
    }

    [Test]
    public void Evaluate_LossIncludesEveryPenalty()
    {
        // Without the regularizers the same weights give a smaller loss: the penalties are in the reported loss.
        var keras = Fixture["cases"]!["sgd"]!;
        var x = FixtureJson.ToInt2(Fixture["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(Fixture["y"]!.AsArray());
        using var model = Build();
        SetWeights(model, keras["initial_weights"]!);
        model.Compile("sgd", "mse");
        var input = new Input(6, DType.Int32);
        var h = new Embedding(10, 4).Call(input);
        h = new LSTM(4).Call(new Conv1D(3, 2).Call(h));
        using var plain = new Model(input, new Dense(2).Call(new Dense(3, "tanh").Call(h)));
        SetWeights(plain, keras["initial_weights"]!);
        plain.Compile("sgd", "mse");
        Assert.That(model.Evaluate(x, y, batchSize: 3)["loss"], Is.GreaterThan(plain.Evaluate(x, y, batchSize: 3)["loss"] + 0.01));
    }

    [TestCase("embedding")]
    [TestCase("conv1d")]
    [TestCase("lstm")]
    [TestCase("dense")]
    public void GetConfig_WritesRegularizersAsKeras316(string layer)
    {
        using var model = Build();
        var config = model.Layers.Single(l => l.Name == layer).GetConfig();
        var keras = Fixture["configs"]![layer]!.AsObject();
        foreach (var (key, value) in keras.Where(kv => kv.Key.Contains("regularizer", StringComparison.Ordinal)))
        {
            Assert.That(JsonNode.DeepEquals(config[key], value), Is.True, $"{layer}.{key}: {config[key]?.ToJsonString()} against {value?.ToJsonString()}");
        }

        Assert.That(config.Where(kv => kv.Key.Contains("regularizer", StringComparison.Ordinal)).Select(kv => kv.Key),
            Is.EquivalentTo(keras.Where(kv => kv.Key.Contains("regularizer", StringComparison.Ordinal)).Select(kv => kv.Key)));
    }

    [Test]
    public void FromJson_KerasConfigs_RoundTripTheRegularizersAndTrainAlike()
    {
        // The library's own JSON read back: the same penalties (same evaluate loss) and the same configs.
        var keras = Fixture["cases"]!["sgd"]!;
        var x = FixtureJson.ToInt2(Fixture["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(Fixture["y"]!.AsArray());
        using var model = Build();
        using var loaded = Model.FromJson(model.ToJson());
        foreach (var layer in model.Layers)
        {
            Assert.That(JsonNode.DeepEquals(loaded.Layers.Single(l => l.Name == layer.Name).GetConfig(), layer.GetConfig()), Is.True, layer.Name);
        }

        SetWeights(loaded, keras["initial_weights"]!);
        loaded.Compile(new SGD(0.1), "mse");
        Assert.That(loaded.Fit(x, y, batchSize: 3, epochs: 1, verbose: 0, shuffle: false)["loss"][0],
            Is.EqualTo(keras["history"]!["loss"]![0]!.GetValue<double>()).Within(1e-5));
    }
}
