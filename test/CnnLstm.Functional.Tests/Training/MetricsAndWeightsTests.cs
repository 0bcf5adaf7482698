using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training;

/// <summary>
/// Issue 16's metrics (stateful across batches), sampleWeight, classWeight and weightedMetrics: against values Keras
/// 3.16 printed for the same data (tools/keras-fixtures/metrics.py, batches of 4, 4 and 2), and against values
/// computed by hand.
/// </summary>
public class MetricsAndWeightsTests
{
    private static readonly JsonObject Cases = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "metrics.json")))!["cases"]!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [TestCase("binary")]
    [TestCase("binary_weighted")]
    [TestCase("binary_mse_weighted")]
    [TestCase("binary_weighted_metrics")]
    [TestCase("categorical_weighted")]
    [TestCase("sparse_weighted")]
    public void Evaluate_AsKeras316(string name)
    {
        var c = Cases[name]!;
        var p = FixtureJson.ToFloat2(c["p"]!.AsArray());
        using var model = TinyModels.Linear(TinyModels.Identity(p.GetLength(1)));
        model.Compile("sgd", c["loss"]!.GetValue<string>(), Names(c["metrics"]), Names(c["weighted_metrics"]));
        var weights = c["w"] is JsonArray w ? w.Select(v => (float)v!.GetValue<double>()).ToArray() : null;

        var result = model.Evaluate(p, FixtureJson.ToFloat2(c["y"]!.AsArray()), batchSize: c["batch"]!.GetValue<int>(), sampleWeight: weights);

        var keras = c["result"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>());
        Assert.That(result.Keys.Order(), Is.EqualTo(keras.Keys.Order()), "logged names");
        foreach (var (key, value) in keras)
        {
            Assert.That(result[key], Is.EqualTo(value).Within(2e-6), key);
        }
    }

    [TestCase("fit_class_weight")]
    [TestCase("fit_sample_weight")]
    public void Fit_WithClassOrSampleWeights_UpdatesAndLogsAsKeras316(string name)
    {
        var c = Cases[name]!;
        var input = new Input(shape: 3);
        var dense = new Dense(1, activation: "sigmoid");
        using var model = new Model(input, dense.Call(input));
        dense.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(c["kernel"]!.AsArray())), new WeightArray(new[] { 1 }, new[] { (float)c["bias"]![0]!.GetValue<double>() }) });
        model.Compile(new SGD(learningRate: 0.5), "binary_crossentropy", new[] { "accuracy", "auc" });
        var classWeight = c["class_weight"] is JsonObject cw ? cw.ToDictionary(kv => int.Parse(kv.Key, System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value!.GetValue<double>()) : null;
        var sampleWeight = c["sample_weight"] is JsonArray sw ? sw.Select(v => (float)v!.GetValue<double>()).ToArray() : null;

        var history = model.Fit(FixtureJson.ToFloat2(c["x"]!.AsArray()), FixtureJson.ToFloat2(c["y"]!.AsArray()), batchSize: 8, epochs: 1, verbose: 0, shuffle: false,
            sampleWeight: sampleWeight, classWeight: classWeight);

        foreach (var (key, value) in c["history"]!.AsObject())
        {
            Assert.That(history.Values[key][0], Is.EqualTo(value!.GetValue<double>()).Within(2e-6), key);
        }

        var weights = dense.GetWeights();
        Assert.That(weights[0].Data, Is.EqualTo(FixtureJson.Flatten(c["kernel_after"]!).Select(v => (float)v)).Within(1e-6), "kernel after one step");
        Assert.That(weights[1].Data[0], Is.EqualTo(c["bias_after"]![0]!.GetValue<double>()).Within(1e-6), "bias after one step");
    }

    [Test]
    public void PrecisionRecall_AreCountsOverTheEpoch_NotMeansOfBatches()
    {
        // Batches of 2: batch 1 has tp 1, fp 1; batch 2 has tp 0, fp 0, fn 2. Over both: precision 1/2, recall 1/3;
        // the mean of the batches' precisions would be 0.25.
        var p = new float[,] { { 0.9f }, { 0.8f }, { 0.1f }, { 0.2f } };
        var y = new float[,] { { 1 }, { 0 }, { 1 }, { 1 } };
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", "mse", new[] { "precision", "recall" });

        var result = model.Evaluate(p, y, batchSize: 2);

        Assert.That(result["precision"], Is.EqualTo(0.5).Within(1e-9));
        Assert.That(result["recall"], Is.EqualTo(1.0 / 3).Within(1e-9));
    }

    [Test]
    public void Auc_SeparatesPerfectlyAsOne_AndReversedAsZero_AndRmseIsTheRootOfTheWholeMean()
    {
        var p = new float[,] { { 0.9f }, { 0.7f }, { 0.3f }, { 0.1f } };
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", "mse", new[] { "auc", "rmse" });

        Assert.That(model.Evaluate(p, new float[,] { { 1 }, { 1 }, { 0 }, { 0 } }, batchSize: 1)["auc"], Is.EqualTo(1.0).Within(1e-9));
        var reversed = model.Evaluate(p, new float[,] { { 0 }, { 0 }, { 1 }, { 1 } }, batchSize: 3);
        Assert.That(reversed["auc"], Is.EqualTo(0.0).Within(1e-9));
        // Squared errors 0.81, 0.49, 0.49, 0.81: sqrt of their mean over all four (batches of 3 and 1).
        Assert.That(reversed["rmse"], Is.EqualTo(Math.Sqrt((0.81 + 0.49 + 0.49 + 0.81) / 4)).Within(1e-6));
    }

    [Test]
    public void SampleWeight_WeighsTheLossOverTheSampleCount_AndWeightedMetricsByTheWeights()
    {
        // Keras 3: loss = sum(w * per-sample loss) / samples; a weighted metric = sum(w * value) / sum(w).
        var p = new float[,] { { 1 }, { 2 }, { 3 } };
        var y = new float[,] { { 0 }, { 0 }, { 0 } };
        var w = new[] { 1f, 0f, 2f };
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", "mse", new[] { "mae" }, weightedMetrics: new[] { "mae" });

        var result = model.Evaluate(p, y, batchSize: 3, sampleWeight: w);

        Assert.That(result["loss"], Is.EqualTo(((1 * 1) + (0 * 4) + (2 * 9)) / 3.0).Within(1e-6));
        Assert.That(result["mae"], Is.EqualTo(2.0).Within(1e-6), "metrics see no weights");
        Assert.That(result["weighted_mae"], Is.EqualTo(((1 * 1) + (2 * 3)) / 3.0).Within(1e-6));
    }

    [Test]
    public void ClassWeight_OnOneHotTargets_WeighsEachSampleByItsArgmaxClass()
    {
        var p = new float[,] { { 0.2f, 0.8f }, { 0.6f, 0.4f } };
        var y = new float[,] { { 0, 1 }, { 1, 0 } };
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        model.Compile(new SGD(learningRate: 0.01), "categorical_crossentropy");

        var loss = model.Fit(p, y, batchSize: 2, epochs: 1, verbose: 0, shuffle: false, classWeight: new Dictionary<int, double> { [1] = 3.0 }).Values["loss"][0];

        Assert.That(loss, Is.EqualTo(((3 * -Math.Log(0.8)) + (1 * -Math.Log(0.6))) / 2).Within(1e-5));
    }

    [Test]
    public void ClassWeight_WithValidationSplit_WeighsTheTrainingSamplesOnly()
    {
        // Keras splits the validation samples off before applying class_weight; found in review (val_loss was weighted).
        var p = new float[,] { { 0.2f }, { 0.7f }, { 0.4f }, { 0.9f }, { 0.3f } };
        var y = new float[,] { { 0 }, { 1 }, { 1 }, { 0 }, { 1 } };
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile(new SGD(learningRate: 1e-9), "mse");

        var history = model.Fit(p, y, batchSize: 5, epochs: 1, verbose: 0, shuffle: false, validationSplit: 0.4, classWeight: new Dictionary<int, double> { [1] = 100 });

        var unweighted = ((0.9 - 0) * (0.9 - 0) + (0.3 - 1) * (0.3 - 1)) / 2;
        Assert.That(history.Values["val_loss"][0], Is.EqualTo(unweighted).Within(1e-5));
        var weighted = ((1 * 0.04) + (100 * 0.09) + (100 * 0.36)) / 3;
        Assert.That(history.Values["loss"][0], Is.EqualTo(weighted).Within(1e-4));
    }

    [Test]
    public void Fit_WithBadWeights_ThrowsBeforeTraining()
    {
        var x = new float[,] { { 1 }, { 2 } };
        var y = new float[,] { { 0 }, { 1 } };
        using var model = TinyModels.Linear(TinyModels.Identity(1));
        model.Compile("sgd", "mse");
        var before = model.GetWeights()[0].Data.ToArray();

        Assert.That(Assert.Throws<ArgumentException>(() => model.Fit(x, y, verbose: 0, sampleWeight: new[] { 1f }))!.Message, Does.Contain("1 weights").And.Contain("2 samples"));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Fit(x, y, verbose: 0, sampleWeight: new[] { 1f, float.NaN }));
        Assert.That(Assert.Throws<ArgumentException>(() => model.Fit(x, y, verbose: 0, sampleWeight: new[] { 1f, 1f }, classWeight: new Dictionary<int, double> { [0] = 2 }))!.Message, Does.Contain("not both"));
        Assert.That(model.GetWeights()[0].Data, Is.EqualTo(before));
    }

    [Test]
    public void Save_WithWeightedMetrics_LoadsCompiledWithThem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ks-weighted-{Guid.NewGuid():N}.keras");
        try
        {
            using var model = TinyModels.Linear(TinyModels.Identity(1));
            model.Compile("sgd", "mse", new[] { "mae" }, weightedMetrics: new[] { "mae", "rmse" });
            model.Save(path);
            using var loaded = Model.Load(path);
            Assert.That(loaded.MetricsNames, Is.EqualTo(new[] { "loss", "mae", "weighted_mae", "rmse" }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string[] Names(JsonNode? list) => list is JsonArray a ? a.Select(n => n!.GetValue<string>()).ToArray() : Array.Empty<string>();
}
