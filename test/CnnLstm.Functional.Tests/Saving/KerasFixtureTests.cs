using System.Text.Json.Nodes;
using KerasStyle.Models;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Files written by real Keras 3.16 (torch backend; tools/keras-fixtures/generate.py, versions in index.json) load here
/// and predict what Keras predicted on the same inputs, within 1e-5.
/// </summary>
public class KerasFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "KerasFixtures");

    private static JsonObject Predictions => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "predictions.json")))!.AsObject();

    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void Index_RecordsKeras316AndTheSnapshot()
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "index.json")))!;
        Assert.That(index["keras"]!.GetValue<string>(), Is.EqualTo("3.16.0"));
        Assert.That(index["keras_snapshot"]!.GetValue<string>(), Does.Contain("3422977a5e38fb2f7709aaa9a08e47f0c43d0f60"));
        var files = index["files"]!.AsArray().Select(f => f!.GetValue<string>());
        Assert.That(Directory.GetFiles(Folder).Select(Path.GetFileName).Where(f => f != "index.json"), Is.EquivalentTo(files));
    }

    [TestCase("regression", ".keras")]
    [TestCase("sentiment", ".keras")]
    [TestCase("regression", ".h5")]
    [TestCase("sentiment", ".h5")]
    public void Load_KerasFile_PredictsAsKeras(string name, string extension)
    {
        using var model = Model.Load(Path.Combine(Folder, name + extension));
        AssertPredictsAsKeras(model, name);
    }

    [TestCase("regression")]
    [TestCase("sentiment")]
    public void FromJsonThenLoadWeights_KerasFiles_PredictsAsKeras(string name)
    {
        using var model = Model.FromJson(File.ReadAllText(Path.Combine(Folder, name + ".json")));
        model.LoadWeights(Path.Combine(Folder, name + ".weights.h5"));
        AssertPredictsAsKeras(model, name);
    }

    [Test]
    public void Load_TfKeras2FullModelWithVariableLengthStrings_PredictsAsKeras()
    {
        // model_config and layer_names as h5py writes str attributes; "no 'model_config' attribute" before the fix.
        using var model = Model.Load(Path.Combine(Folder, "tfkeras2-regression.h5"));
        AssertPredictsAsKeras(model, "regression");
    }

    [Test]
    public void LoadWeights_TfKeras2WeightsWithVariableLengthLayerNames_PredictsAsKeras()
    {
        // Read as "weights for 0 layers" before the fix.
        using var model = Model.FromJson(File.ReadAllText(Path.Combine(Folder, "regression.json")));
        model.LoadWeights(Path.Combine(Folder, "tfkeras2-regression.weights.h5"));
        AssertPredictsAsKeras(model, "regression");
    }

    [TestCase("trained.keras")]
    [TestCase("trained.h5")]
    [TestCase("tfkeras2-trained-2.10.h5")]
    [TestCase("tfkeras2-trained-2.11.h5")]
    public void Load_ModelTrainedInKeras_HasKerasStepCountAndTrainsOnAsKeras(string file)
    {
        // Keras 3.16 trained it one epoch with Adam and saved it with its optimizer state (legacy .h5:
        // training_config and optimizer_weights); a second epoch here must reach Keras' second epoch. The tfkeras2
        // files hold the same state in tf.keras 2.10's and 2.11's optimizer_weights layouts (issue 11: they were
        // skipped with a warning, so the second epoch started from a fresh Adam).
        var fixture = Predictions["trained"]!;
        var x = FixtureJson.ToFloat3(fixture["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(fixture["y"]!.AsArray());
        using var model = Model.Load(Path.Combine(Folder, file));
        Assert.That(model.Optimizer, Is.InstanceOf<KerasStyle.Training.Optimizers.Adam>());
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(fixture["iterations_after_one_epoch"]!.GetValue<long>()));
        FixtureJson.AssertClose((float[,])model.Predict(x), fixture["predictions_after_one_epoch"]!.AsArray(), "after Keras' epoch");
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        FixtureJson.AssertClose((float[,])model.Predict(x), fixture["predictions_after_two_epochs"]!.AsArray(), "after a second epoch here");
    }

    private static void AssertPredictsAsKeras(Model model, string name)
    {
        var fixture = Predictions[name]!;
        var x = fixture["x"]!.AsArray();
        var expected = fixture["y"]!.AsArray().Select(row => row!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray();
        Array input = name == "sentiment" ? FixtureJson.ToLong2(x) : FixtureJson.ToFloat3(x);
        var actual = (float[,])model.Predict(input);
        Assert.That(actual.GetLength(0), Is.EqualTo(expected.Length));
        for (var i = 0; i < expected.Length; i++)
        {
            for (var j = 0; j < expected[i].Length; j++)
            {
                Assert.That(actual[i, j], Is.EqualTo(expected[i][j]).Within(1e-5), $"{name}: sample {i}, output {j}");
            }
        }
    }
}
