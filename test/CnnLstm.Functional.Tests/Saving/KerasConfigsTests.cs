using KerasStyle.Models;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Every key a Keras 3 release writes for the layers, models, initializers and dtype policies this library supports is
/// accepted with its default value: the config.json that each minor release from 3.0 to 3.16 (its last patch release;
/// 3.1 and 3.2 need optree, which Debian lacks, so they were not run) saves for both seed models, compiled with Adam,
/// builds here (tools/keras-fixtures/configs_across_versions.sh). Keras 3.13+ added quantization_config, which was
/// refused before.
/// </summary>
public class KerasConfigsTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "KerasConfigs");

    public static IEnumerable<TestCaseData> Configs() =>
        Directory.GetFiles(Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "KerasConfigs"), "*.json")
            .Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileName(f)).SetName($"FromJson_{Path.GetFileNameWithoutExtension(f).Replace('.', '_').Replace('-', '_')}_BuildsAndCompiles"));

    [Test]
    public void Folder_HoldsBothModelsOfFifteenReleases()
    {
        var files = Directory.GetFiles(Folder, "*.json").Select(Path.GetFileName).ToArray();
        Assert.That(files, Has.Length.EqualTo(30));
        Assert.That(files, Does.Contain("keras-3.0.5-regression.json").And.Contain("keras-3.13.2-sentiment.json").And.Contain("keras-3.16.0-sentiment.json"));
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
}
