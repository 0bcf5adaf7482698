using System.Text.Json.Nodes;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU: Keras 3.16's iou_metrics_test.py cases and argument errors.</summary>
public class IoUTests
{
    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void IoU_UnweightedAndWeighted_AsKerasTests()
    {
        // cm = [[1, 1], [1, 1]]: IoU of class 0 and 1 is 1/3 each.
        Assert.That(new IoU(2, new[] { 0 }).Invoke(new float[] { 0, 0, 1, 1 }, new float[] { 0, 1, 0, 1 }), Is.EqualTo(1.0 / 3).Within(1e-6));
        var weighted = new IoU(2, new[] { 1, 0 }, dtype: "float32").Invoke(new float[] { 0, 0, 1, 1 }, new float[] { 0, 1, 0, 1 }, new[] { 0.2f, 0.3f, 0.4f, 0.1f });
        Assert.That(weighted, Is.EqualTo(((0.1 / (0.4 + 0.5 - 0.1)) + (0.2 / (0.6 + 0.5 - 0.2))) / 2).Within(1e-6));
    }

    [Test]
    public void OutOfRangeAndNegativeIds_AreSkipped_AsKerasTests()
    {
        Assert.That(new IoU(2, new[] { 0, 1 }).Invoke(new float[] { 0, 1, 2, 5 }, new float[] { 0, 1, 0, 1 }), Is.EqualTo(1).Within(1e-6));
        Assert.That(new IoU(2, new[] { 0, 1 }).Invoke(new float[] { 0, 1, -1, 1 }, new float[] { 0, 1, 0, -2 }), Is.EqualTo(1).Within(1e-6));
        Assert.That(new MeanIoU(2).Result(), Is.EqualTo(0), "no valid entries");
    }

    [Test]
    public void MeanIoU_IgnoreClass_AsKerasTests()
    {
        var expected = ((1.0 / (1 + 1 - 1)) + (1.0 / (2 + 1 - 1)) + (0.0 / (0 + 1 - 0))) / 3;
        Assert.That(new MeanIoU(3, ignoreClass: 255).Invoke(new float[] { 0, 1, 2, 255 }, new float[] { 0, 1, 1, 1 }), Is.EqualTo(expected).Within(1e-6));
        Assert.That(new MeanIoU(3, ignoreClass: -1).Invoke(new float[] { 0, 1, 2, -1 }, new float[] { 0, 1, 1, 1 }), Is.EqualTo(expected).Within(1e-6));
        var weighted = new MeanIoU(2, ignoreClass: -1, dtype: "float32").Invoke(new float[] { 0, 0, 1, -1 }, new float[] { 0, 1, 0, 1 }, new[] { 0.2f, 0.3f, 0.4f, 0.1f });
        Assert.That(weighted, Is.EqualTo(((0.2 / (0.6 + 0.5 - 0.2)) + (0.0 / (0.3 + 0.4 - 0.0))) / 2).Within(1e-6));
    }

    [Test]
    public void MeanIoU_MultiDimInput_AsKerasTest()
    {
        var weighted = new MeanIoU(2, dtype: "float32").Invoke(new float[,] { { 0, 0 }, { 1, 1 } }, new float[,] { { 0, 1 }, { 0, 1 } }, new float[,] { { 0.2f, 0.3f }, { 0.4f, 0.1f } });
        Assert.That(weighted, Is.EqualTo(((0.2 / (0.6 + 0.5 - 0.2)) + (0.1 / (0.4 + 0.5 - 0.1))) / 2).Within(1e-6));
    }

