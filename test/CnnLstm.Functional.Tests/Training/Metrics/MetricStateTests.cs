using System.Text.Json.Nodes;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>
/// Metrics outside a model, as Keras' <c>update_state</c> / <c>result</c> / <c>reset_state</c> and <c>metric(...)</c>:
/// every metric of objects.json over three weighted updates (batches of 4, 3 and 2) against Keras 3.16, on arrays and
/// on tensors; and that Fit leaves a metric's own state alone.
/// </summary>
public class MetricStateTests
{
    private const double Tolerance = 2e-6;

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static Metric Create(string name) => name switch
    {
        "BinaryAccuracy" => new BinaryAccuracy(),
        "CategoricalAccuracy" => new CategoricalAccuracy(),
        "SparseCategoricalAccuracy" => new SparseCategoricalAccuracy(),
        "MeanSquaredError" => new KerasStyle.Training.Metrics.MeanSquaredError(),
        "MeanAbsoluteError" => new KerasStyle.Training.Metrics.MeanAbsoluteError(),
        "RootMeanSquaredError" => new RootMeanSquaredError(),
        "Precision" => new Precision(),
        "Recall" => new Recall(thresholds: 0.4),
        "AUC" => new AUC(numThresholds: 50),
        _ => throw new ArgumentException(name),
    };

    private static IEnumerable<string> Names() => ObjectsFixture.Cases("metrics");

    [TestCaseSource(nameof(Names))]
    public void UpdateStateResultResetState_OnArrays_AsKeras316(string name)
    {
        var keras = ObjectsFixture.Json["metrics"]![name]!;
        var (target, prediction) = (keras["target"]!.GetValue<string>(), keras["prediction"]!.GetValue<string>());
        var batches = ObjectsFixture.Json["metric_batches"]!.AsArray();
        var metric = Create(name);
        var expected = ObjectsFixture.Doubles(keras["results"]!);

        var results = new List<double>();
        foreach (var batch in batches)
        {
            metric.UpdateState(ObjectsFixture.Array(batch![target]!), ObjectsFixture.Array(batch[prediction]!), ObjectsFixture.Array(batch["w"]!));
            results.Add(metric.Result());
        }

        Assert.That(results, Is.EqualTo(expected).Within(Tolerance), "after each update");
        metric.ResetState();
        Assert.That(metric.Result(), Is.EqualTo(keras["after_reset"]!.GetValue<double>()), "after reset_state");
        Assert.That(metric.Invoke(ObjectsFixture.Array(batches[0]![target]!), ObjectsFixture.Array(batches[0]![prediction]!)), Is.EqualTo(keras["called"]!.GetValue<double>()).Within(Tolerance), "metric(y, p)");
    }

    [TestCaseSource(nameof(Names))]
    public void UpdateState_OnTensors_AsKeras316(string name)
    {
        var keras = ObjectsFixture.Json["metrics"]![name]!;
        var (target, prediction) = (keras["target"]!.GetValue<string>(), keras["prediction"]!.GetValue<string>());
        var metric = Create(name);
        using var scope = NewDisposeScope();

        foreach (var batch in ObjectsFixture.Json["metric_batches"]!.AsArray())
        {
            // Weights (batch, 1) as Keras takes them too.
            metric.UpdateState(ObjectsFixture.Tensor(batch![target]!), ObjectsFixture.Tensor(batch[prediction]!), ObjectsFixture.Tensor(batch["w"]!).unsqueeze(-1));
        }

        Assert.That(metric.Result(), Is.EqualTo(ObjectsFixture.Doubles(keras["results"]!)[^1]).Within(Tolerance));
    }

    [Test]
    public void Fit_WithAMetricObject_LeavesItsOwnStateAlone()
    {
        var metric = new KerasStyle.Training.Metrics.MeanAbsoluteError();
        metric.UpdateState(new float[] { 1, 2 }, new float[] { 0, 0 });
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { metric });

        var logs = model.Evaluate(new float[,] { { 1 }, { 3 } }, new float[] { 0, 0 });

        Assert.That(logs["mean_absolute_error"], Is.EqualTo(2).Within(1e-6));
        Assert.That(metric.Result(), Is.EqualTo(1.5).Within(1e-9));
    }

    [Test]
    public void UpdateState_BadArguments_ThrowTypedExceptions()
    {
        var metric = new BinaryAccuracy();
        var p = new float[,] { { 0.2f, 0.8f }, { 0.6f, 0.1f } };

        Assert.Multiple(() =>
        {
            Assert.That(() => metric.UpdateState(p, p, new float[] { 1, 2, 3 }), Throws.ArgumentException.With.Message.Contains("sampleWeight"));
            Assert.That(() => metric.UpdateState(new float[,] { { 1, 0, 1 } }, p), Throws.ArgumentException.With.Message.Contains("yTrue"));
            Assert.That(() => ((Metric)"accuracy").UpdateState(p, p), Throws.InvalidOperationException.With.Message.Contains("CategoricalAccuracy"));
        });
        Assert.That(metric.Result(), Is.EqualTo(0), "nothing was added");
    }
}
