using System.Text.Json.Nodes;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>
/// Issue 25's losses (Huber, LogCosh, KLDivergence, Poisson, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge,
/// MeanAbsolutePercentageError, MeanSquaredLogarithmicError, BinaryFocalCrossentropy, CategoricalFocalCrossentropy)
/// against Keras 3.16 (KerasFixtures/losses.json, tools/keras-fixtures/losses.py): each argument set called eagerly
/// under every reduction without weights and with (batch,), (batch, 1) and per-step sample weights; configs both
/// ways; Keras' function names and aliases; three SGD steps of a model compiled with them.
/// </summary>
public class KerasLossesTests
{
    private const double Tolerance = 1e-6;

    private static readonly JsonObject Json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "losses.json")))!.AsObject();

    [SetUp]
    public void Reset() => Backend.ClearSession();

    private static IEnumerable<TestCaseData> ValueCases() =>
        from kv in Json["values"]!.AsObject()
        from reduction in Loss.Reductions
        select new TestCaseData(kv.Key, reduction).SetName($"Invoke_{kv.Key}_{reduction}_AsKeras316");

    private static IEnumerable<string> NameCases() => Json["names"]!.AsObject().Select(kv => kv.Key);

    private static IEnumerable<string> TrainingCases() => Json["training"]!.AsObject().Select(kv => kv.Key);

    private static IEnumerable<string> ConfigCases() => Json["values"]!.AsObject().Select(kv => kv.Key);

    [TestCaseSource(nameof(ValueCases))]
    public void Invoke_AsKeras316(string name, string reduction)
    {
        var keras = Json["values"]![name]!;
        var config = keras["config"]!.DeepClone().AsObject();
        config["reduction"] = reduction;
        var loss = LossNames.FromConfig(keras["class_name"]!.GetValue<string>(), config);
        var expected = keras["values"]![reduction]!.AsObject();
        using var scope = NewDisposeScope();
        var (y, p) = (ObjectsFixture.Tensor(keras["y"]!), ObjectsFixture.Tensor(keras["p"]!));

        Assert.That(Values(loss.Invoke(y, p)), Is.EqualTo(Expected(expected["plain"]!)).Using<double>(Relative), "no weights");
        foreach (var (form, value) in expected.Where(kv => kv.Key != "plain"))
        {
            var w = ObjectsFixture.Tensor(keras["weights"]![form]!);
            if (value is JsonValue v && v.TryGetValue<string>(out var error))
            {
                // Keras fails to broadcast these weights (error recorded in the fixture); the library refuses them.
                Assert.Throws<ArgumentException>(() => loss.Invoke(y, p, w), $"{form}: Keras {error}");
                continue;
            }

            Assert.That(Values(loss.Invoke(y, p, w)), Is.EqualTo(Expected(value!)).Using<double>(Relative), $"weights {form}");
            if (reduction != "none")
            {
                var arrays = loss.Invoke(ObjectsFixture.Array(keras["y"]!), ObjectsFixture.Array(keras["p"]!), ObjectsFixture.Array(keras["weights"]![form]!));
                Assert.That(arrays, Is.EqualTo(value!.GetValue<double>()).Using<double>(Relative), $"arrays, weights {form}");
            }
        }
    }

    [TestCaseSource(nameof(ConfigCases))]
    public void Config_IsKerasGetConfig_BothWays(string name)
    {
        var keras = Json["values"]![name]!;
        var config = keras["config"]!.AsObject();
        var className = keras["class_name"]!.GetValue<string>();
        var fromConfig = LossNames.FromConfig(className, config.DeepClone().AsObject());
        var fromCode = FromArguments(className, keras["args"]!.AsObject());

        Assert.That(fromConfig.ClassName, Is.EqualTo(className));
        Assert.That(JsonNode.DeepEquals(Normalized(fromConfig.GetConfig()), Normalized(config)), $"{fromConfig.GetConfig().ToJsonString()} vs Keras {config.ToJsonString()}");
        Assert.That(JsonNode.DeepEquals(Normalized(fromCode.GetConfig()), Normalized(config)), $"{fromCode.GetConfig().ToJsonString()} vs Keras {config.ToJsonString()}");
    }

    [TestCaseSource(nameof(NameCases))]
    public void Name_CreatesKerasLoss_AsKeras316(string name)
    {
        var keras = Json["names"]![name]!;
        var loss = LossNames.Create(name);

        Assert.That(loss.Invoke(ObjectsFixture.Array(keras["y"]!), ObjectsFixture.Array(keras["p"]!)), Is.EqualTo(keras["value"]!.GetValue<double>()).Using<double>(Relative));
    }

    [TestCaseSource(nameof(TrainingCases))]
    public void TrainOnBatch_ThreeSgdSteps_AsKeras316(string name)
    {
        var keras = Json["training"]![name]!;
        using var model = TinyModels.Linear((float[,])ObjectsFixture.Array(keras["kernel"]!), keras["activation"]?.GetValue<string>());
        var loss = keras["loss"] is JsonValue value ? LossNames.Create(value.GetValue<string>())
            : LossNames.FromConfig(keras["loss"]!["class_name"]!.GetValue<string>(), keras["loss"]!["config"]!.DeepClone().AsObject());
        model.Compile(new SGD(learningRate: 0.1), loss);
        var (x, y) = (ObjectsFixture.Array(keras["x"]!), ObjectsFixture.Array(keras["y"]!));

        var losses = Enumerable.Range(0, 3).Select(_ => model.TrainOnBatch(x, y)["loss"]).ToArray();

        Assert.That(losses, Is.EqualTo(ObjectsFixture.Doubles(keras["losses"]!)).Using<double>(RelativeTraining));
        Assert.That(model.GetWeights()[0].Data.Select(v => (double)v), Is.EqualTo(ObjectsFixture.Doubles(keras["kernel_after"]!)).Within(1e-5));
    }

    [Test]
    public void DefaultHuber_IsWrittenAsKerasFunctionName_OtherwiseAsItsClass()
    {
        Assert.That(new Huber().Serialize().GetValue<string>(), Is.EqualTo("huber"));
        Assert.That(new Huber().Name, Is.EqualTo("huber_loss"));
        var written = new Huber(delta: 0.5).Serialize().AsObject();
        Assert.That(written["class_name"]!.GetValue<string>(), Is.EqualTo("Huber"));
        Assert.That(written["config"]!["delta"]!.GetValue<double>(), Is.EqualTo(0.5));
        Assert.That(new KLDivergence().Serialize().GetValue<string>(), Is.EqualTo("kl_divergence"));
        Assert.That(new BinaryFocalCrossentropy(gamma: 3).Serialize().AsObject()["config"]!["gamma"]!.GetValue<double>(), Is.EqualTo(3));
    }

    [Test]
    public void ClassName_AsString_CreatesTheClassAtItsDefaults() =>
        Assert.That(LossNames.Create("CategoricalHinge"), Is.InstanceOf<CategoricalHinge>());

    [Test]
    public void UnknownConfigKey_IsRefused() =>
        Assert.Throws<FormatException>(() => LossNames.FromConfig("Huber", new JsonObject { ["delta"] = 1.0, ["axis"] = -1 }));

    [Test]
    public void FocalLabelSmoothing_OutsideZeroToOne_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BinaryFocalCrossentropy(labelSmoothing: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CategoricalFocalCrossentropy(labelSmoothing: -0.1));
    }

    [Test]
    public void CosineSimilarityAxisBeyondTheOutputRank_IsRefusedAtCompile()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        Assert.Throws<ArgumentException>(() => model.Compile("sgd", new CosineSimilarity(axis: 3)));
    }

    [Test]
    public void Hinge_MixedLabels_AreNotConverted()
    {
        // Keras converts 0/1 targets only when all of them are 0 or 1: with a 2 among them, 0 stays 0 (loss 1 - 0 p = 1).
        var loss = new Hinge();
        Assert.That(loss.Invoke(new float[] { 0, 2 }, new float[] { 0.5f, 0.25f }), Is.EqualTo((1 + 0.5) / 2).Within(1e-6));
        Assert.That(loss.Invoke(new float[] { 0, 1 }, new float[] { 0.5f, 0.25f }), Is.EqualTo((1.5 + 0.75) / 2).Within(1e-6));
    }

    private static bool Relative(double a, double b) => Math.Abs(a - b) <= Tolerance * Math.Max(1, Math.Abs(b));

    private static bool RelativeTraining(double a, double b) => Math.Abs(a - b) <= 1e-5 * Math.Max(1, Math.Abs(b));

    private static double[] Expected(JsonNode node) => ObjectsFixture.Doubles(node);

    private static double[] Values(Tensor t) => t.to_type(ScalarType.Float64).data<double>().ToArray();

    /// <summary>Numbers as doubles, so that Keras' 1.0 and the library's 1 compare equal.</summary>
    private static JsonObject Normalized(JsonObject config) =>
        new(config.Select(kv => KeyValuePair.Create(kv.Key, kv.Value is JsonValue v && v.TryGetValue<double>(out var d) && !v.TryGetValue<bool>(out _) ? JsonValue.Create(d) : kv.Value?.DeepClone())));

    /// <summary>The C# constructor call for Keras' arguments (in camelCase).</summary>
    private static Loss FromArguments(string className, JsonObject args)
    {
        double D(string key, double fallback) => args[key]?.GetValue<double>() ?? fallback;
        var fromLogits = args["from_logits"]?.GetValue<bool>() ?? false;
        var axis = args["axis"]?.GetValue<int>() ?? -1;
        return className switch
        {
            "Huber" => new Huber(delta: D("delta", 1.0)),
            "LogCosh" => new LogCosh(),
            "KLDivergence" => new KLDivergence(),
            "Poisson" => new Poisson(),
            "CosineSimilarity" => new CosineSimilarity(axis: axis),
            "Hinge" => new Hinge(),
            "SquaredHinge" => new SquaredHinge(),
            "CategoricalHinge" => new CategoricalHinge(),
            "MeanAbsolutePercentageError" => new MeanAbsolutePercentageError(),
            "MeanSquaredLogarithmicError" => new MeanSquaredLogarithmicError(),
            "BinaryFocalCrossentropy" => new BinaryFocalCrossentropy(args["apply_class_balancing"]?.GetValue<bool>() ?? false, D("alpha", 0.25), D("gamma", 2.0), fromLogits, D("label_smoothing", 0), axis),
            "CategoricalFocalCrossentropy" => new CategoricalFocalCrossentropy(D("alpha", 0.25), D("gamma", 2.0), fromLogits, D("label_smoothing", 0), axis),
            _ => throw new AssertionException($"no C# loss for {className}"),
        };
    }
}