    [Test]
    public void BinaryIoU_Thresholds_AsKerasTests()
    {
        float[] yTrue = { 0, 1, 0, 1 }, yPred = { 0.1f, 0.2f, 0.4f, 0.7f };
        Assert.That(new BinaryIoU(new[] { 0, 1 }, threshold: 0.3, dtype: "float32").Invoke(yTrue, yPred, new[] { 0.2f, 0.3f, 0.4f, 0.1f }),
            Is.EqualTo(((0.2 / (0.6 + 0.5 - 0.2)) + (0.1 / (0.4 + 0.5 - 0.1))) / 2).Within(1e-6));
        Assert.That(new BinaryIoU(new[] { 0, 1 }, threshold: 0.5, dtype: "float32").Invoke(yTrue, yPred, new[] { 0.1f, 0.2f, 0.4f, 0.3f }),
            Is.EqualTo(((0.5 / (0.5 + 0.7 - 0.5)) + (0.3 / (0.5 + 0.3 - 0.3))) / 2).Within(1e-6));
        Assert.That(new BinaryIoU(new[] { 0, 1 }, threshold: 0.3).Invoke(yTrue, yPred), Is.EqualTo(1.0 / 3).Within(1e-6));
        Assert.That(new BinaryIoU(new[] { 0, 1 }, threshold: 0.5).Invoke(yTrue, yPred), Is.EqualTo(((2.0 / 3) + (1.0 / 2)) / 2).Within(1e-6));
    }

    [Test]
    public void OneHot_AsKerasTests()
    {
        var yTrue = new float[,] { { 0, 0, 1 }, { 1, 0, 0 }, { 0, 1, 0 }, { 1, 0, 0 } };
        var yPred = new float[,] { { 0.2f, 0.3f, 0.5f }, { 0.1f, 0.2f, 0.7f }, { 0.5f, 0.3f, 0.1f }, { 0.1f, 0.4f, 0.5f } };
        Assert.That(new OneHotIoU(3, new[] { 0, 2 }, dtype: "float32").Invoke(yTrue, yPred, new[] { 0.1f, 0.2f, 0.3f, 0.4f }), Is.EqualTo(((0 / (0.3 + 0.6)) + (0.1 / (0.7 + 0.1 - 0.1))) / 2).Within(1e-6));
        Assert.That(new OneHotMeanIoU(3).Invoke(yTrue, yPred), Is.EqualTo((1.0 / (3 + 1 - 1)) / 3).Within(1e-6));
        var yTrue5 = new float[,] { { 0, 0, 1 }, { 1, 0, 0 }, { 0, 1, 0 }, { 1, 0, 0 }, { 1, 0, 0 } };
        var yPred5 = new float[,] { { 0.2f, 0.3f, 0.5f }, { 0.1f, 0.2f, 0.7f }, { 0.5f, 0.3f, 0.1f }, { 0.1f, 0.4f, 0.5f }, { 0.6f, 0.2f, 0.2f } };
        var expected = ((0.1 / (0.4 + 0.6 - 0.1)) + 0 + (0.1 / (0.6 + 0.1 - 0.1))) / 3;
        Assert.That(new OneHotMeanIoU(3, dtype: "float32").Invoke(yTrue5, yPred5, new[] { 0.1f, 0.2f, 0.3f, 0.3f, 0.1f }), Is.EqualTo(expected).Within(1e-6));
        Assert.That(new OneHotMeanIoU(3).Invoke(yTrue5, yPred5, new float[] { 1, 2, 3, 3, 1 }), Is.EqualTo(expected).Within(1e-6), "integer weights, Keras' int32 state");
    }

    [Test]
    public void IntegerState_TruncatesFloatWeights_AsKeras()
    {
        // Keras' default dtype int32: 0.7 -> 0, 1.5 -> 1, 2.0 -> 2; cm [[0, 0], [2, 1]].
        Assert.That(new MeanIoU(2).Invoke(new float[] { 0, 1, 1 }, new float[] { 0, 1, 0 }, new[] { 0.7f, 1.5f, 2.0f }), Is.EqualTo(1.0 / 6).Within(1e-6));
    }

    [Test]
    public void DefaultNames_AreKerasUniqueOnes()
    {
        Assert.That((new MeanIoU(2).Name, new MeanIoU(2).Name, new IoU(2, new[] { 0 }).Name, new BinaryIoU().Name, new OneHotIoU(2, new[] { 0 }).Name, new OneHotMeanIoU(2).Name),
            Is.EqualTo(("mean_io_u", "mean_io_u_1", "io_u", "binary_io_u", "one_hot_io_u", "one_hot_mean_io_u")));
    }

