using System.Text.Json.Nodes;
using KerasStyle.Models;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Saving/LibraryFiles/ holds files this library wrote (tools/keras-interop) and report.json, what real Keras 3.16
/// made of them (tools/keras-fixtures/check_library_files.py). These tests keep that report true without Python:
/// Keras loaded every file and predicted within 1e-5, and the library still writes the same configs and weights.
/// </summary>
public class LibraryFilesInKerasTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "LibraryFiles");

    [Test]
    public void Report_Keras316LoadedEveryFileAndPredictedWithin1e5()
    {
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "report.json")))!;
        Assert.That(report["keras"]!.GetValue<string>(), Is.EqualTo("3.16.0"));
        var checks = report["checks"]!.AsArray();
        Assert.That(checks.Select(c => $"{c!["model"]} {c["file"]}"), Has.Exactly(6).Items, "both models: .keras, ToJson + .weights.h5, ToJson + Keras 2 .h5");
        foreach (var check in checks)
        {
            Assert.That(check!["loaded"]!.GetValue<bool>(), Is.True, check.ToJsonString());
            Assert.That(check["max_difference"]!.GetValue<double>(), Is.LessThanOrEqualTo(1e-5), check.ToJsonString());
        }
    }

    [TestCase("regression")]
    [TestCase("sentiment")]
    public void ToJson_IsStillWhatKerasLoaded(string name)
    {
        using var model = Build(name);
        var committed = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name + ".json")));
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(model.ToJson()), committed), Is.True,
            $"the library now writes a different config for {name}: rerun tools/keras-fixtures/check_library_files.py with real Keras and commit its output");
    }

    [TestCase("regression")]
    [TestCase("sentiment")]
    public void Weights_AreStillWhatKerasLoaded(string name)
    {
        using var model = Build(name);
        using var committed = Build(name);
        committed.LoadWeights(Path.Combine(Folder, name + ".weights.h5"));
        // Within float rounding: the orthogonal initializer's QR rounds differently with one thread or two.
        Assert.That(model.GetWeights().SelectMany(w => w.Data), Is.EqualTo(committed.GetWeights().SelectMany(w => w.Data)).Within(1e-6));
    }

    /// <summary>The model as tools/keras-interop builds it.</summary>
    private static Model Build(string name)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(20261130);
        return name == "regression" ? CnnLstmModels.Regression() : CnnLstmModels.Sentiment(maxFeatures: 2000);
    }
}
