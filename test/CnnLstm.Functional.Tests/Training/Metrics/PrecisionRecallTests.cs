using System.Text.Json.Nodes;
using KerasStyle.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>Precision and Recall with a threshold or a class id against Keras 3.16's values (batches of 4), in C# and from config.</summary>
public class PrecisionRecallTests
{
    private static IEnumerable<string> Cases() => NumericsFixture.Cases("confusion");

    [SetUp]
    public void Reset() => Backend.ClearSession();

    [TestCaseSource(nameof(Cases))]
    public void BuiltInCode_GivesKerasValue(string name)
    {
        var keras = NumericsFixture.Case("confusion", name);
        var config = keras["config"]!.AsObject();
        var (thresholds, classId) = (config["thresholds"]?.GetValue<double>(), config["class_id"]?.GetValue<int>());
        Metric metric = keras["class_name"]!.GetValue<string>() == "Precision"
            ? new Precision(thresholds: thresholds, classId: classId, name: "m") : new Recall(thresholds: thresholds, classId: classId, name: "m");

        Assert.That(Evaluate(metric), Is.EqualTo(keras["value"]!.GetValue<double>()).Within(1e-6));
    }

    [TestCaseSource(nameof(Cases))]
    public void ReadFromKerasConfig_GivesKerasValue(string name)
    {
        var keras = NumericsFixture.Case("confusion", name);
        var metric = NumericsFixture.Deserialize("binary_crossentropy", new JsonArray(NumericsFixture.Serialized(keras["class_name"]!.GetValue<string>(), keras["config"]!, "keras.metrics"))).Metrics.Single();

        Assert.That(Evaluate(metric), Is.EqualTo(keras["value"]!.GetValue<double>()).Within(1e-6));
    }

    [Test]
    public void TopK_CountsOnlyTheLargestPredictions()
    {
        // Keras: entries outside the top k become NEG_INF; with no threshold given every top-k entry is positive
        // (Keras 3.16 gives 0.5 and 2/3 here).
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        model.Compile("sgd", new BinaryCrossentropy(), new Metric[] { new Precision(topK: 1, name: "p1"), new Recall(topK: 2, name: "r2") });
        var p = new float[,] { { 0.1f, 0.3f, 0.2f }, { 0.9f, 0.8f, 0.7f } };
        var y = new float[,] { { 0, 1, 1 }, { 0, 0, 1 } };

        var result = model.Evaluate(p, y);

        Assert.That((result["p1"], result["r2"]), Is.EqualTo((0.5, 2.0 / 3)));
    }

    [Test]
    public void ClassIdBeyondTheUnits_IsRefusedAtCompile()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        Assert.Throws<ArgumentException>(() => model.Compile("sgd", new BinaryCrossentropy(), new Metric[] { new Recall(classId: 3) }));
    }

    [Test]
    public void SeveralThresholdsInAConfig_AreRefused()
    {
        var precision = new JsonObject { ["class_name"] = "Precision", ["config"] = new JsonObject { ["thresholds"] = new JsonArray(0.3, 0.6) } };
        Assert.Throws<NotSupportedException>(() => NumericsFixture.Deserialize("binary_crossentropy", new JsonArray(precision)));
    }

    private static double Evaluate(Metric metric)
    {
        var auc = NumericsFixture.Json["auc"]!["roc"]!;
        var p = KerasStyle.Tests.Saving.FixtureJson.ToFloat2(auc["p"]!.AsArray());
        var y = KerasStyle.Tests.Saving.FixtureJson.ToFloat2(auc["y"]!.AsArray());
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        model.Compile("sgd", new BinaryCrossentropy(), new[] { metric });
        return model.Evaluate(p, y, batchSize: 4)[metric.Name];
    }
}
