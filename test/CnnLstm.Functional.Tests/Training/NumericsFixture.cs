using System.Text.Json.Nodes;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Losses;

namespace KerasStyle.Tests.Training;

/// <summary>
/// Keras 3.16's values for losses and metrics with arguments (KerasFixtures/numerics.json, written by
/// tools/keras-fixtures/numerics.py), and the evaluation Keras ran on an identity model.
/// </summary>
internal static class NumericsFixture
{
    public static readonly JsonObject Json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "numerics.json")))!.AsObject();

    public static IEnumerable<string> Cases(string section) => Json[section]!.AsObject().Select(kv => kv.Key);

    public static JsonNode Case(string section, string name) => Json[section]![name]!;

    /// <summary>Evaluate of an identity model on the case's predictions, as numerics.py ran it: the value logged under <paramref name="key"/>.</summary>
    public static double Evaluate(JsonNode keras, Loss loss, Metric? metric, int batchSize, string key)
    {
        var p = FixtureJson.ToFloat2(keras["p"]!.AsArray());
        var y = FixtureJson.ToFloat2(keras["y"]!.AsArray());
        var w = keras["w"] is JsonArray weights ? weights.Select(v => (float)v!.GetValue<double>()).ToArray() : null;
        using var model = TinyModels.Linear(TinyModels.Identity(p.GetLength(1)));
        // Sample weights reach only weighted metrics, as in Keras (numerics.py compiles the metric as weighted when it has weights).
        var metrics = metric is null ? Array.Empty<Metric>() : new[] { metric };
        model.Compile("sgd", loss, w is null ? metrics : Array.Empty<Metric>(), w is null ? null : metrics);
        return model.Evaluate(p, y, batchSize: batchSize, sampleWeight: w)[key];
    }

    /// <summary>A compile config with the case's loss or metric class, as Keras 3.16 serialized it.</summary>
    public static JsonObject Serialized(string className, JsonNode config, string module) =>
        new() { ["module"] = module, ["class_name"] = className, ["config"] = config.DeepClone(), ["registered_name"] = null };

    public static (KerasStyle.Training.Optimizers.Optimizer Optimizer, Loss Loss, Metric[] Metrics, Metric[] Weighted) Deserialize(JsonNode loss, JsonArray metrics) =>
        CompileConfig.Deserialize(new JsonObject { ["optimizer"] = "sgd", ["loss"] = loss, ["metrics"] = metrics });
}