    [Test]
    public void BadArguments_AndShapes_AreRefused()
    {
        Assert.That(() => new IoU(2, new[] { 0, 2 }), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Target class id 2 is out of range").IgnoreCase);
        Assert.That(() => new OneHotIoU(3, Array.Empty<int>()), Throws.ArgumentException);
        Assert.That(() => new MeanIoU(0), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new MeanIoU(3, dtype: "float16"), Throws.TypeOf<NotSupportedException>());
        Assert.That(() => new MeanIoU(3, axis: 1), Throws.TypeOf<ArgumentOutOfRangeException>());
        var metric = new MeanIoU(2);
        Assert.That(() => metric.UpdateState(new float[] { 0, 1, 1 }, new float[] { 0, 1 }), Throws.ArgumentException.With.Message.Contains("must match"));
        Assert.That(() => new BinaryIoU().UpdateState(new float[,] { { 0, 1 }, { 1, 1 } }, new float[,] { { 0, 1 }, { 1, 1 } }, new float[] { 1, 2 }), Throws.ArgumentException.With.Message.Contains("one weight per id"));
        Assert.That(metric.Result(), Is.EqualTo(0));
    }

    [TestCase("""{"class_name": "MeanIoU", "config": {"name": "m"}}""", typeof(FormatException), "'num_classes' is required")]
    [TestCase("""{"class_name": "IoU", "config": {"num_classes": 2, "target_class_ids": [3]}}""", typeof(FormatException), "out of range")]
    [TestCase("""{"class_name": "MeanIoU", "config": {"num_classes": 2, "dtype": "float16"}}""", typeof(NotSupportedException), "float16")]
    [TestCase("""{"class_name": "OneHotMeanIoU", "config": {"num_classes": 2, "sparse_y_true": true}}""", typeof(FormatException), "unknown argument 'sparse_y_true'")]
    [TestCase("""{"class_name": "BinaryIoU", "config": {"num_classes": 2}}""", typeof(FormatException), "unknown argument 'num_classes'")]
    public void BadConfigs_AreRefused(string metric, Type exception, string message)
    {
        Assert.That(() => NumericsFixture.Deserialize("mse", new JsonArray(JsonNode.Parse(metric))), Throws.TypeOf(exception).With.Message.Contains(message));
    }

    [Test]
    public void TfKeras2MeanIoUConfig_WithOnlyItsKeys_IsReadWithKerasDefaults()
    {
        var read = NumericsFixture.Deserialize("mse", new JsonArray(JsonNode.Parse("""{"class_name": "MeanIoU", "config": {"name": "miou", "dtype": "float32", "num_classes": 3}}"""))).Metrics.Single();
        Assert.That(read, Is.TypeOf<MeanIoU>());
        var miou = (MeanIoU)read;
        Assert.That((miou.Name, miou.DType, miou.NumClasses, miou.IgnoreClass, miou.SparseYTrue, miou.SparseYPred, miou.Axis), Is.EqualTo(("miou", "float32", 3, (int?)null, true, true, -1)));
    }

    [Test]
    public void BinaryIoU_ByName_IsLoggedUnderTheGivenName()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(1), "sigmoid");
        model.Compile("sgd", new KerasStyle.Training.Losses.BinaryCrossentropy(), new Metric[] { "binary_io_u", "BinaryIoU" });
        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "binary_io_u", "BinaryIoU" }));
        var values = model.Evaluate(new float[,] { { 0.9f }, { -2 }, { 3 } }, new float[,] { { 1 }, { 0 }, { 0 } });
        Assert.That(values["binary_io_u"], Is.EqualTo(((1.0 / 2) + (1.0 / 2)) / 2).Within(1e-6));
    }

    [Test]
    public void Compile_RefusesOneHotTargetsFromAClassIdLoss()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.SparseCategoricalCrossentropy(), new Metric[] { new OneHotMeanIoU(3) }), Throws.ArgumentException.With.Message.Contains("one-hot targets"));
    }
}
