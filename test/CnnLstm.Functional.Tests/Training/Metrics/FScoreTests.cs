using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>FBetaScore and F1Score: Keras 3.16's f_score_metrics_test.py cases, its argument and rank errors, and what a log cannot hold.</summary>
public class FScoreTests
{
    private static readonly float[,] RandomTrue = { { 0, 0, 1 }, { 1, 1, 0 }, { 1, 1, 1 } };
    private static readonly float[,] RandomPred = { { 0.7f, 0.7f, 0.7f }, { 1, 0, 0 }, { 0.9f, 0.8f, 0 } };

    [TestCase(null, 0.5, new[] { 0.71428573, 0.5, 0.833334 })]
    [TestCase(null, 1.0, new[] { 0.8, 0.5, 0.6666667 })]
    [TestCase(null, 2.0, new[] { 0.9090904, 0.5, 0.555556 })]
    [TestCase("micro", 0.5, new[] { 0.6666667 })]
    [TestCase("micro", 2.0, new[] { 0.6666667 })]
    [TestCase("macro", 0.5, new[] { 0.6825397 })]
    [TestCase("macro", 1.0, new[] { 0.6555555 })]
    [TestCase("macro", 2.0, new[] { 0.6548822 })]
    [TestCase("weighted", 0.5, new[] { 0.6825397 })]
    [TestCase("weighted", 2.0, new[] { 0.6548822 })]
    public void RandomScore_AsKerasTest(string? average, double beta, double[] expected)
    {
        var metric = new FBetaScore(average, beta, threshold: 0.66);
        metric.UpdateState(RandomTrue, RandomPred);
        Assert.That(metric.ResultValues(), Is.EqualTo(expected).Within(1e-5));
    }

    [TestCase(null, 0.5, new[] { 0.9090904, 0.555556, 1.0 })]
    [TestCase(null, 2.0, new[] { 0.71428573, 0.833334, 1.0 })]
    [TestCase("micro", 1.0, new[] { 0.833334 })]
    [TestCase("macro", 0.5, new[] { 0.821549 })]
    [TestCase("macro", 2.0, new[] { 0.849206 })]
    [TestCase("weighted", 0.5, new[] { 0.880471 })]
    [TestCase("weighted", 1.0, new[] { 0.844445 })]
    [TestCase("weighted", 2.0, new[] { 0.829365 })]
    public void RandomScore_ArgmaxWithoutThreshold_AsKerasTest(string? average, double beta, double[] expected)
    {
        // Keras' test_fbeta_random_score_none.
        var yTrue = new float[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 1, 0, 0 }, { 1, 0, 0 }, { 0, 0, 1 } };
        var yPred = new float[,] { { 0.9f, 0.1f, 0 }, { 0.2f, 0.6f, 0.2f }, { 0, 0, 1 }, { 0.4f, 0.3f, 0.3f }, { 0, 0.9f, 0.1f }, { 0, 0, 1 } };
        var metric = new FBetaScore(average, beta);
        metric.UpdateState(yTrue, yPred);
        Assert.That(metric.ResultValues(), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void ScalarAndPerEntryWeights_AsKerasTest()
    {
        var yTrue = new float[,] { { 1, 1 }, { 1, 0 } };
        var yPred = new float[,] { { 0.2f, 0.6f }, { 0.2f, 0.6f } };
        var scalar = new FBetaScore(threshold: 0.5);
        scalar.UpdateState(TorchSharp.torch.tensor(yTrue), TorchSharp.torch.tensor(yPred), TorchSharp.torch.tensor(0.5f));
        Assert.That(scalar.ResultValues(), Is.EqualTo(new[] { 0.0, 0.6666665 }).Within(1e-5));
        var perEntry = new FBetaScore(threshold: 0.5);
        perEntry.UpdateState(yTrue, yPred, new float[,] { { 0.5f, 0.2f }, { 0.3f, 0.8f } });
        Assert.That(perEntry.ResultValues(), Is.EqualTo(new[] { 0.0, 0.333333 }).Within(1e-5));
    }

    [Test]
    public void F1Score_Correctness_AsKerasTest()
    {
        var metric = new F1Score(threshold: 0.5);
        metric.UpdateState(new float[,] { { 1, 1, 1 }, { 1, 0, 0 }, { 1, 1, 0 } }, new float[,] { { 0.2f, 0.6f, 0.7f }, { 0.2f, 0.6f, 0.6f }, { 0.6f, 0.8f, 0 } });
        Assert.That(metric.ResultValues(), Is.EqualTo(new[] { 0.5, 0.8, 0.6666666 }).Within(1e-5));
        Assert.That(() => metric.Result(), Throws.InvalidOperationException.With.Message.Contains("ResultValues"), "Keras' result is a list per class");
    }

    [Test]
    public void BadArguments_AreRefusedAsKeras()
    {
        Assert.That(() => new FBetaScore(average: "average"), Throws.ArgumentException.With.Message.Contains("average"));
        Assert.That(() => new FBetaScore(beta: 0.0), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new FBetaScore(beta: -1.0), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new FBetaScore(beta: -0.5), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new FBetaScore(threshold: 1.1), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new FBetaScore(threshold: 0.0), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new F1Score(threshold: -0.5), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void NonRank2Inputs_AreRefusedBeforeAnyState()
    {
        var metric = new F1Score(average: "micro");
        Assert.That(() => metric.UpdateState(new float[] { 1, 0 }, new float[] { 0.2f, 0.6f }), Throws.ArgumentException.With.Message.Contains("2D inputs"));
        Assert.That(() => metric.UpdateState(new float[,,] { { { 1 } } }, new float[,,] { { { 1 } } }), Throws.ArgumentException.With.Message.Contains("2D inputs"));
        Assert.That(metric.Result(), Is.EqualTo(0));
    }

    [TestCase("""{"class_name": "FBetaScore", "config": {"beta": 1}}""", "Python float")]
    [TestCase("""{"class_name": "FBetaScore", "config": {"beta": null}}""", "Python float")]
    [TestCase("""{"class_name": "FBetaScore", "config": {"beta": "1.0"}}""", "Python float")]
    [TestCase("""{"class_name": "F1Score", "config": {"threshold": 1}}""", "Python float")]
    [TestCase("""{"class_name": "F1Score", "config": {"beta": 2.0}}""", "unknown argument 'beta'")]
    [TestCase("""{"class_name": "F1Score", "config": {"average": "mean"}}""", "average")]
    public void BadConfigs_AreRefusedAsKeras(string metric, string message)
    {
        Assert.That(() => NumericsFixture.Deserialize("mse", new JsonArray(JsonNode.Parse(metric))), Throws.TypeOf<FormatException>().With.Message.Contains(message));
    }

    [Test]
    public void Compile_RefusesNoAverage_ClassIds_AndOtherRanks()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { new F1Score() }), Throws.ArgumentException.With.Message.Contains("one score per class"));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { "f1_score" }), Throws.ArgumentException.With.Message.Contains("one score per class"));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.SparseCategoricalCrossentropy(), new Metric[] { new F1Score("macro") }), Throws.ArgumentException.With.Message.Contains("class ids"));
        var input = new Input(shape: new[] { 2, 3 });
        using var sequence = new Model(input, new Dense(3).Call(input));
        Assert.That(() => sequence.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { new FBetaScore("micro") }), Throws.ArgumentException.With.Message.Contains("2D inputs"));
    }
}
