using System.Text.Json.Nodes;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Files from every Keras 3 minor release (its last patch release, run with real Keras over Debian's torch;
/// tools/keras-fixtures/configs_across_versions.sh). Every key a release writes for the layers, models, initializers
/// and dtype policies this library supports is accepted with its default value: the config.json of both seed models,
/// compiled with Adam, builds here for 3.0 to 3.16 (3.1 and 3.2 import optree, which Debian lacks, and were not run).
/// The regression model saved by each release as .keras and legacy .h5 loads and predicts as that release predicted
/// (3.3's LSTM could not predict on Debian's torch 1.13, so it has configs only).
/// </summary>
public class KerasVersionsTests
{
    private static string Folder => Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "KerasVersions");

    public static IEnumerable<TestCaseData> Configs() =>
        Directory.GetFiles(Folder, "keras-*-regression.json").Concat(Directory.GetFiles(Folder, "keras-*-sentiment.json"))
            .Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName($"FromJson_{Name(f)}_BuildsAndCompiles"));

    public static IEnumerable<TestCaseData> ModelFiles() =>
        Directory.GetFiles(Folder, "keras-*-regression-model.keras").Concat(Directory.GetFiles(Folder, "keras-*-regression-model.h5"))
            .Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName($"Load_{Name(f)}_PredictsAsThatKeras"));

    [Test]
    public void Folder_HoldsFifteenReleases_AndFourteenWithWholeFiles()
    {
        Assert.That(Directory.GetFiles(Folder, "keras-*-sentiment.json"), Has.Length.EqualTo(15));
        Assert.That(Directory.GetFiles(Folder, "keras-*-regression-model.predictions.json"), Has.Length.EqualTo(14));
        Assert.That(File.Exists(Path.Combine(Folder, "keras-3.0.5-regression-model.h5")) && File.Exists(Path.Combine(Folder, "keras-3.13.2-regression-model.keras")), Is.True);
    }

    [TestCaseSource(nameof(Configs))]
    public void FromJson_KerasConfig_BuildsAndCompiles(string file)
    {
        Backend.ClearSession();
        using var model = Model.FromJson(File.ReadAllText(Path.Combine(Folder, file)));
        var regression = file.EndsWith("-regression.json", StringComparison.Ordinal);
        Assert.That(model.CountParams(), Is.EqualTo(regression ? 22_791 : 334_895));
        Assert.That(model, regression ? Is.Not.InstanceOf<Sequential>() : Is.InstanceOf<Sequential>());
        Assert.That(model.Optimizer, Is.InstanceOf<Adam>());
        Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.01).Within(1e-7));
    }

    /// <summary>Keras 3.4 to 3.6 write the orthogonal initializer as OrthogonalInitializer, which is what the library uses.</summary>
    [TestCaseSource(nameof(Configs))]
    public void FromJson_KerasConfig_WarnsOfNoInitializerTheLibraryHonours(string file)
    {
        Backend.ClearSession();
        var warnings = new List<string>();
        void Record(object? sender, string message) => warnings.Add(message);
        KerasStyle.Warnings.Raised += Record;
        try
        {
            using var model = Model.FromJson(File.ReadAllText(Path.Combine(Folder, file)));
        }
        finally
        {
            KerasStyle.Warnings.Raised -= Record;
        }

        Assert.That(warnings.Where(w => w.Contains("_initializer", StringComparison.Ordinal)), Is.Empty);
    }

    [TestCaseSource(nameof(ModelFiles))]
    public void Load_KerasModelFile_PredictsAsThatKeras(string file)
    {
        Backend.ClearSession();
        var stem = file[..file.LastIndexOf('.')];
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, stem + ".predictions.json")))!;
        using var model = Model.Load(Path.Combine(Folder, file));
        FixtureJson.AssertClose((float[,])model.Predict(FixtureJson.ToFloat3(fixture["x"]!.AsArray())), fixture["y"]!.AsArray(), file);
    }

    private static string Name(string path) => Path.GetFileName(path).Replace(".json", string.Empty).Replace('.', '_').Replace('-', '_');
}
