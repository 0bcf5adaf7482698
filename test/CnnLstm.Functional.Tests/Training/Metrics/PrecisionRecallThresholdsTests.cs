using System.Text.Json.Nodes;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>Precision and Recall with a list of thresholds (one value per threshold, eager) and per-entry weights: Keras 3.16's confusion_metrics_test.py cases.</summary>
public class PrecisionRecallThresholdsTests
{
    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void Precision_SeveralThresholds_Unweighted_AsKerasTest()
    {
        var metric = new Precision(new[] { 0.5, 0.7 });
        metric.UpdateState(new float[] { 0, 1, 1, 0 }, new[] { 1f, 0, 0.6f, 0 });
        Assert.That(metric.ResultValues(), Is.EqualTo(new[] { 0.5, 0.0 }).Within(1e-6));
        Assert.That(() => metric.Result(), Throws.InvalidOperationException.With.Message.Contains("ResultValues"));
    }

    [Test]
    public void Precision_SeveralThresholds_PerEntryWeights_MultipleUpdates_AsKerasTests()
    {
        var metric = new Precision(new[] { 0.5, 1.0 });
        var (yTrue, yPred, weights) = (new float[,] { { 0, 1 }, { 1, 0 } }, new float[,] { { 1, 0 }, { 0.6f, 0 } }, new float[,] { { 4, 0 }, { 3, 1 } });
        metric.UpdateState(yTrue, yPred, weights);
        Assert.That(metric.ResultValues(), Is.EqualTo(new[] { 3.0 / 7, 0 }).Within(1e-6));
        metric.UpdateState(yTrue, yPred, weights);
        Assert.That(metric.ResultValues(), Is.EqualTo(new[] { 6.0 / 14, 0 }).Within(1e-6));
        var one = new Precision(thresholds: 0.5);
        Assert.That(one.Invoke(yTrue, yPred, weights), Is.EqualTo(3.0 / 7).Within(1e-6), "one threshold, per-entry weights");
    }

    [Test]
    public void Recall_SeveralThresholds_AsKerasTests()
    {
        var metric = new Recall(new[] { 0.5, 0.7 });
        metric.UpdateState(new float[] { 0, 1, 1, 0 }, new[] { 1f, 0, 0.6f, 0 });
        Assert.That(metric.ResultValues(), Is.EqualTo(new[] { 0.5, 0.0 }).Within(1e-6));
        var weighted = new Recall(new[] { 0.5, 1.0 });
        weighted.UpdateState(new float[,] { { 0, 1 }, { 1, 0 } }, new float[,] { { 1, 0 }, { 0.6f, 0 } }, new float[,] { { 1, 4 }, { 3, 2 } });
        Assert.That(weighted.ResultValues(), Is.EqualTo(new[] { 3.0 / 7, 0 }).Within(1e-6));
    }

    [Test]
    public void SeveralThresholds_ConfigIsKerasList_BadOnesRefused_AndCompileRefusesThem()
    {
        var metric = new Precision(new[] { 0.3, 0.6 }, name: "p");
        Assert.That(metric.GetConfig().ToJsonString(), Is.EqualTo("""{"name":"p","dtype":"float32","thresholds":[0.3,0.6],"top_k":null,"class_id":null}"""));
        Assert.That(() => new Recall(new[] { -1.0, 0.5, 2 }), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("Threshold values must be in [0, 1]"));
        Assert.That(() => new Recall(Array.Empty<double>()), Throws.ArgumentException);
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { metric }), Throws.ArgumentException.With.Message.Contains("2 thresholds"));
    }
}
