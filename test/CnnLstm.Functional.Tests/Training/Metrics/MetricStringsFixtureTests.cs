using System.Text.Json.Nodes;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>
/// Issue 25: metric strings Keras 3.16's <c>metrics.get</c> accepts and <c>Compile</c> refused here (class names such as
/// <c>"AUC"</c> and <c>"MeanSquaredError"</c>, the aliases <c>"MSE"</c>/<c>"MAE"</c>, <c>"Accuracy"</c>/<c>"ACC"</c>,
/// which Keras' compile_utils.get_metric lower-cases and picks by output and loss), against what Keras 3.16 made of
/// each (tools/keras-fixtures/metric_strings.py): the class, the name in the logs (evaluate and fit history keys) and
/// the value on fixed predictions; and the numbered default names of the confusion counts (<c>true_positives_1</c>).
/// </summary>
public class MetricStringsFixtureTests
{
    private static readonly JsonObject Json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "metric_strings.json")))!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static IEnumerable<string> Cases() => Json["cases"]!.AsObject().Select(kv => kv.Key);

    private static (float[,] P, float[,] Y) Data(string kind) => kind switch
    {
        "binary" => (FixtureJson.ToFloat2(Json["p_bin"]!.AsArray()), FixtureJson.ToFloat2(Json["y_bin"]!.AsArray())),
        "categorical" => (FixtureJson.ToFloat2(Json["p_cat"]!.AsArray()), FixtureJson.ToFloat2(Json["y_cat"]!.AsArray())),
        "sparse" => (FixtureJson.ToFloat2(Json["p_cat"]!.AsArray()), FixtureJson.ToFloat2(Json["y_sparse"]!.AsArray())),
        _ => (FixtureJson.ToFloat2(Json["p_reg"]!.AsArray()), FixtureJson.ToFloat2(Json["y_reg"]!.AsArray())),
    };

    [TestCaseSource(nameof(Cases))]
    public void MetricString_LogsUnderKerasName_WithKerasValue(string name)
    {
        var keras = Json["cases"]![name]!;
        var (p, y) = Data(keras["kind"]!.GetValue<string>());
        var metric = keras["metric"]!.GetValue<string>();
        using var model = TinyModels.Linear(TinyModels.Identity(p.GetLength(1)));
        model.Compile(new SGD(learningRate: 1e-9), keras["loss"]!.GetValue<string>(), new[] { metric });
        var result = model.Evaluate(p, y, batchSize: 4);
        var expected = keras["evaluate"]!.AsObject();
        Assert.That(result.Keys.Order(StringComparer.Ordinal), Is.EqualTo(expected.Select(kv => kv.Key).Order(StringComparer.Ordinal)), "evaluate keys");
        foreach (var (key, value) in expected)
        {
            Assert.That(result[key], Is.EqualTo(value!.GetValue<double>()).Within(1e-5), key);
        }

        var history = model.Fit(p, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        Assert.That(history.Values.Keys.Order(StringComparer.Ordinal), Is.EqualTo(keras["history_keys"]!.AsArray().Select(k => k!.GetValue<string>()).Order(StringComparer.Ordinal)), "fit history keys");
    }

    [TestCaseSource(nameof(Cases))]
    public void MetricString_ResolvesToKerasClass(string name)
    {
        var keras = Json["cases"]![name]!;
        var (p, _) = Data(keras["kind"]!.GetValue<string>());
        var loss = KerasStyle.Training.Losses.LossNames.Create(keras["loss"]!.GetValue<string>());
        var resolved = Metric.Resolve(keras["metric"]!.GetValue<string>(), loss, p.GetLength(1));
        Assert.That(resolved.GetType().Name, Is.EqualTo(keras["class"]!.GetValue<string>()));
        Assert.That(resolved.Name, Is.EqualTo(keras["metric"]!.GetValue<string>()));
    }

    [TestCaseSource(nameof(Cases))]
    public void MetricString_InACompileConfig_IsReadAndWrittenBack(string name)
    {
        var metric = Json["cases"]![name]!["metric"]!.GetValue<string>();
        var config = new JsonObject { ["optimizer"] = "sgd", ["loss"] = "mse", ["metrics"] = new JsonArray(metric) };
        var read = CompileConfig.Deserialize(config).Metrics;
        Assert.That(read.Select(m => m.Serialize().ToJsonString()), Is.EqualTo(new[] { JsonValue.Create(metric).ToJsonString() }));
    }

    [Test]
    public void ConfusionCounts_UnnamedInstances_AreNumberedAsKeras316()
    {
        var expected = Json["default_names"]!.AsObject();
        var actual = new Dictionary<string, string[]>
        {
            ["TruePositives"] = new[] { new TruePositives().Name, new TruePositives().Name, new TruePositives(name: "mine").Name, new TruePositives().Name },
            ["FalsePositives"] = new[] { new FalsePositives().Name, new FalsePositives().Name, new FalsePositives(name: "mine").Name, new FalsePositives().Name },
            ["TrueNegatives"] = new[] { new TrueNegatives().Name, new TrueNegatives().Name, new TrueNegatives(name: "mine").Name, new TrueNegatives().Name },
            ["FalseNegatives"] = new[] { new FalseNegatives().Name, new FalseNegatives().Name, new FalseNegatives(name: "mine").Name, new FalseNegatives().Name },
        };
        foreach (var (cls, names) in expected)
        {
            Assert.That(actual[cls], Is.EqualTo(names!.AsArray().Select(n => n!.GetValue<string>())), cls);
        }
    }

    [Test]
    public void ConfusionCounts_WithSeveralThresholds_AreNumberedToo()
    {
        Assert.That((new TruePositives(new[] { 0.3, 0.6 }).Name, new TruePositives(new[] { 0.3 }).Name), Is.EqualTo(("true_positives", "true_positives_1")));
    }
}
