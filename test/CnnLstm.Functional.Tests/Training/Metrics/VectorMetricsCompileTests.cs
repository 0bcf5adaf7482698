using KerasStyle.Tests.Models;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>
/// Metrics whose Keras result is a vector (F1Score/FBetaScore with average null, Precision/Recall and the confusion
/// counts with several thresholds): Keras 3.16 logs an array for them in History, Evaluate and train_on_batch
/// (KerasFixtures/batch_weights.json "vector_metrics"), which this library's one-number logs cannot hold, so Compile
/// refuses them, naming the metric and what to use instead, before anything changes.
/// </summary>
public class VectorMetricsCompileTests
{
    private static System.Text.Json.Nodes.JsonNode Keras => ModelOnBatchWeightsTests.Fixture["vector_metrics"]!;

    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void KerasLogsAnArrayForThem_SoTheRefusalIsAboutARealDifference()
    {
        // The premise of the refusal, as real Keras 3.16 recorded it: arrays (3 classes, 2 thresholds), numbers for the loss.
        foreach (var key in new[] { "f1_score", "val_f1_score" })
        {
            Assert.That(Keras["history"]![key]!.AsArray().Select(v => (string?)v!["type"] + v["length"]), Is.All.EqualTo("array3"), key);
        }

        Assert.That(Keras["evaluate_dict"]!["precision"]!["length"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(Keras["evaluate_dict"]!["loss"]!["type"]!.GetValue<string>(), Is.EqualTo("number"));
        Assert.That(Keras["early_stopping_error"]!.GetValue<string>(), Does.Contain("ambiguous"));
    }

    [Test]
    public void F1ScoreWithoutAverage_IsRefusedNamingItAndTheAverages()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        var error = Assert.Throws<ArgumentException>(() => model.Compile("sgd", new KerasStyle.Training.Losses.CategoricalCrossentropy(), new Metric[] { new F1Score(name: "f1") }))!;

        Assert.That(error.Message, Does.Contain("'f1' (F1Score with average null").And.Contain("Keras 3.16 logs an array").And.Contain("average: \"macro\"").And.Contain("ResultValues()"));
        Assert.That(error.ParamName, Is.EqualTo("metrics"));
        Assert.That(model.IsCompiled, Is.False);
    }

    [Test]
    public void PrecisionAndCountsWithSeveralThresholds_AreRefusedNamingThemAndOneMetricPerThreshold()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        var precision = Assert.Throws<ArgumentException>(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { new Precision(new[] { 0.3, 0.5 }, name: "p") }))!;
        var counts = Assert.Throws<ArgumentException>(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { new FalseNegatives(new[] { 0.25, 0.5, 0.75 }) }))!;

        Assert.That(precision.Message, Does.Contain("'p' (Precision with 2 thresholds)").And.Contain("Keras 3.16 logs an array").And.Contain("new Precision(thresholds: 0.3, name: \"p_0.3\")"));
        Assert.That(counts.Message, Does.Contain("'false_negatives' (FalseNegatives with 3 thresholds)").And.Contain("new FalseNegatives(0.25, \"false_negatives_0.25\")"));
        Assert.That(model.IsCompiled, Is.False);
    }
}
