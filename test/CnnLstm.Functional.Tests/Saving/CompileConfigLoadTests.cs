using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Issue 22: how a model was trained never stops it from loading. <c>Model.Load</c> and <c>FromJson</c> compile what
/// Keras would compile, with Keras' defaults (a <c>compile_config</c> without <c>optimizer</c> is RMSprop, tf.keras 2's
/// <c>MeanMetricWrapper</c> is its function under its name); a piece that cannot be restored is left out (a metric)
/// or leaves the model uncompiled (optimizer, loss), with exactly one warning naming it. Real files are read from
/// ../shared/real-models; the rest are small configs written here.
/// </summary>
public class CompileConfigLoadTests
{
    private static string RealModels => Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "..", "..", "..", "shared", "real-models"));

    [SetUp]
    public void Reset() => Backend.ClearSession();

    [TestCase("set1/sebastianmoiras__Movie-Review-Sentiment-Analysis-With-Simple-LSTM__sentiment_model.h5")]
    [TestCase("set2/6llz__deep-learning-NSSA__cnn_bigru_model.h5")]
    [TestCase("set2/Arafat-Hossain-Anik__emoji-prediction-using-bilstm__bilstm_model.h5")]
    public void Load_TfKeras2MeanMetricWrapper_CompilesWithTheWrappedFunction(string file)
    {
        var (model, warnings) = LoadReal(file);
        using (model)
        {
            Assert.That(warnings, Is.Empty);
            Assert.That(model.Optimizer, Is.InstanceOf<Adam>());
            Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "accuracy" }));
            var metric = ((JsonObject)JsonNode.Parse(model.ToJson())!["compile_config"]!)["metrics"]![0]!;
            Assert.That(metric["class_name"]!.GetValue<string>(), Is.EqualTo("MeanMetricWrapper"));
            Assert.That(metric["config"]!["fn"]!.GetValue<string>(), Does.EndWith("_accuracy"));
        }
    }

    [TestCase("set2/fbarron01__spam-message-detection__spam_model.keras", 12, "loss,accuracy")]
    [TestCase("set2/delladeldel__Time-Series-Forecasting-Using-CNN-LSTM__cnn_lstm_model.keras", 22, "loss")]
    public void Load_Keras3CompileConfigWithoutOptimizer_CompilesWithRmsprop_AndSkipsTheAdamState(string file, int stored, string logs)
    {
        var (model, warnings) = LoadReal(file);
        using (model)
        {
            Assert.That(model.Optimizer, Is.InstanceOf<RMSprop>());
            Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.001).Within(1e-9));
            Assert.That(model.MetricsNames, Is.EqualTo(logs.Split(',')));
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.Contain($"{stored} optimizer variables").And.Contain("RMSprop").And.Contain("not loaded"));
        }
    }

    [Test]
    public void FromJson_CompileConfigWithoutOptimizer_CompilesWithRmsprop()
    {
        var json = CompiledJson(c => c.Remove("optimizer"));
        var warnings = Recording(() => Model.FromJson(json), out var model);
        using (model)
        {
            Assert.That(warnings, Is.Empty);
            Assert.That(model.Optimizer, Is.InstanceOf<RMSprop>());
        }
    }

    [Test]
    public void FromJson_MeanMetricWrapper_IsItsFunctionLoggedUnderItsName()
    {
        var json = CompiledJson(c => c["metrics"] = new JsonArray(new JsonArray(JsonNode.Parse(
            """{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32", "fn": "binary_accuracy"}}"""))));
        var warnings = Recording(() => Model.FromJson(json), out var model);
        using (model)
        {
            Assert.That(warnings, Is.Empty);
            Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "accuracy" }));
        }
    }

    [Test]
    public void Load_Keras2UnknownCustomMetrics_CompilesWithoutThem_WithOneWarning()
    {
        var (model, warnings) = LoadReal("set2/galalen__arabic-sentiment-analysis__lstm_model.h5");
        using (model)
        {
            Assert.That(model.Optimizer, Is.InstanceOf<RMSprop>());
            Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "accuracy" }));
            var metricWarnings = warnings.Where(w => w.Contains("compiled without", StringComparison.Ordinal)).ToList();
            Assert.That(metricWarnings, Has.Count.EqualTo(1));
            Assert.That(metricWarnings[0], Does.Contain("'f1'").And.Contain("\"precision\"").And.Contain("\"recall\""));
            // The other warning is Keras 2.2's optimizer state, whose variables name no weight (Keras warns as well).
            Assert.That(warnings.Except(metricWarnings), Has.All.Contains("optimizer state is not loaded"));
        }
    }

    [Test]
    public void FromJson_UnknownCustomMetric_CompilesWithoutIt_WithOneWarning()
    {
        var json = CompiledJson(c => c["metrics"] = new JsonArray("mae", "f1"));
        var warnings = Recording(() => Model.FromJson(json), out var model);
        using (model)
        {
            Assert.That(model.IsCompiled, Is.True);
            Assert.That(model.MetricsNames, Is.EqualTo(new[] { "loss", "mae" }));
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.StartWith("FromJson: ").And.Contain("'f1'"));
        }
    }

    [Test]
    public void FromJson_TensorflowAddonsLoss_LoadsUncompiled_WithOneWarning()
    {
        // The compile config of set2/AllaudinAli__ECG-Signal-Classification__transformer_model.keras (tf.keras 2.15).
        var json = CompiledJson(c =>
        {
            c["optimizer"] = "adam";
            c["loss"] = JsonNode.Parse("""{"module": "tensorflow_addons.losses.focal_loss", "class_name": "SigmoidFocalCrossEntropy", "config": {"reduction": "none", "name": "sigmoid_focal_crossentropy", "from_logits": false, "alpha": 0.33, "gamma": 2.5}, "registered_name": "Addons>SigmoidFocalCrossEntropy"}""");
            c["metrics"] = JsonNode.Parse("""["accuracy", {"module": "keras.metrics", "class_name": "Recall", "config": {"name": "recall_27", "dtype": "float32", "thresholds": null, "top_k": null, "class_id": null}, "registered_name": null}]""");
        });
        var warnings = Recording(() => Model.FromJson(json), out var model);
        using (model)
        {
            Assert.That(model.IsCompiled, Is.False);
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.Contain("uncompiled").And.Contain("SigmoidFocalCrossEntropy"));
        }
    }

    [Test]
    public void FromJson_UnknownOptimizer_LoadsUncompiled_WithOneWarning()
    {
        var json = CompiledJson(c => c["optimizer"] = JsonNode.Parse("""{"module": "keras.optimizers", "class_name": "Lamb", "config": {"name": "lamb"}}"""));
        var warnings = Recording(() => Model.FromJson(json), out var model);
        using (model)
        {
            Assert.That(model.IsCompiled, Is.False);
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings[0], Does.Contain("uncompiled").And.Contain("'Lamb'"));
        }
    }

    [Test]
    public void Load_UnknownLoss_LoadsUncompiled_WithOneWarning()
    {
        using var original = TinyModels.Linear(TinyModels.Identity(3));
        original.Compile("adam", "mse");
        var path = Path.Combine(Path.GetTempPath(), $"compile-load-{Guid.NewGuid():N}.keras");
        try
        {
            original.Save(path);
            RewriteConfig(path, c => c["loss"] = "my_custom_loss");
            var warnings = Recording(() => Model.Load(path), out var model);
            using (model)
            {
                Assert.That(model.IsCompiled, Is.False);
                Assert.That(warnings, Has.Count.EqualTo(1));
                Assert.That(warnings[0], Does.Contain(path).And.Contain("uncompiled").And.Contain("my_custom_loss"));
                var x = new float[,] { { 1, 2, 3 } };
                Assert.That((float[,])model.Predict(x), Is.EqualTo((float[,])original.Predict(x)));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void CompileConfig_ReadExplicitly_RefusesAnUnknownMetricName()
    {
        var config = new JsonObject { ["optimizer"] = "sgd", ["loss"] = "mse", ["metrics"] = new JsonArray("f1") };
        Assert.Throws<ArgumentException>(() => CompileConfig.Deserialize(config));
    }

    private static string CompiledJson(Action<JsonObject> edit)
    {
        using var model = TinyModels.Linear(TinyModels.Identity(3));
        model.Compile("adam", "mse");
        var root = (JsonObject)JsonNode.Parse(model.ToJson())!;
        edit((JsonObject)root["compile_config"]!);
        return root.ToJsonString();
    }

    private static void RewriteConfig(string path, Action<JsonObject> edit)
    {
        using var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update);
        var entry = zip.GetEntry("config.json")!;
        JsonObject root;
        using (var reader = new StreamReader(entry.Open()))
        {
            root = (JsonObject)JsonNode.Parse(reader.ReadToEnd())!;
        }

        edit((JsonObject)root["compile_config"]!);
        entry.Delete();
        using var writer = new StreamWriter(zip.CreateEntry("config.json").Open());
        writer.Write(root.ToJsonString());
    }

    private static List<string> Recording(Func<Model> load, out Model model)
    {
        var warnings = new List<string>();
        void Record(object? sender, string message) => warnings.Add(message);
        KerasStyle.Warnings.Raised += Record;
        try
        {
            model = load();
        }
        finally
        {
            KerasStyle.Warnings.Raised -= Record;
        }

        return warnings;
    }

    /// <summary>Loads a real file (compiled, as <c>Model.Load</c> does by default) and checks it predicts its <c>.y.npy</c> within 1e-4.</summary>
    private static (Model Model, List<string> Warnings) LoadReal(string name)
    {
        var file = Path.Combine(RealModels, name);
        if (!Directory.Exists(RealModels))
        {
            Assert.Ignore($"no folder {RealModels}");
        }

        var warnings = Recording(() => Model.Load(file), out var model);
        warnings.RemoveAll(w => w.Contains("_initializer'", StringComparison.Ordinal));
        var expected = Flat(NpyFile.Read(file + ".y.npy"));
        var actual = Flat(model.Predict(new[] { NpyFile.Read(file + ".x.npy") })[0]);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.That(Math.Abs(expected[k] - actual[k]) / Math.Max(1, Math.Abs(expected[k])), Is.LessThanOrEqualTo(1e-4), $"{name} at {k}");
        }

        return (model, warnings);
    }

    private static double[] Flat(Array a) => a.Cast<object>().Select(Convert.ToDouble).ToArray();

}
