using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers.Attention;

/// <summary>
/// MultiHeadAttention and EinsumDense against real Keras 3.16 (tools/keras-fixtures/multi_head_attention.py): one
/// model per option, saved by Keras as .keras and .h5, with predictions, configs, weight paths, summaries and three
/// Adam training steps.
/// </summary>
public class MultiHeadAttentionFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "Attention", "KerasFixtures", "mha");

    private static readonly Lazy<JsonObject> FixtureJsonObject = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "mha.json")))!.AsObject());

    private static JsonObject Fixture => FixtureJsonObject.Value;

    private static readonly string[] Cases = { "self", "cross", "attention_mask", "causal", "output_shape", "axes2", "scores", "dropout", "masked", "einsum" };

    private static JsonNode Case(string @case) => Fixture["models"]![@case]!;

    private static Array[] Inputs(string @case) =>
        Case(@case)["inputs"]!.AsArray().Select((x, i) => Case(@case)["input_names"]![i]!.GetValue<string>() is "qi" or "vi"
            ? (Array)ToInt((float[,])FixtureJson.ToArray(x!.AsArray()))
            : FixtureJson.ToArray(x!.AsArray())).ToArray();

    private static int[,] ToInt(float[,] values)
    {
        var result = new int[values.GetLength(0), values.GetLength(1)];
        for (var i = 0; i < values.GetLength(0); i++)
        {
            for (var j = 0; j < values.GetLength(1); j++)
            {
                result[i, j] = (int)values[i, j];
            }
        }

        return result;
    }

    private static void AssertAsKeras(Model model, string @case)
    {
        Assert.That(model.CountParams(), Is.EqualTo(Case(@case)["params"]!.GetValue<long>()), "param count");
        var predictions = model.Predict(Inputs(@case));
        var expected = Case(@case)["predictions"]!.AsArray();
        Assert.That(predictions, Has.Count.EqualTo(expected.Count), "outputs");
        for (var i = 0; i < predictions.Count; i++)
        {
            Assert.That(AttentionFixtureTests.Flat(predictions[i]), Is.EqualTo(FixtureJson.Flatten(expected[i]!).ToArray()).Within(1e-5), $"{@case}: output {i}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Load_KerasFile_PredictsWithin1e5_WithKerasConfig(string @case)
    {
        foreach (var file in new[] { ".keras", ".h5" })
        {
            using var model = Model.Load(Path.Combine(Folder, @case + file));
            AssertAsKeras(model, @case);
            var layer = model.Layers.Single(l => l.Name == "mha");
            Assert.That(JsonNode.DeepEquals(layer.GetConfig(), Case(@case)["config"]), Is.True, $"{file}: {layer.GetConfig().ToJsonString()}\nKeras: {Case(@case)["config"]!.ToJsonString()}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void SavedHere_EveryForm_LoadsBackAndPredictsAsKeras(string @case)
    {
        using var model = Model.Load(Path.Combine(Folder, @case + ".keras"));
        if (@case != "dropout")
        {
            ModelFiles.CheckEveryForm(model, back => AssertAsKeras(back, @case));
            return;
        }

        // tf.keras 2's MultiHeadAttention has no seed: that form is refused naming the layer, the others keep it.
        var folder = Directory.CreateTempSubdirectory("ks-mha-").FullName;
        try
        {
            var refused = Assert.Throws<NotSupportedException>(() => model.Save(Path.Combine(folder, "t.h5"), H5Format.TfKeras2))!;
            Assert.That(refused.Message, Does.Contain("'mha'").And.Contain("seed=1"));
            foreach (var file in new[] { "m.keras", "m.h5" })
            {
                model.Save(Path.Combine(folder, file));
                using var back = Model.Load(Path.Combine(folder, file));
                AssertAsKeras(back, @case);
                Assert.That(((MultiHeadAttention)back.Layers.Single(l => l.Name == "mha")).Seed, Is.EqualTo(1));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void ToJson_RecordsNodesAndBuildConfigAsKeras(string @case)
    {
        using var model = Load(@case);
        var mine = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray().Single(l => (string)l!["name"]! == "mha")!;
        var theirs = Case(@case)["model_config"]!["config"]!["layers"]!.AsArray().Single(l => (string)l!["name"]! == "mha")!;
        Assert.That(mine["inbound_nodes"]!.ToJsonString(), Is.EqualTo(theirs["inbound_nodes"]!.ToJsonString()), "inbound nodes");
        Assert.That(mine["build_config"]!.ToJsonString(), Is.EqualTo(theirs["build_config"]!.ToJsonString()), "build_config");
    }

    [TestCaseSource(nameof(Cases))]
    public void SaveKeras_WritesKerasWeightPaths(string @case)
    {
        using var model = Load(@case);
        var folder = Directory.CreateTempSubdirectory("ks-mha-").FullName;
        try
        {
            var path = Path.Combine(folder, "w.weights.h5");
            model.SaveWeights(path);
            var expected = Case(@case)["h5_paths"]!.AsArray().Select(p => p!.GetValue<string>()).Where(p => p.Contains(" [", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
            Assert.That(H5Datasets(path), Is.EqualTo(expected));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestCaseSource(nameof(Cases))]
    [NonParallelizable]
    public void Summary_Keras3Style_IsKeras316sText(string @case)
    {
        using var model = Load(@case);
        var expected = string.Join('\n', Case(@case)["summary"]!.AsArray().Select(l => l!.GetValue<string>().TrimEnd()));
        if (@case == "scores")
        {
            // Keras 3.16's compute_output_spec gives the scores (None, heads, Tq, Tq); the tensor it returns (and this
            // library's) is (None, heads, Tq, Tv): 5 query and 4 value steps here.
            expected = expected.Replace("(None, 2, 5, 5)]", "(None, 2, 5, 4)]", StringComparison.Ordinal);
        }

        Backend.ConsoleStyle = ConsoleStyle.Keras3;
        try
        {
            var mine = string.Join('\n', model.SummaryText().Split('\n').Select(l => l.TrimEnd()));
            Assert.That(mine.Trim(), Is.EqualTo(expected.Trim()));
        }
        finally
        {
            Backend.ConsoleStyle = ConsoleStyle.Keras2;
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Export_Onnx_MatchesPredict(string @case)
    {
        using var model = Load(@case);
        KerasStyle.Tests.Saving.Onnx.OnnxCheck.AssertMatchesPredict(model, Inputs(@case));
    }

    [TestCase("self")]
    [TestCase("cross")]
    [TestCase("masked")]
    public void TrainOnBatch_ThreeAdamSteps_MatchKeras(string @case)
    {
        using var loaded = Load(@case);
        using var model = new Model(loaded.Inputs, new[] { loaded.Outputs[0] });
        model.Compile(new KerasStyle.Training.Optimizers.Adam(learningRate: 0.01), "mse");
        var train = Case(@case)["train"]!;
        var y = FixtureJson.ToArray(train["y"]!.AsArray());
        var losses = Enumerable.Range(0, 3).Select(_ => model.TrainOnBatch(Inputs(@case), y)["loss"]).ToArray();
        Assert.That(losses, Is.EqualTo(train["losses"]!.AsArray().Select(l => l!.GetValue<double>()).ToArray()).Within(1e-5));
        var after = train["weights_after"]!.AsArray();
        var weights = model.GetWeights();
        Assert.That(weights, Has.Count.EqualTo(after.Count));
        for (var i = 0; i < weights.Count; i++)
        {
            if (model.TrainableWeights[i].FullName == "mha/key/bias:0")
            {
                // The key's bias adds the same q·b to every score of a query step, which the softmax cancels: its
                // gradient is 0 up to rounding, which Adam scales to up to lr per step, so only that bound is Keras'.
                Assert.That(weights[i].Data.Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(after[i]!).ToArray()).Within(3 * 0.01 + 1e-5), "key bias");
                continue;
            }

            Assert.That(weights[i].Data.Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(after[i]!).ToArray()).Within(1e-5), $"weight {i}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void LibraryFiles_Keras316LoadsThemAndPredictsAsHere(string @case)
    {
        // tools/keras-fixtures/check_library_files.py mha: Keras 3.16 loaded each file the library wrote of this model.
        var libraryFiles = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "LibraryFiles", "mha");
        var checks = JsonNode.Parse(File.ReadAllText(Path.Combine(libraryFiles, "report.json")))!["checks"]!.AsArray().Where(c => (string)c!["model"]! == @case).ToList();
        Assert.That(checks, Has.Count.EqualTo(@case == "dropout" ? 3 : 4), ".keras, full-model .h5, ToJson (and the tf.keras 2 form)");
        foreach (var check in checks)
        {
            if (check!["keras_limitation"] is not null)
            {
                // Keras 3.16 reads no tf.keras 2 MultiHeadAttention node (the value is a tensor reference in kwargs).
                Assert.That((string)check["file"]!, Does.StartWith("tf.keras 2"), check.ToJsonString());
                continue;
            }

            Assert.That(check["loaded"]!.GetValue<bool>(), Is.True, check.ToJsonString());
            Assert.That(check["max_difference"]!.GetValue<double>(), Is.LessThanOrEqualTo(1e-5), check.ToJsonString());
        }

        using var model = Load(@case);
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(model.ToJson()), JsonNode.Parse(File.ReadAllText(Path.Combine(libraryFiles, $"{@case}.json")))), Is.True,
            "rerun tools/keras-fixtures/check_library_files.py mha with real Keras and commit its output");
    }

    private static Model Load(string @case) => Model.Load(Path.Combine(Folder, @case + ".keras"));

    private static string[] H5Datasets(string path)
    {
        using var file = HdfReader.Open(path);
        return HdfReader.ReadAll(file, string.Empty, path).Select(d => $"{d.Key} [{string.Join(", ", d.Value.Shape)}]").Order(StringComparer.Ordinal).ToArray();
    }
}
