using System.Text.Json.Nodes;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>Precision, Recall and the four confusion counts with a list of thresholds (one value per threshold, eager) and per-entry weights: Keras 3.16's confusion_metrics_test.py cases.</summary>
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

    private static readonly float[,] CountPredictions = { { 0.9f, 0.2f, 0.8f, 0.1f }, { 0.2f, 0.9f, 0.7f, 0.6f }, { 0.1f, 0.2f, 0.4f, 0.3f }, { 0, 1, 0.7f, 0.3f } };
    private static readonly float[,] CountTargets = { { 0, 1, 1, 0 }, { 1, 0, 0, 0 }, { 0, 0, 0, 0 }, { 1, 1, 1, 1 } };
    private static readonly double[] CountThresholds = { 0.15, 0.5, 0.85 };

    [Test]
    public void ConfusionCounts_SeveralThresholds_AsKerasTests()
    {
        var fp = new FalsePositives(CountThresholds);
        fp.UpdateState(CountTargets, CountPredictions);
        Assert.That(fp.ResultValues(), Is.EqualTo(new[] { 7.0, 4, 2 }));
        Assert.That(() => fp.Result(), Throws.InvalidOperationException.With.Message.Contains("ResultValues"));
        var weightedFp = new FalsePositives(CountThresholds);
        weightedFp.UpdateState(CountTargets, CountPredictions, new float[,] { { 1, 2, 3, 5 }, { 7, 11, 13, 17 }, { 19, 23, 29, 31 }, { 5, 15, 10, 0 } });
        Assert.That(weightedFp.ResultValues(), Is.EqualTo(new[] { 125.0, 42, 12 }));
        var fn = new FalseNegatives(CountThresholds);
        fn.UpdateState(CountTargets, CountPredictions);
        Assert.That(fn.ResultValues(), Is.EqualTo(new[] { 1.0, 4, 6 }));
        var weightedFn = new FalseNegatives(CountThresholds);
        weightedFn.UpdateState(CountTargets, CountPredictions, new float[,] { { 3 }, { 5 }, { 7 }, { 4 } });
        Assert.That(weightedFn.ResultValues(), Is.EqualTo(new[] { 4.0, 16, 23 }));
        var tn = new TrueNegatives(CountThresholds);
        tn.UpdateState(CountTargets, CountPredictions);
        Assert.That(tn.ResultValues(), Is.EqualTo(new[] { 2.0, 5, 7 }));
        var weightedTn = new TrueNegatives(CountThresholds);
        weightedTn.UpdateState(CountTargets, CountPredictions, new float[,] { { 0, 2, 3, 5 } });
        Assert.That(weightedTn.ResultValues(), Is.EqualTo(new[] { 5.0, 15, 23 }));
        var tp = new TruePositives(CountThresholds);
        tp.UpdateState(CountTargets, CountPredictions);
        Assert.That(tp.ResultValues(), Is.EqualTo(new[] { 6.0, 3, 1 }));
    }

    [Test]
    public void ConfusionCounts_SeveralThresholds_ConfigListAndRefusals()
    {
        Assert.That(new TruePositives(new[] { 0.2, 0.8 }).GetConfig().ToJsonString(), Is.EqualTo("""{"name":"true_positives","dtype":"float32","thresholds":[0.2,0.8]}"""));
        Assert.That(() => new FalseNegatives(new[] { -1.0, 0.5, 2 }), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("threshold values must be in [0, 1]"));
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { new TruePositives(new[] { 0.2, 0.8 }) }), Throws.ArgumentException.With.Message.Contains("2 thresholds"));
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
