using System.Text.Json.Nodes;
using KerasStyle.Training;
using KerasStyle.Training.Metrics;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>
/// AUC with Keras' arguments against Keras 3.16's values, evaluated in batches of 4 (issue 20: curve "PR" was computed
/// as ROC, multi_label as one flattened ROC): built in C#, and read from the config Keras wrote.
/// </summary>
public class AUCTests
{
    private static IEnumerable<string> Cases() => NumericsFixture.Cases("auc");

    [SetUp]
    public void Reset() => Backend.ClearSession();

    [TestCaseSource(nameof(Cases))]
    public void AucBuiltInCode_GivesKerasValue(string name)
    {
        var keras = NumericsFixture.Case("auc", name);
        var auc = FromArguments(keras["config"]!.AsObject());

        Assert.That(NumericsFixture.Evaluate(keras, new KerasStyle.Training.Losses.BinaryCrossentropy(), auc, batchSize: 4, auc.Name), Is.EqualTo(keras["auc"]!.GetValue<double>()).Within(1e-6));
    }

    [TestCaseSource(nameof(Cases))]
    public void AucReadFromKerasConfig_GivesKerasValue_AndIsWrittenBackWithItsArguments(string name)
    {
        var keras = NumericsFixture.Case("auc", name);
        var config = keras["config"]!.AsObject();
        var metric = NumericsFixture.Deserialize("binary_crossentropy", new JsonArray(NumericsFixture.Serialized("AUC", config, "keras.metrics"))).Metrics.Single();

        Assert.That(NumericsFixture.Evaluate(keras, new KerasStyle.Training.Losses.BinaryCrossentropy(), metric, batchSize: 4, metric.Name), Is.EqualTo(keras["auc"]!.GetValue<double>()).Within(1e-6));
        var written = metric.Serialize()["config"]!.AsObject();
        foreach (var (key, value) in config)
        {
            Assert.That(written[key]?.ToJsonString(), Is.EqualTo(value?.ToJsonString()).Or.EqualTo(value is null ? null : value.ToJsonString().Replace(".0", string.Empty, StringComparison.Ordinal)), key);
        }
    }

    [Test]
    public void MetricName_IsTheLogKey_AndValidationsToo()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", new KerasStyle.Training.Losses.BinaryCrossentropy(), new Metric[] { "accuracy", new AUC(curve: "PR", name: "pr_auc") });
        var x = new float[,] { { 0.2f }, { 0.7f }, { 0.9f }, { 0.4f } };
        var y = new float[] { 0, 1, 1, 1 };

        var history = model.Fit(x, y, epochs: 1, verbose: 0, validationData: (x, y));

        Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "accuracy", "pr_auc" }));
        Assert.That(history.Values.Keys, Is.SupersetOf(new[] { "pr_auc", "val_pr_auc" }));
    }

    [Test]
    public void DefaultNames_AreUniqueInASession_AsKerasAutoName()
    {
        Assert.That((new AUC().Name, new AUC().Name, new Precision().Name), Is.EqualTo(("auc", "auc_1", "precision")));
    }

    [Test]
    public void MultiLabel_OnARank3Output_IsRefusedAtCompile()
    {
        var input = new KerasStyle.Layers.Input(new[] { 3, 2 });
        using var model = new KerasStyle.Models.Model(input, new KerasStyle.Layers.Dense(2).Call(input));
        Assert.Throws<ArgumentException>(() => model.Compile("sgd", new KerasStyle.Training.Losses.BinaryCrossentropy(), new Metric[] { new AUC(multiLabel: true) }));
    }

    [Test]
    public void NumLabelsWithoutMultiLabel_IsRefused() =>
        Assert.Throws<ArgumentException>(() => _ = new AUC(numLabels: 3));

    [Test]
    public void UnknownCurve_IsRefused() =>
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new AUC(curve: "DET"))!.Message, Does.Contain("PRGAIN"));

    /// <summary>The C# constructor call for a Keras config: Keras' argument names in camelCase.</summary>
    private static AUC FromArguments(JsonObject config) => new(
        numThresholds: config["num_thresholds"]!.GetValue<int>(),
        curve: config["curve"]!.GetValue<string>(),
        summationMethod: config["summation_method"]!.GetValue<string>(),
        thresholds: config["thresholds"]?.AsArray().Select(v => v!.GetValue<double>()).ToArray(),
        multiLabel: config["multi_label"]!.GetValue<bool>(),
        numLabels: config["num_labels"]?.GetValue<int>(),
        labelWeights: config["label_weights"]?.AsArray().Select(v => v!.GetValue<double>()).ToArray(),
        fromLogits: config["from_logits"]!.GetValue<bool>());
}
