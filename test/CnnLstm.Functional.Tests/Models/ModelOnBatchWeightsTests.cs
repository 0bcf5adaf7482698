using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Models;

/// <summary>
/// TrainOnBatch's <c>sampleWeight</c> and <c>classWeight</c> and TestOnBatch's <c>sampleWeight</c> against Keras 3.16
/// (KerasFixtures/batch_weights.json "on_batch"): a Dense(3, softmax) with SGD, sparse categorical cross-entropy and a
/// weighted accuracy, 3 steps with sample weights, one with class weights, then a weighted test_on_batch.
/// </summary>
public class ModelOnBatchWeightsTests
{
    internal static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "batch_weights.json")))!.AsObject();

    private static JsonNode Keras => Fixture["on_batch"]!;

    [SetUp]
    public void Reset() => Backend.ClearSession();

    private static Model Build()
    {
        var input = new Input(new[] { 2 });
        var model = new Model(input, new Dense(3, "softmax").Call(input));
        model.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToArray(Keras["kernel"]!.AsArray())), WeightArray.FromArray(FixtureJson.ToArray(Keras["bias"]!.AsArray())) });
        model.Compile(new SGD(0.1), "sparse_categorical_crossentropy", weightedMetrics: new[] { "sparse_categorical_accuracy" });
        return model;
    }

    private static void AssertLogs(IReadOnlyDictionary<string, double> actual, JsonNode expected, string what)
    {
        Assert.That(actual.Keys, Is.EquivalentTo(expected.AsObject().Select(p => p.Key)), what);
        foreach (var (name, value) in expected.AsObject())
        {
            Assert.That(actual[name], Is.EqualTo(value!.GetValue<double>()).Within(1e-5), $"{what}: {name}");
        }
    }

    [Test]
    public void TrainOnBatchAndTestOnBatch_WithSampleAndClassWeights_GiveKerasLogsAndWeights()
    {
        using var model = Build();
        var x = FixtureJson.ToFloat2(Keras["x"]!.AsArray());
        var y = Keras["y"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
        var steps = Keras["steps"]!.AsArray();
        var weights = Keras["sample_weights"]!.AsArray();
        for (var step = 0; step < weights.Count; step++)
        {
            AssertLogs(model.TrainOnBatch(x, y, sampleWeight: FixtureJson.ToArray(weights[step]!.AsArray())), steps[step]!, $"train_on_batch {step} with sample_weight");
        }

        var classWeight = Keras["class_weight"]!.AsObject().ToDictionary(p => int.Parse(p.Key, System.Globalization.CultureInfo.InvariantCulture), p => p.Value!.GetValue<double>());
        AssertLogs(model.TrainOnBatch(x, y, classWeight: classWeight), steps[weights.Count]!, "train_on_batch with class_weight");
        AssertLogs(model.TestOnBatch(x, y, sampleWeight: FixtureJson.ToArray(Keras["test_weight"]!.AsArray())), Keras["test"]!, "test_on_batch with sample_weight");
        var after = Keras["weights_after"]!.AsArray();
        var actual = model.GetWeights();
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].Data, Is.EqualTo(FixtureJson.Flatten(after[i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i}");
        }
    }

    [Test]
    public void TrainOnBatch_WithSampleAndClassWeightsTogether_IsRefusedAsKerasBeforeAnyStep()
    {
        using var model = Build();
        var x = FixtureJson.ToFloat2(Keras["x"]!.AsArray());
        var y = Keras["y"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
        var before = model.GetWeights().Select(w => w.Data.ToArray()).ToArray();

        var error = Assert.Throws<ArgumentException>(() => model.TrainOnBatch(x, y, sampleWeight: new float[5], classWeight: new Dictionary<int, double> { [0] = 2 }))!;

        Assert.That(error.Message, Does.StartWith("TrainOnBatch: give sampleWeight or classWeight, not both"), $"Keras: {Keras["both_error"]}");
        Assert.That(model.GetWeights().Select(w => w.Data.ToArray()), Is.EqualTo(before));
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(0));
    }

    [Test]
    public void TrainOnBatchAndTestOnBatch_WithBadWeights_AreRefusedBeforeAnyStep()
    {
        using var model = Build();
        var x = FixtureJson.ToFloat2(Keras["x"]!.AsArray());
        var y = Keras["y"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();

        Assert.That(() => model.TrainOnBatch(x, y, sampleWeight: new float[4]), Throws.ArgumentException.With.Message.Contains("5 samples"));
        Assert.That(() => model.TrainOnBatch(x, y, sampleWeight: new[] { 1f, 1f, -1f, 1f, 1f }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("sampleWeight[2]"));
        Assert.That(() => model.TrainOnBatch(x, y, classWeight: new Dictionary<int, double> { [1] = double.NaN }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("classWeight[1]"));
        Assert.That(() => model.TestOnBatch(x, y, sampleWeight: new float[6]), Throws.ArgumentException.With.Message.Contains("5 samples"));
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(0));
    }
}
