using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Metrics;

/// <summary>
/// F1Score/FBetaScore, the sensitivity/specificity family and the IoU family against Keras 3.16
/// (tools/keras-fixtures/metrics_iou_f1.py): each after two weighted update_state calls, unweighted, with float
/// weights truncated by the integer state, after reset_state, its get_config read back; three small models compiled
/// with them, fit 2 epochs and evaluated.
/// </summary>
public class FScoreIoUFixtureTests
{
    private const double Tolerance = 2e-5;

    private static readonly JsonObject Json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "metrics_iou_f1.json")))!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static Metric Create(string name) => name switch
    {
        "F1Score" => new F1Score(),
        "F1Score_micro" => new F1Score(average: "micro", threshold: 0.5),
        "F1Score_macro" => new F1Score(average: "macro"),
        "F1Score_weighted" => new F1Score(average: "weighted", threshold: 0.3),
        "FBetaScore" => new FBetaScore(beta: 2.0),
        "FBetaScore_macro" => new FBetaScore(average: "macro", beta: 0.5, threshold: 0.6),
        "FBetaScore_weighted" => new FBetaScore(average: "weighted", beta: 3.0),
        "PrecisionAtRecall" => new PrecisionAtRecall(0.5),
        "PrecisionAtRecall_few" => new PrecisionAtRecall(0.8, numThresholds: 3),
        "PrecisionAtRecall_class" => new PrecisionAtRecall(0.4, numThresholds: 7, classId: 2),
        "RecallAtPrecision" => new RecallAtPrecision(0.6),
        "RecallAtPrecision_one" => new RecallAtPrecision(0.3, numThresholds: 1),
        "SensitivityAtSpecificity" => new SensitivityAtSpecificity(0.5),
        "SensitivityAtSpecificity_class" => new SensitivityAtSpecificity(0.7, numThresholds: 11, classId: 0),
        "SpecificityAtSensitivity" => new SpecificityAtSensitivity(0.6),
        "SpecificityAtSensitivity_few" => new SpecificityAtSensitivity(0.9, numThresholds: 2),
        "MeanIoU" => new MeanIoU(3),
        "MeanIoU_ignore" => new MeanIoU(3, ignoreClass: 1),
        "MeanIoU_dense" => new MeanIoU(3, sparseYPred: false),
        "MeanIoU_float" => new MeanIoU(3, sparseYTrue: false, sparseYPred: false, dtype: "float32"),
        "IoU" => new IoU(3, new[] { 0, 2 }),
        "IoU_dense" => new IoU(3, new[] { 1 }, sparseYTrue: false, sparseYPred: false, ignoreClass: 0),
        "BinaryIoU" => new BinaryIoU(),
        "BinaryIoU_one" => new BinaryIoU(targetClassIds: new[] { 1 }, threshold: 0.3),
        "OneHotIoU" => new OneHotIoU(3, new[] { 0, 1 }),
        "OneHotIoU_sparse" => new OneHotIoU(3, new[] { 2 }, sparseYPred: true),
        "OneHotMeanIoU" => new OneHotMeanIoU(3),
        "OneHotMeanIoU_float" => new OneHotMeanIoU(3, ignoreClass: 2, dtype: "float32"),
        _ => throw new ArgumentException(name),
    };

    private static IEnumerable<string> Names() => Json["metrics"]!.AsObject().Select(kv => kv.Key);

    private static JsonArray Batches => Json["batches"]!.AsArray();

    private static IReadOnlyList<double> Values(Metric metric) => metric.ResultValues();

    private static double[] Expected(JsonNode node) => node is JsonArray ? ObjectsFixture.Doubles(node) : new[] { node.GetValue<double>() };

    [TestCaseSource(nameof(Names))]
    public void TwoWeightedUpdates_Unweighted_AndReset_AsKeras316(string name)
    {
        var keras = Json["metrics"]![name]!;
        var (target, prediction, weights) = (keras["target"]!.GetValue<string>(), keras["prediction"]!.GetValue<string>(), keras["weights"]!.GetValue<string>());
        var metric = Create(name);
        var index = 0;
        foreach (var batch in Batches)
        {
            metric.UpdateState(ObjectsFixture.Array(batch![target]!), ObjectsFixture.Array(batch[prediction]!), ObjectsFixture.Array(batch[weights]!));
            Assert.That(Values(metric), Is.EqualTo(Expected(keras["results"]![index++]!)).Within(Tolerance), $"after weighted update {index}");
        }

        var unweighted = Create(name);
        foreach (var batch in Batches)
        {
            using var scope = NewDisposeScope();
            unweighted.UpdateState(ObjectsFixture.Tensor(batch![target]!), ObjectsFixture.Tensor(batch[prediction]!));
        }

        Assert.That(Values(unweighted), Is.EqualTo(Expected(keras["unweighted"]!)).Within(Tolerance), "unweighted");
        if (keras["float_weights"] is { } truncated)
        {
            var floats = Create(name);
            foreach (var batch in Batches)
            {
                floats.UpdateState(ObjectsFixture.Array(batch![target]!), ObjectsFixture.Array(batch[prediction]!), ObjectsFixture.Array(batch[weights == "int_w3" ? "w3" : "w"]!));
            }

            Assert.That(Values(floats), Is.EqualTo(Expected(truncated)).Within(Tolerance), "float weights, truncated by Keras' int32 state");
        }

        metric.ResetState();
        Assert.That(Values(metric), name == "F1Score" || name == "FBetaScore" ? Is.Empty : Is.EqualTo(new[] { 0.0 }), "after reset_state");
    }

    [TestCaseSource(nameof(Names))]
    public void GetConfig_IsKeras316s_AndReadsBack(string name)
    {
        var config = Json["metrics"]![name]!["config"]!.AsObject();
        var metric = Create(name);

        Assert.That(metric.GetConfig().ToJsonString(), Is.EqualTo(config.ToJsonString()));
        var className = name.Split('_')[0];
        var read = NumericsFixture.Deserialize("mse", new JsonArray(new JsonObject { ["module"] = "keras.metrics", ["class_name"] = className, ["config"] = config.DeepClone() })).Metrics.Single();
        Assert.That((read.GetType(), read.Name, read.GetConfig().ToJsonString()), Is.EqualTo((metric.GetType(), metric.Name, config.ToJsonString())));
    }

    private static IEnumerable<TestCaseData> Fits()
    {
        yield return new TestCaseData("fit_binary", "sigmoid", (Func<Loss>)(() => new BinaryCrossentropy()), (Func<Metric[]>)(() => new Metric[]
        {
            new F1Score(average: "micro", threshold: 0.5), new FBetaScore(average: "weighted", beta: 2.0, threshold: 0.5), new PrecisionAtRecall(0.6),
            new RecallAtPrecision(0.5, numThresholds: 20), new SensitivityAtSpecificity(0.5), new SpecificityAtSensitivity(0.5, classId: 1), new BinaryIoU(),
        })).SetName("Fit_Evaluate_AsKeras316(binary: F1/FBeta, *At*, BinaryIoU)");
        yield return new TestCaseData("fit_sparse", "softmax", (Func<Loss>)(() => new SparseCategoricalCrossentropy()), (Func<Metric[]>)(() => new Metric[]
        {
            new MeanIoU(3, sparseYPred: false), new IoU(3, new[] { 0, 2 }, sparseYPred: false),
        })).SetName("Fit_Evaluate_AsKeras316(sparse: MeanIoU, IoU)");
        yield return new TestCaseData("fit_onehot", "softmax", (Func<Loss>)(() => new CategoricalCrossentropy()), (Func<Metric[]>)(() => new Metric[]
        {
            new OneHotMeanIoU(3), new OneHotIoU(3, new[] { 1 }), new F1Score(average: "macro"),
        })).SetName("Fit_Evaluate_AsKeras316(one-hot: OneHotMeanIoU, OneHotIoU, F1 macro)");
    }

    [TestCaseSource(nameof(Fits))]
    public void Fit_TwoEpochs_AndEvaluate_LogKerasValues(string fixture, string activation, Func<Loss> loss, Func<Metric[]> metrics)
    {
        var c = Json[fixture]!;
        var input = new Input(shape: 4);
        var dense = new Dense(3, activation);
        using var model = new Model(input, dense.Call(input));
        dense.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(c["kernel"]!.AsArray())), new WeightArray(new[] { 3 }, new float[3]) });
        model.Compile(new SGD(learningRate: 0.5), loss(), metrics());
        var x = FixtureJson.ToFloat2(c["x"]!.AsArray());
        var y = ObjectsFixture.Array(c["y"]!);

        var history = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
        var evaluated = model.Evaluate(x, y, batchSize: 5);

        Assert.That(history.Values.Keys, Is.EquivalentTo(c["history"]!.AsObject().Select(kv => kv.Key)));
        foreach (var (key, values) in c["history"]!.AsObject())
        {
            Assert.That(history.Values[key], Is.EqualTo(ObjectsFixture.Doubles(values!)).Within(1e-5), key);
        }

        foreach (var (key, value) in c["evaluate"]!.AsObject())
        {
            Assert.That(evaluated[key], Is.EqualTo(value!.GetValue<double>()).Within(1e-5), $"evaluate {key}");
        }

        var saved = JsonNode.Parse(model.ToJson())!["compile_config"]!["metrics"]!.AsArray();
        Assert.That(saved.ToJsonString(), Is.EqualTo(c["compile_metrics"]!.ToJsonString()));
    }
}
