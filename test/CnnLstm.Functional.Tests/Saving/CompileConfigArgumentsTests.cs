using System.Text.Json.Nodes;
using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using KerasStyle.Tests.Training;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Loss and metric classes with arguments in a compile config (issue 20: label_smoothing, AUC's curve, multi_label...
/// were accepted and ignored): they are now computed (values in Training/Losses/LossArgumentsTests and
/// Training/Metrics/), written back with their arguments and names, and what this library does not implement is
/// refused. The configs are the ones Keras 3.16 wrote (tools/keras-fixtures/numerics.py).
/// </summary>
public class CompileConfigArgumentsTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void LossAndMetricsWithArguments_SurviveSaveAndLoad()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        model.Compile("sgd", new CategoricalCrossentropy(labelSmoothing: 0.1, reduction: "sum"),
            new Metric[] { "accuracy", new AUC(curve: "PR", multiLabel: true, name: "pr_auc"), new Precision(thresholds: 0.7, classId: 1, name: "p7") },
            new Metric[] { new Recall(topK: 2) });
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            using var loaded = Model.Load(path);

            Assert.That(loaded.MetricsNames, Is.EqualTo(model.MetricsNames));
            var p = new float[,] { { 0.7f, 0.2f, 0.1f }, { 0.2f, 0.75f, 0.05f }, { 0.3f, 0.3f, 0.4f } };
            var y = new float[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 1, 0 } };
            Assert.That(loaded.Evaluate(p, y, sampleWeight: new[] { 1f, 2f, 0.5f }), Is.EqualTo(model.Evaluate(p, y, sampleWeight: new[] { 1f, 2f, 0.5f })));
            var config = JsonNode.Parse(loaded.ToJson())!["compile_config"]!;
            Assert.That(config["loss"]!["config"]!["label_smoothing"]!.GetValue<double>(), Is.EqualTo(0.1));
            Assert.That(config["metrics"]![1]!["config"]!["name"]!.GetValue<string>(), Is.EqualTo("pr_auc"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void LossAndAuc_AtKerasDefaults_AreWrittenAsNames()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", "binary_crossentropy", new[] { "auc" });

        var config = JsonNode.Parse(model.ToJson())!["compile_config"]!;

        Assert.That((config["loss"]!.GetValue<string>(), config["metrics"]![0]!.GetValue<string>()), Is.EqualTo(("binary_crossentropy", "auc")));
    }

    [Test]
    public void MetricClassWithoutArguments_IsLoggedUnderItsConfigName()
    {
        var mse = new JsonObject { ["class_name"] = "MeanSquaredError", ["config"] = new JsonObject { ["name"] = "my_mse", ["dtype"] = "float32" } };
        var metric = NumericsFixture.Deserialize("mse", new JsonArray(mse)).Metrics.Single();
        using var model = TinyModels.Linear(TinyModels.Identity(1));

        model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new[] { metric });

        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "my_mse" }));
    }

    [TestCase("{\"class_name\": \"MeanSquaredError\", \"config\": {\"name\": \"m\", \"dtype\": \"float16\"}}")]
    [TestCase("{\"class_name\": \"CategoricalAccuracy\", \"config\": {\"name\": \"c\", \"k\": 2}}")]
    [TestCase("{\"class_name\": \"Precision\", \"config\": {\"thresholds\": [0.2, 0.5]}}")]
    [TestCase("{\"class_name\": \"AUC\", \"config\": {\"dtype\": \"float64\"}}")]
    public void MetricArgumentsThisLibraryDoesNotImplement_AreRefused(string metric)
    {
        Assert.Throws<NotSupportedException>(() => NumericsFixture.Deserialize("mse", new JsonArray(JsonNode.Parse(metric))));
    }

    [TestCase("{\"class_name\": \"BinaryCrossentropy\", \"config\": {\"dtype\": \"float16\"}}", typeof(NotSupportedException))]
    [TestCase("{\"class_name\": \"BinaryCrossentropy\", \"config\": {\"label_smoothing\": 2}}", typeof(FormatException))]
    [TestCase("{\"class_name\": \"BinaryCrossentropy\", \"config\": {\"reduction\": \"weighted\"}}", typeof(FormatException))]
    [TestCase("{\"class_name\": \"MeanSquaredError\", \"config\": {\"delta\": 1.0}}", typeof(FormatException))]
    [TestCase("{\"class_name\": \"Dice\", \"config\": {\"axis\": null}}", typeof(ArgumentException))]
    public void LossArgumentsThisLibraryDoesNotImplementOrKerasRefuses_AreRefused(string loss, Type exception)
    {
        Assert.That(() => NumericsFixture.Deserialize(JsonNode.Parse(loss)!, new JsonArray()), Throws.TypeOf(exception));
    }

    [Test]
    public void TfKeras2AutoReduction_IsSumOverBatchSize()
    {
        var loss = new JsonObject { ["class_name"] = "MeanSquaredError", ["config"] = new JsonObject { ["reduction"] = "auto", ["name"] = "mean_squared_error" } };

        Assert.That(NumericsFixture.Deserialize(loss, new JsonArray()).Loss.Reduction, Is.EqualTo("sum_over_batch_size"));
    }
}
