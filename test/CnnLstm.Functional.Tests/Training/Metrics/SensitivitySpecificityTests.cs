using System.Text.Json.Nodes;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision: Keras 3.16's confusion_metrics_test.py cases and argument errors.</summary>
public class SensitivitySpecificityTests
{
    private static readonly float[] Predictions = { 0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.01f, 0.02f, 0.25f, 0.26f, 0.26f };
    private static readonly float[] Labels = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 };
    private static readonly float[] Weights = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void Thresholds_AreKerasOnes()
    {
        Assert.That(new PrecisionAtRecall(0.5, numThresholds: 3).Thresholds, Is.EqualTo(new[] { 0.0, 0.5, 1.0 }));
        Assert.That(new PrecisionAtRecall(0.5, numThresholds: 2).Thresholds, Is.EqualTo(new[] { 0.0, 1.0 }));
        Assert.That(new PrecisionAtRecall(0.5, numThresholds: 1).Thresholds, Is.EqualTo(new[] { 0.5 }));
    }

    [Test]
    public void AllCorrect_GivesOne()
    {
        var labels = Enumerable.Range(0, 100).Select(i => (float)((i * 7) % 3 == 0 ? 1 : 0)).ToArray();
        Assert.That(new SensitivityAtSpecificity(0.7).Invoke(labels, labels), Is.EqualTo(1).Within(1e-6));
        Assert.That(new SpecificityAtSensitivity(0.7).Invoke(labels, labels), Is.EqualTo(1).Within(1e-6));
        Assert.That(new PrecisionAtRecall(0.7).Invoke(labels, labels), Is.EqualTo(1).Within(1e-6));
        Assert.That(new RecallAtPrecision(0.7).Invoke(labels, labels), Is.EqualTo(1).Within(1e-6));
    }

    [Test]
    public void SensitivityAtSpecificity_AsKerasTests()
    {
        Assert.That(new SensitivityAtSpecificity(0.8).Invoke(new float[] { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 }, new[] { 0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.1f, 0.45f, 0.5f, 0.8f, 0.9f }), Is.EqualTo(0.8).Within(1e-6));
        Assert.That(new SensitivityAtSpecificity(0.4).Invoke(Labels, Predictions), Is.EqualTo(0.6).Within(1e-6));
        Assert.That(new SensitivityAtSpecificity(0.4).Invoke(Labels, Predictions, Weights), Is.EqualTo(0.675).Within(1e-6));
    }

    [Test]
    public void SpecificityAtSensitivity_ClassId_AsKerasTest()
    {
        var labels = new[] { 0, 0, 0, 0, 0, 2, 2, 2, 2, 2 };
        var oneHot = new float[10, 3];
        var predictions = new float[10, 3];
        for (var i = 0; i < 10; i++)
        {
            oneHot[i, labels[i]] = 1;
            for (var c = 0; c < 3; c++)
            {
                predictions[i, c] = Predictions[i];
            }
        }

        Assert.That(new SpecificityAtSensitivity(0.4, classId: 2).Invoke(oneHot, predictions), Is.EqualTo(0.6).Within(1e-6));
        Assert.That(() => new SpecificityAtSensitivity(0.4, classId: 3).Invoke(oneHot, predictions), Throws.ArgumentException.With.Message.Contains("classId 3"));
    }

    [Test]
    public void SpecificityAtSensitivity_AsKerasTests()
    {
        Assert.That(new SpecificityAtSensitivity(0.4).Invoke(Labels, Predictions), Is.EqualTo(0.6).Within(1e-6));
        Assert.That(new SpecificityAtSensitivity(0.4).Invoke(Labels, Predictions, Weights), Is.EqualTo(0.4).Within(1e-6));
    }

    [Test]
    public void PrecisionAtRecall_AsKerasTests()
    {
        var predictions = new[] { 0.0f, 0.1f, 0.2f, 0.5f, 0.6f, 0.2f, 0.5f, 0.6f, 0.8f, 0.9f };
        Assert.That(new PrecisionAtRecall(0.8).Invoke(Labels, predictions), Is.EqualTo(2.0 / 3).Within(1e-6));
        Assert.That(new PrecisionAtRecall(0.6).Invoke(Labels, predictions), Is.EqualTo(0.75).Within(1e-6));
        Assert.That(new PrecisionAtRecall(7.0 / 8).Invoke(Labels, predictions, new float[] { 2, 1, 2, 1, 2, 1, 2, 2, 1, 2 }), Is.EqualTo(0.7).Within(1e-6));
    }

    [Test]
    public void RecallAtPrecision_AsKerasTests()
    {
        var predictions = new[] { 0.05f, 0.1f, 0.2f, 0.3f, 0.3f, 0.35f, 0.4f, 0.45f, 0.5f, 0.6f, 0.9f, 0.95f };
        var labels = new float[] { 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1 };
        Assert.That(new RecallAtPrecision(0.75).Invoke(labels, predictions), Is.EqualTo(0.5).Within(1e-6));
        Assert.That(new RecallAtPrecision(2.0 / 3).Invoke(labels, predictions), Is.EqualTo(5.0 / 6).Within(1e-6));
    }

    [Test]
    public void DefaultNames_AreUniqueAsKeras()
    {
        Assert.That((new PrecisionAtRecall(0.5).Name, new PrecisionAtRecall(0.5).Name, new RecallAtPrecision(0.5).Name), Is.EqualTo(("precision_at_recall", "precision_at_recall_1", "recall_at_precision")));
    }

    [Test]
    public void BadArguments_AreRefusedAsKeras()
    {
        Assert.That(() => new SensitivityAtSpecificity(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("`specificity` must be in the range [0, 1]"));
        Assert.That(() => new SpecificityAtSensitivity(1.1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("`sensitivity`"));
        Assert.That(() => new PrecisionAtRecall(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("`recall`"));
        Assert.That(() => new RecallAtPrecision(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("`precision`"));
        Assert.That(() => new SensitivityAtSpecificity(0.4, numThresholds: -1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("`num_thresholds` must be an integer > 0"));
        Assert.That(() => new RecallAtPrecision(0.4, numThresholds: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [TestCase("""{"class_name": "PrecisionAtRecall", "config": {"name": "p"}}""", "'recall' is required")]
    [TestCase("""{"class_name": "SensitivityAtSpecificity", "config": {"specificity": 0.5, "thresholds": 3}}""", "unknown argument 'thresholds'")]
    [TestCase("""{"class_name": "RecallAtPrecision", "config": {"precision": 1.5}}""", "range [0, 1]")]
    public void BadConfigs_AreRefused(string metric, string message)
    {
        Assert.That(() => NumericsFixture.Deserialize("mse", new JsonArray(JsonNode.Parse(metric))), Throws.TypeOf<FormatException>().With.Message.Contains(message));
    }

    [Test]
    public void Compile_RefusesClassIdsAndAClassBeyondTheUnits()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { new PrecisionAtRecall(0.5, classId: 3) }), Throws.ArgumentException.With.Message.Contains("classId 3"));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.SparseCategoricalCrossentropy(), new Metric[] { new PrecisionAtRecall(0.5) }), Throws.ArgumentException.With.Message.Contains("class ids"));
    }
}
