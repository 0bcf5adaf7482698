using System.Text.Json.Nodes;
using KerasStyle.Training.Losses;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>
/// Losses with Keras' arguments (label_smoothing, from_logits, axis, reduction, ignore_class) against Keras 3.16's
/// values (issue 20: label_smoothing was accepted and ignored): built in C#, and read from the config Keras wrote.
/// </summary>
public class LossArgumentsTests
{
    private static IEnumerable<string> Cases() => NumericsFixture.Cases("losses");

    [SetUp]
    public void Reset() => Backend.ClearSession();

    [TestCaseSource(nameof(Cases))]
    public void LossBuiltInCode_GivesKerasValue(string name)
    {
        var keras = NumericsFixture.Case("losses", name);
        var loss = FromArguments(keras["class_name"]!.GetValue<string>(), keras["config"]!.AsObject());

        Assert.That(NumericsFixture.Evaluate(keras, loss, null, batchSize: 6, "loss"), Is.EqualTo(keras["loss"]!.GetValue<double>()).Within(2e-6));
    }

    [TestCaseSource(nameof(Cases))]
    public void LossReadFromKerasConfig_GivesKerasValue_AndIsWrittenBackWithItsArguments(string name)
    {
        var keras = NumericsFixture.Case("losses", name);
        var config = keras["config"]!.AsObject().DeepClone().AsObject();
        var loss = NumericsFixture.Deserialize(NumericsFixture.Serialized(keras["class_name"]!.GetValue<string>(), config, "keras.losses"), new JsonArray()).Loss;

        Assert.That(NumericsFixture.Evaluate(keras, loss, null, batchSize: 6, "loss"), Is.EqualTo(keras["loss"]!.GetValue<double>()).Within(2e-6));
        var written = loss.Serialize().AsObject()["config"]!.AsObject();
        foreach (var (key, value) in config)
        {
            Assert.That(JsonNode.DeepEquals(written[key], value) || written[key]?.GetValue<double>() == value?.GetValue<double>(), $"{key}: {written[key]?.ToJsonString()} vs Keras {value?.ToJsonString()}");
        }
    }

    [Test]
    public void ReductionNone_EvaluatesAsKerasLossTracker_AndFitIsRefused()
    {
        // Keras' evaluate averages the unreduced losses (0.7549 in Keras 3.16 on these values); fit cannot take the
        // gradient of a vector ("grad can be implicitly created only for scalar outputs").
        var p = new float[,] { { 0.9f, 0.2f }, { 0.4f, 0.7f } };
        var y = new float[,] { { 1, 0 }, { 1, 1 } };
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        model.Compile("sgd", new BinaryCrossentropy(reduction: "none"));
        var expected = -(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.4) + Math.Log(0.7)) / 4;

        Assert.That(model.Evaluate(p, y)["loss"], Is.EqualTo(expected).Within(1e-6));
        Assert.Throws<InvalidOperationException>(() => model.Fit(p, y, epochs: 1, verbose: 0));
    }

    [Test]
    public void IgnoreClass_AllowsTheIgnoredIdOutsideTheClasses_AndMasksIt()
    {
        var p = new float[,] { { 0.5f, 0.25f, 0.25f }, { 0.1f, 0.8f, 0.1f } };
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        model.Compile("sgd", new SparseCategoricalCrossentropy(ignoreClass: -1));

        Assert.That(model.Evaluate(p, new[] { -1, 1 })["loss"], Is.EqualTo(-Math.Log(0.8)).Within(1e-6));
    }

    [TestCase(-0.1)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void LabelSmoothing_OutsideZeroToOne_IsRefused(double smoothing) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CategoricalCrossentropy(labelSmoothing: smoothing));

    [Test]
    public void UnknownReduction_IsRefused() =>
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new MeanSquaredError(reduction: "auto"))!.Message, Does.Contain("sum_over_batch_size"));

    [Test]
    public void AxisBeyondTheOutputRank_IsRefusedAtCompile()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        Assert.Throws<ArgumentException>(() => model.Compile("sgd", new BinaryCrossentropy(axis: 2)));
    }

    [Test]
    public void SparseAxisOnTheBatchAxis_IsRefusedAtCompile()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Compile("sgd", new SparseCategoricalCrossentropy(axis: 0)))!.Message, Does.Contain("batch axis"));
        Assert.That(model.IsCompiled, Is.False);
    }

    [Test]
    public void AxisOtherThanTheLast_WithSampleWeights_IsRefused()
    {
        // Keras fails to broadcast the weights there ("The size of tensor a (2) must match the size of tensor b (6)").
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        model.Compile("sgd", new BinaryCrossentropy(axis: 0));
        Assert.Throws<NotSupportedException>(() => model.Evaluate(new float[,] { { 0.5f, 0.5f } }, new float[,] { { 1, 0 } }, sampleWeight: new[] { 1f }));
    }

    /// <summary>The C# constructor call for a Keras config: Keras' argument names in camelCase.</summary>
    private static Loss FromArguments(string className, JsonObject config)
    {
        var reduction = config["reduction"]?.GetValue<string>();
        var fromLogits = config["from_logits"]?.GetValue<bool>() ?? false;
        var smoothing = config["label_smoothing"]?.GetValue<double>() ?? 0;
        var axis = config["axis"]?.GetValue<int>() ?? -1;
        return className switch
        {
            "BinaryCrossentropy" => new BinaryCrossentropy(fromLogits: fromLogits, labelSmoothing: smoothing, axis: axis, reduction: reduction),
            "CategoricalCrossentropy" => new CategoricalCrossentropy(fromLogits: fromLogits, labelSmoothing: smoothing, axis: axis, reduction: reduction),
            "SparseCategoricalCrossentropy" => new SparseCategoricalCrossentropy(fromLogits: fromLogits, ignoreClass: config["ignore_class"]?.GetValue<int>(), reduction: reduction, axis: axis),
            "MeanSquaredError" => new MeanSquaredError(reduction: reduction),
            "MeanAbsoluteError" => new MeanAbsoluteError(reduction: reduction),
            _ => throw new AssertionException($"no C# loss for {className}"),
        };
    }
}
