using KerasStyle.Training;
using KerasStyle.Training.Losses;

namespace KerasStyle.Tests.Training;

public class MetricTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void Accuracy_OneOutputUnit_ThresholdsAtHalf_WithHalfItselfCountingAsZero()
    {
        // Keras' binary accuracy: prediction 1 when p > 0.5; p = 0.5 is class 0.
        var p = new float[,] { { 0.5f }, { 0.50001f }, { 0.2f }, { 0.9f } };
        var y = new float[] { 0, 1, 0, 0 };
        Assert.That(Score("mse", "accuracy", p, y), Is.EqualTo(0.75).Within(1e-7));
    }

    [Test]
    public void Accuracy_BinaryCrossentropyOnSeveralUnits_IsCategoricalAsKeras3()
    {
        // Keras 3 picks accuracy from the shapes only (compile_utils.is_binary_or_sparse_categorical): binary for one
        // unit, so two units are compared by argmax even under binary cross-entropy (Keras 2 compared each unit:
        // 0.5 here). Checked against Keras 3.16 in Layers/MaskingTests.cs.
        var p = new float[,] { { 0.9f, 0.4f }, { 0.6f, 0.7f } };
        var y = new float[,] { { 1, 1 }, { 0, 1 } };
        Assert.That(Score("binary_crossentropy", "accuracy", p, y), Is.EqualTo(1.0).Within(1e-7));
    }

    [Test]
    public void Accuracy_SeveralUnits_ComparesArgmax()
    {
        var p = new float[,] { { 0.1f, 0.7f, 0.2f }, { 0.5f, 0.3f, 0.2f }, { 0.3f, 0.3f, 0.4f } };
        var y = new float[,] { { 0, 1, 0 }, { 0, 0, 1 }, { 0, 0, 1 } };
        Assert.That(Score("categorical_crossentropy", "accuracy", p, y), Is.EqualTo(2.0 / 3).Within(1e-7));
        Assert.That(Score("mse", "accuracy", p, y), Is.EqualTo(2.0 / 3).Within(1e-7));
    }

    [Test]
    public void Accuracy_SparseLoss_ComparesClassIdsWithArgmax()
    {
        var p = new float[,] { { 0.1f, 0.7f, 0.2f }, { 0.5f, 0.3f, 0.2f }, { 0.3f, 0.3f, 0.4f } };
        Assert.That(Score("sparse_categorical_crossentropy", "accuracy", p, new[] { 1, 2, 2 }), Is.EqualTo(2.0 / 3).Within(1e-7));
    }

    [TestCase("mae", 0.375)]
    [TestCase("mean_absolute_error", 0.375)]
    [TestCase("mse", 0.1875)]
    [TestCase("mean_squared_error", 0.1875)]
    public void ErrorMetrics_AreMeansOverUnitsAndSamples(string metric, double expected)
    {
        var p = new float[,] { { 0.5f, 1f }, { 0f, 0.5f } };
        var y = new float[,] { { 0f, 1f }, { 0.5f, 0f } };
        Assert.That(Score("mae", metric, p, y), Is.EqualTo(expected).Within(1e-7));
    }

    [Test]
    public void Acc_IsLoggedUnderTheNameGiven()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", "mse", new[] { "acc", "mae" });
        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "acc", "mae" }));
        Assert.That(model.Evaluate(new float[,] { { 0.7f } }, new float[] { 1 }).Keys, Is.EqualTo(new[] { "loss", "acc", "mae" }));
    }

    [Test]
    public void EpochValue_IsSampleWeightedMeanOfBatchValues()
    {
        // Batches of 3 and 1 samples: an unweighted mean of batch accuracies would be (2/3 + 0) / 2 = 1/3.
        var p = new float[,] { { 0.9f }, { 0.9f }, { 0.1f }, { 0.9f } };
        var y = new float[] { 1, 1, 1, 0 };
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", "mse", new[] { "accuracy" });
        Assert.That(model.Evaluate(p, y, batchSize: 3)["accuracy"], Is.EqualTo(0.5).Within(1e-7));
    }

    [Test]
    public void Resolve_UnknownName_ListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Metric.Resolve("pearson_correlation", new MeanSquaredError(), 1));
        Assert.That(e!.ParamName, Is.EqualTo("metrics"));
        Assert.That(e.Message, Does.Contain("'pearson_correlation'").And.Contain(string.Join(", ", Metric.Known)));
    }

    private static double Score(string loss, string metric, float[,] p, Array y)
    {
        using var model = TinyModels.Linear(TinyModels.Identity(p.GetLength(1)));
        model.Compile("sgd", loss, new[] { metric });
        return model.Evaluate(p, y)[metric];
    }
}
