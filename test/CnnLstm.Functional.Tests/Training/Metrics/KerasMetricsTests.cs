using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>
/// Issue 25's metrics against Keras 3.16 (tools/keras-fixtures/metrics_more.py): each after two weighted
/// update_state calls, unweighted, after reset_state, and its get_config read back; Mean and Sum on values; a model
/// fit 2 epochs logging several of them by their string names.
/// </summary>
public class KerasMetricsTests
{
    private const double Tolerance = 2e-5;

    private static readonly JsonObject Json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "metrics_more.json")))!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static Metric Create(string name) => name switch
    {
        "MeanAbsolutePercentageError" => new MeanAbsolutePercentageError(),
        "MeanSquaredLogarithmicError" => new MeanSquaredLogarithmicError(),
        "LogCoshError" => new LogCoshError(),
        "CosineSimilarity" => new CosineSimilarity(),
        "R2Score" => new R2Score(),
        "R2Score_variance" => new R2Score(classAggregation: "variance_weighted_average"),
        "R2Score_regressors" => new R2Score(numRegressors: 2),
        "Accuracy" => new Accuracy(),
        "Hinge" or "Hinge_signs" => new Hinge(),
        "SquaredHinge" => new SquaredHinge(),
        "CategoricalHinge" => new CategoricalHinge(),
        "TopKCategoricalAccuracy" => new TopKCategoricalAccuracy(),
        "TopKCategoricalAccuracy_k2" => new TopKCategoricalAccuracy(k: 2),
        "SparseTopKCategoricalAccuracy" => new SparseTopKCategoricalAccuracy(),
        "SparseTopKCategoricalAccuracy_k2" => new SparseTopKCategoricalAccuracy(k: 2),
        "TruePositives" => new TruePositives(),
        "FalsePositives" => new FalsePositives(thresholds: 0.3),
        "TrueNegatives" => new TrueNegatives(),
        "FalseNegatives" => new FalseNegatives(thresholds: 0.7),
        _ => throw new ArgumentException(name),
    };

    private static IEnumerable<string> Names() => Json["metrics"]!.AsObject().Select(kv => kv.Key).Where(k => k is not "Mean" and not "Sum");

    private static JsonArray Batches => Json["batches"]!.AsArray();

    [TestCaseSource(nameof(Names))]
    public void TwoWeightedUpdates_Unweighted_AndReset_AsKeras316(string name)
    {
        var keras = Json["metrics"]![name]!;
        var (target, prediction) = (keras["target"]!.GetValue<string>(), keras["prediction"]!.GetValue<string>());
        var metric = Create(name);
        var results = new List<double>();
        foreach (var batch in Batches)
        {
            metric.UpdateState(ObjectsFixture.Array(batch![target]!), ObjectsFixture.Array(batch[prediction]!), ObjectsFixture.Array(batch["w"]!));
            results.Add(metric.Result());
        }

        var unweighted = Create(name);
        foreach (var batch in Batches)
        {
            using var scope = NewDisposeScope();
            unweighted.UpdateState(ObjectsFixture.Tensor(batch![target]!), ObjectsFixture.Tensor(batch[prediction]!));
        }

        var expected = ObjectsFixture.Doubles(keras["results"]!);
        Assert.That(results, Is.EqualTo(expected).Within(Tolerance).Percent.Or.EqualTo(expected).Within(Tolerance), "after each weighted update");
        Assert.That(unweighted.Result(), Is.EqualTo(keras["unweighted"]!.GetValue<double>()).Within(Tolerance), "unweighted");
        metric.ResetState();
        Assert.That(metric.Result(), name.StartsWith("R2Score", StringComparison.Ordinal) ? Is.NaN : Is.EqualTo(0), "after reset_state (Keras' R2Score divides 0 by 0)");
    }

    [TestCaseSource(nameof(Names))]
    public void GetConfig_IsKeras316s_AndReadsBack(string name)
    {
        var keras = Json["metrics"]![name]!;
        var metric = Create(name);
        var config = keras["config"]!.AsObject();

        Assert.That(JsonNode.DeepEquals(metric.GetConfig(), config), Is.True, $"{metric.GetConfig().ToJsonString()} vs {config.ToJsonString()}");
        var className = name.Split('_')[0];
        var read = NumericsFixture.Deserialize("mse", new JsonArray(new JsonObject { ["module"] = "keras.metrics", ["class_name"] = className, ["config"] = config.DeepClone() })).Metrics.Single();
        Assert.That((read.GetType(), read.Name, read.GetConfig().ToJsonString()), Is.EqualTo((metric.GetType(), metric.Name, config.ToJsonString())));
    }

    [TestCase("Mean")]
    [TestCase("Sum")]
    public void MeanAndSum_OnWeightedValues_AsKeras316(string name)
    {
        var keras = Json["metrics"]![name]!;
        ReductionMetric metric = name == "Mean" ? new Mean() : new Sum();
        var results = new List<double>();
        foreach (var batch in Batches)
        {
            metric.UpdateState(ObjectsFixture.Array(batch!["regression"]!), ObjectsFixture.Array(batch["w"]!));
            results.Add(metric.Result());
        }

        Assert.That(results, Is.EqualTo(ObjectsFixture.Doubles(keras["results"]!)).Within(Tolerance));
        Assert.That(JsonNode.DeepEquals(metric.GetConfig(), keras["config"]), Is.True);
    }

    [Test]
    public void MeanAndSum_KerasDocstringExamples()
    {
        // keras/src/metrics/reduction_metrics.py and reduction_metrics_test.py.
        var mean = new Mean();
        mean.UpdateState(new float[] { 1, 3, 5, 7 });
        Assert.That(mean.Result(), Is.EqualTo(4));
        mean.ResetState();
        mean.UpdateState(new float[] { 1, 3, 5, 7 }, new float[] { 1, 1, 0, 0 });
        Assert.That(mean.Result(), Is.EqualTo(2));
        var sum = new Sum();
        sum.UpdateState(new float[] { 1, 3, 5, 7 }, new float[] { 1, 1, 0, 0 });
        Assert.That(sum.Result(), Is.EqualTo(4));

        // Values (2, 2) with weights (2, 2): Mean averages each sample's weighted values (0.5, 1.5) over the weights' per-sample means (0.5, 0.5); Sum adds 1 + 3.
        var nd = new Mean();
        nd.UpdateState(new float[,] { { 1, 2 }, { 3, 4 } }, new float[,] { { 1, 0 }, { 1, 0 } });
        Assert.That(nd.Result(), Is.EqualTo(2));
        var ndSum = new Sum();
        ndSum.UpdateState(new float[,] { { 1, 2 }, { 3, 4 } }, new float[,] { { 1, 0 }, { 1, 0 } });
        Assert.That(ndSum.Result(), Is.EqualTo(4));
    }

    [Test]
    public void MeanAndSum_TakeValues_NotTargetsAndPredictions()
    {
        var mean = new Mean();
        using var scope = NewDisposeScope();

        Assert.That(() => mean.UpdateState(ones(2), ones(2), ones(2)), Throws.InvalidOperationException.With.Message.Contains("UpdateState(values, sampleWeight)"));
        Assert.That(() => mean.UpdateState(new float[,] { { 1, 2 }, { 3, 4 } }, new float[] { 1, 2, 3 }), Throws.ArgumentException.With.Message.Contains("sampleWeight"));
        Assert.That(mean.Result(), Is.EqualTo(0), "nothing was added");
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { new Sum() }), Throws.ArgumentException.With.Message.Contains("MeanMetricWrapper"));
    }

    [Test]
    public void Fit_TwoEpochs_LogsTheMetricsByKerasNames_AsKeras316()
    {
        var c = Json["fit"]!;
        var input = new Input(shape: 4);
        var dense = new Dense(3);
        using var model = new Model(input, dense.Call(input));
        dense.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(c["kernel"]!.AsArray())), new WeightArray(new[] { 3 }, new float[3]) });
        model.Compile(new SGD(learningRate: 0.1), new KerasStyle.Training.Losses.MeanSquaredError(),
            new Metric[] { "mape", "msle", "log_cosh_error", "cosine_similarity", new R2Score(), "hinge", "squared_hinge", "categorical_hinge" });

        var history = model.Fit(FixtureJson.ToFloat2(c["x"]!.AsArray()), FixtureJson.ToFloat2(c["y"]!.AsArray()), batchSize: 4, epochs: 2, verbose: 0, shuffle: false);

        Assert.That(history.Values.Keys, Is.EquivalentTo(c["history"]!.AsObject().Select(kv => kv.Key)));
        foreach (var (key, values) in c["history"]!.AsObject())
        {
            var expected = ObjectsFixture.Doubles(values!);
            Assert.That(history.Values[key], Is.EqualTo(expected).Within(1e-4).Percent.Or.EqualTo(expected).Within(1e-5), key);
        }

        var saved = JsonNode.Parse(model.ToJson())!["compile_config"]!["metrics"]!.AsArray();
        Assert.That(JsonNode.DeepEquals(saved, c["compile_metrics"]), Is.True, saved.ToJsonString());
    }

    [Test]
    public void MeanMetricWrapper_OfAUsersFunction_WorksEagerlyAndInCompile()
    {
        static Tensor AbsoluteCubes(Tensor y, Tensor p) => y.sub(p).abs().pow(3).mean(new long[] { -1 });
        var metric = new MeanMetricWrapper(AbsoluteCubes, "cubes");

        metric.UpdateState(new float[,] { { 1, 0 }, { 2, 2 } }, new float[,] { { 0, 0 }, { 0, 2 } }, new float[] { 1, 3 });
        // Entries' values 0.5 and 4, weighted 1 and 3: (0.5 + 12) / 4.
        Assert.That(metric.Result(), Is.EqualTo(3.125).Within(1e-6));
        Assert.That(metric.GetConfig()["fn"]!["config"]!.GetValue<string>(), Does.Contain(nameof(AbsoluteCubes)));
        Assert.That(new MeanMetricWrapper(AbsoluteCubes).Name, Is.EqualTo("mean_metric_wrapper"));

        using var model = TinyModels.Linear(TinyModels.Identity(2));
        model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { metric });
        var logs = model.Evaluate(new float[,] { { 0, 0 }, { 0, 2 } }, new float[,] { { 1, 0 }, { 2, 2 } }, sampleWeight: new float[] { 1, 3 });
        // Compile's metrics are unweighted in Keras (only weightedMetrics take the sample weights): (0.5 + 4) / 2.
        Assert.That(logs["cubes"], Is.EqualTo(2.25).Within(1e-6));
    }

    [Test]
    public void StringNames_ResolveAsKeras_AndAreLoggedUnderTheGivenName()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        model.Compile("sgd", new KerasStyle.Training.Losses.MeanSquaredError(), new Metric[] { "MAPE", "MeanSquaredLogarithmicError", "top_k_categorical_accuracy", "true_positives", "r2_score" });

        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "MAPE", "MeanSquaredLogarithmicError", "top_k_categorical_accuracy", "true_positives", "r2_score" }));
        var logs = model.Evaluate(new float[,] { { 0.2f, 0.7f, 0.1f }, { 0.6f, 0.3f, 0.1f } }, new float[,] { { 0, 1, 0 }, { 0, 1, 0 } });
        Assert.That(logs["true_positives"], Is.EqualTo(1));
        Assert.That(logs["top_k_categorical_accuracy"], Is.EqualTo(1));
    }

    [Test]
    public void BadArguments_ThrowTypedExceptions_BeforeAnyState()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new R2Score(classAggregation: "median"), Throws.ArgumentException.With.Message.Contains("class_aggregation"));
            Assert.That(() => new R2Score(classAggregation: null), Throws.TypeOf<NotSupportedException>());
            Assert.That(() => new R2Score(numRegressors: -1), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => new TopKCategoricalAccuracy(k: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => new SparseTopKCategoricalAccuracy(k: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => new CosineSimilarity(axis: 0), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(() => new TruePositives(thresholds: 1.5), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
        var r2 = new R2Score();
        r2.UpdateState(new float[,] { { 1, 2 }, { 3, 5 } }, new float[,] { { 1, 2 }, { 2, 4 } });
        var before = r2.Result();
        Assert.That(() => r2.UpdateState(new float[,] { { 1, 2, 3 } }, new float[,] { { 1, 2, 3 } }), Throws.ArgumentException.With.Message.Contains("ResetState"));
        Assert.That(() => r2.UpdateState(new float[,,] { { { 1 } } }, new float[,,] { { { 1 } } }), Throws.ArgumentException.With.Message.Contains("(batch, outputs)"));
        Assert.That(r2.Result(), Is.EqualTo(before));
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        Assert.That(() => model.Compile("sgd", new KerasStyle.Training.Losses.SparseCategoricalCrossentropy(), new Metric[] { new R2Score() }), Throws.ArgumentException.With.Message.Contains("R2Score"));
    }

    [TestCase("{\"class_name\": \"R2Score\", \"config\": {\"class_aggregation\": null}}", typeof(NotSupportedException))]
    [TestCase("{\"class_name\": \"TruePositives\", \"config\": {\"thresholds\": [0.2, 0.5]}}", typeof(NotSupportedException))]
    [TestCase("{\"class_name\": \"Hinge\", \"config\": {\"name\": \"h\", \"reduction\": \"sum\"}}", typeof(FormatException))]
    [TestCase("{\"class_name\": \"TopKCategoricalAccuracy\", \"config\": {\"k\": 0}}", typeof(FormatException))]
    [TestCase("{\"class_name\": \"LogCoshError\", \"config\": {\"dtype\": \"float64\"}}", typeof(NotSupportedException))]
    public void ConfigsThisLibraryCannotHonour_AreRefused(string metric, Type exception)
    {
        Assert.That(() => NumericsFixture.Deserialize("mse", new JsonArray(JsonNode.Parse(metric))), Throws.TypeOf(exception));
    }

    [Test]
    public void KerasUnitTestCases()
    {
        // keras/src/metrics/hinge_metrics_test.py test_unweighted / test_weighted.
        var yTrue = new float[,] { { 0, 1, 0, 1 }, { 0, 0, 1, 1 } };
        var yPred = new float[,] { { -0.3f, 0.2f, -0.1f, 1.6f }, { -0.25f, -1.0f, 0.5f, 0.6f } };
        Assert.That(new Hinge().Invoke(yTrue, yPred), Is.EqualTo(0.506).Within(1e-3));
        Assert.That(new SquaredHinge().Invoke(yTrue, yPred), Is.EqualTo(0.364).Within(1e-3));
        var signs = new float[,] { { -1, 1, -1, 1 }, { -1, -1, 1, 1 } };
        Assert.That(new Hinge().Invoke(signs, yPred, new float[] { 1.5f, 2 }), Is.EqualTo(0.493).Within(1e-3));
        Assert.That(new CategoricalHinge().Invoke(new float[,] { { 0, 1 }, { 0, 0 } }, new float[,] { { 0.6f, 0.4f }, { 0.4f, 0.6f } }), Is.EqualTo(1.4).Within(1e-6));

        // accuracy_metrics_test.py: Accuracy, TopK.
        Assert.That(new Accuracy().Invoke(new float[,] { { 1 }, { 2 }, { 3 }, { 4 } }, new float[,] { { 0 }, { 2 }, { 3 }, { 4 } }), Is.EqualTo(0.75).Within(1e-6));
        Assert.That(new Accuracy().Invoke(new float[,] { { 2 }, { 1 } }, new float[,] { { 2 }, { 0 } }, new float[,] { { 0.5f }, { 0.2f } }), Is.EqualTo(0.71428573).Within(1e-6));
        var topK = new TopKCategoricalAccuracy(k: 1);
        Assert.That(topK.Invoke(new float[,] { { 0, 0, 1 }, { 0, 1, 0 } }, new float[,] { { 0.1f, 0.9f, 0.8f }, { 0.05f, 0.95f, 0 } }), Is.EqualTo(0.5).Within(1e-6));
        var sparseTopK = new SparseTopKCategoricalAccuracy(k: 1);
        Assert.That(sparseTopK.Invoke(new float[] { 2, 1 }, new float[,] { { 0.1f, 0.9f, 0.8f }, { 0.05f, 0.95f, 0 } }), Is.EqualTo(0.5).Within(1e-6));
        var sorted = new SparseTopKCategoricalAccuracy(k: 1, fromSortedIds: true);
        Assert.That(sorted.Invoke(new float[] { 2, 1 }, new float[,] { { 1, 2, 0 }, { 1, 0, 2 } }), Is.EqualTo(0.5).Within(1e-6));

        // regression_metrics_test.py: CosineSimilarity, R2Score.
        Assert.That(new CosineSimilarity().Invoke(new float[,] { { 1, 9, 2 }, { -5, -2, 6 } }, new float[,] { { 4, 8, 12 }, { 8, 1, 3 } }), Is.EqualTo(0.18721905).Within(1e-5));
        Assert.That(new R2Score().Invoke(new float[,] { { 1 }, { 4 }, { 3 } }, new float[,] { { 2 }, { 4 }, { 4 } }), Is.EqualTo(0.57142854).Within(1e-5));

        // confusion_metrics_test.py: TruePositives etc., unweighted and weighted.
        var yT = new float[,] { { 0, 1, 0, 1, 0 }, { 0, 0, 1, 1, 1 }, { 1, 1, 1, 1, 0 }, { 0, 0, 0, 0, 1 } };
        var yP = new float[,] { { 0, 0, 1, 1, 0 }, { 1, 1, 1, 1, 1 }, { 0, 1, 0, 1, 0 }, { 1, 1, 1, 1, 1 } };
        var w = new float[] { 1, 1.5f, 2, 2.5f };
        Assert.That((new TruePositives().Invoke(yT, yP), new FalsePositives().Invoke(yT, yP), new TrueNegatives().Invoke(yT, yP), new FalseNegatives().Invoke(yT, yP)), Is.EqualTo((7.0, 7.0, 3.0, 3.0)));
        Assert.That(new FalsePositives().Invoke(yT, yP, w), Is.EqualTo(14).Within(1e-6));
        Assert.That(new FalseNegatives().Invoke(yT, yP, w), Is.EqualTo(5).Within(1e-6));
    }
}
