using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>
/// <c>SparseCategoricalCrossentropy(axis: 1)</c> in a compiled model against Keras 3.16 (KerasFixtures/batch_weights.json
/// "class_axis_1"): a (batch, classes, steps) output (Dense(3, softmax) over a (3, 2) sequence, then Permute((2, 1)))
/// trained 3 SGD steps on (batch, steps) class ids, with and without (batch, steps) sample weights, and evaluated.
/// </summary>
public class SparseClassAxisTrainingTests
{
    private static IEnumerable<string> Cases() => ModelOnBatchWeightsTests.Fixture["class_axis_1"]!["cases"]!.AsObject().Select(p => p.Key);

    [SetUp]
    public void Reset() => Backend.ClearSession();

    private static (Model Model, Dense Dense) Build()
    {
        var keras = ModelOnBatchWeightsTests.Fixture["class_axis_1"]!;
        var input = new Input(new[] { 3, 2 });
        var dense = new Dense(3, "softmax");
        var model = new Model(input, new Permute(new[] { 2, 1 }).Call(dense.Call(input)));
        dense.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToArray(keras["kernel"]!.AsArray())), WeightArray.FromArray(FixtureJson.ToArray(keras["bias"]!.AsArray())) });
        model.Compile(new SGD(0.1), new SparseCategoricalCrossentropy(axis: 1));
        return (model, dense);
    }

    [TestCaseSource(nameof(Cases))]
    public void ClassAxisOne_TrainsAndEvaluatesAsKeras(string name)
    {
        var fixture = ModelOnBatchWeightsTests.Fixture["class_axis_1"]!;
        var keras = fixture["cases"]![name]!;
        var (model, dense) = Build();
        using var owned = model;
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        var y = FixtureJson.ToLong2(fixture["y"]!.AsArray());
        var weights = keras["sample_weight"] is System.Text.Json.Nodes.JsonArray w ? FixtureJson.ToArray(w) : null;

        var losses = Enumerable.Range(0, 3).Select(_ => model.TrainOnBatch(x, y, sampleWeight: weights)["loss"]).ToArray();

        Assert.That(losses, Is.EqualTo(keras["losses"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).Within(1e-5), "train_on_batch");
        Assert.That(model.Evaluate(x, y, batchSize: 4, sampleWeight: weights)["loss"], Is.EqualTo(keras["evaluate"]!.GetValue<double>()).Within(1e-5), "evaluate");
        var after = keras["weights_after"]!.AsArray();
        var actual = dense.GetWeights();
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].Data, Is.EqualTo(FixtureJson.Flatten(after[i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i}");
        }
    }

    [Test]
    public void ClassAxisOne_ClassIdsShapedLikeTheLastAxisOrOutOfRange_AreRefusedBeforeAnyStep()
    {
        var (model, _) = Build();
        using var owned = model;

        // The output is (batch, 3 classes, 3 steps): ids are (batch, 3) steps, each in [0, 3).
        Assert.That(() => model.TrainOnBatch(new float[2, 3, 2], new long[2, 2]), Throws.ArgumentException.With.Message.Contains("(samples, 3)"));
        Assert.That(() => model.TrainOnBatch(new float[2, 3, 2], new long[,] { { 0, 1, 3 }, { 0, 0, 0 } }), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[0, 3)"));
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(0));
    }

    [Test]
    public void ClassAxisOne_WithClassIdMetrics_IsRefusedAtCompile_AsKerasComputesThemOverTheLastAxis()
    {
        // Keras 3.16 computes "accuracy" (sparse categorical) over the last axis whatever the loss's axis: with 4 steps
        // and 3 classes it fails (batch_weights.json "accuracy_4_steps_error").
        Assert.That(ModelOnBatchWeightsTests.Fixture["class_axis_1"]!["accuracy_4_steps_error"]!.GetValue<string>(), Does.Contain("must match"));
        var input = new Input(new[] { 4, 2 });
        using var model = new Model(input, new Permute(new[] { 2, 1 }).Call(new Dense(3, "softmax").Call(input)));

        foreach (var metric in new KerasStyle.Training.Metric[] { "accuracy", new KerasStyle.Training.Metrics.SparseCategoricalAccuracy("acc") })
        {
            var error = Assert.Throws<ArgumentException>(() => model.Compile(new SGD(0.1), new SparseCategoricalCrossentropy(axis: 1), new[] { metric }))!;
            Assert.That(error.Message, Does.Contain("SparseCategoricalAccuracy").And.Contain("classes on axis 1").And.Contain("Keras 3.16 computes such metrics over the last axis"));
        }

        Assert.That(model.IsCompiled, Is.False);
    }
}
