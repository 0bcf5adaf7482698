using System.Text.Json.Nodes;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Loss and metric classes in a compile config: their arguments at Keras' defaults load, any other value is refused
/// (issue 20: label_smoothing, AUC's curve, multi_label... were accepted and ignored). The configs are the ones Keras
/// 3.16 wrote (tools/keras-fixtures/numerics.py).
/// </summary>
public class CompileConfigArgumentsTests
{
    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "numerics.json")))!.AsObject();

    private static IEnumerable<string> LossCases() => Fixture["losses"]!.AsObject().Select(kv => kv.Key);

    private static IEnumerable<string> AucCases() => Fixture["auc"]!.AsObject().Select(kv => kv.Key).Where(k => k != "roc");

    private static IEnumerable<string> ConfusionCases() => Fixture["confusion"]!.AsObject().Select(kv => kv.Key);

    [TestCaseSource(nameof(LossCases))]
    public void Loss_WithAnArgumentNotAtItsDefault_IsRefused(string name)
    {
        var keras = Fixture["losses"]![name]!;
        var loss = new JsonObject { ["module"] = "keras.losses", ["class_name"] = keras["class_name"]!.GetValue<string>(), ["config"] = keras["config"]!.DeepClone() };

        var error = Assert.Throws<NotSupportedException>(() => Deserialize(loss, new JsonArray()))!;

        Assert.That(error.Message, Does.Contain(keras["class_name"]!.GetValue<string>()));
    }

    [TestCaseSource(nameof(AucCases))]
    public void Auc_WithAnArgumentNotAtItsDefault_IsRefused(string name)
    {
        var metric = new JsonObject { ["module"] = "keras.metrics", ["class_name"] = "AUC", ["config"] = Fixture["auc"]![name]!["config"]!.DeepClone() };

        var error = Assert.Throws<NotSupportedException>(() => Deserialize("binary_crossentropy", new JsonArray(metric)))!;

        Assert.That(error.Message, Does.Contain("AUC"));
    }

    [TestCaseSource(nameof(ConfusionCases))]
    public void PrecisionOrRecall_WithAThresholdOrClass_IsRefused(string name)
    {
        var keras = Fixture["confusion"]![name]!;
        var metric = new JsonObject { ["class_name"] = keras["class_name"]!.GetValue<string>(), ["config"] = keras["config"]!.DeepClone() };

        Assert.Throws<NotSupportedException>(() => Deserialize("binary_crossentropy", new JsonArray(metric)));
    }

    [Test]
    public void LossAndAuc_AtKerasDefaults_Load()
    {
        var loss = new JsonObject { ["class_name"] = "BinaryCrossentropy", ["config"] = new JsonObject { ["name"] = "binary_crossentropy", ["reduction"] = "sum_over_batch_size", ["from_logits"] = false, ["label_smoothing"] = 0.0, ["axis"] = -1 } };
        var auc = new JsonObject { ["class_name"] = "AUC", ["config"] = Fixture["auc"]!["roc"]!["config"]!.DeepClone() };

        var (_, lossObject, metrics, _) = Deserialize(loss, new JsonArray(auc));

        Assert.That((lossObject.Name, metrics.Single()), Is.EqualTo(("binary_crossentropy", "auc")));
    }

    private static (KerasStyle.Training.Optimizers.Optimizer, KerasStyle.Training.Losses.Loss, string[], string[]) Deserialize(JsonNode loss, JsonArray metrics) =>
        CompileConfig.Deserialize(new JsonObject { ["optimizer"] = "sgd", ["loss"] = loss, ["metrics"] = metrics });
}
