using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers.Normalization;

/// <summary>BatchNormalization's training behaviour against real Keras 3.16 (tools/keras-fixtures/layers.py, "trained").</summary>
public class BatchNormalizationTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "family");

    [Test]
    public void Fit_ThreeAdamSteps_MovingStatisticsAndWeightsMatchKerasWithin1e4()
    {
        // Keras moves the statistics toward each batch's (momentum 0.99) and trains gamma and beta; inference after
        // training then uses the moving statistics.
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!["trained"]!;
        using var model = Model.Load(Path.Combine(Folder, "bn_train.keras"));
        model.Fit(FixtureJson.ToFloat3(fixture["x"]!.AsArray()), FixtureJson.ToFloat2(fixture["y"]!.AsArray()), batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        var expected = fixture["weights_after"]!.AsObject();
        var mine = model.Layers.SelectMany(l => l.Weights).ToDictionary(w => $"{w.Layer.Name}/{w.Name}");
        Assert.That(mine.Keys, Is.EquivalentTo(expected.Select(kv => kv.Key)));
        foreach (var (path, value) in expected)
        {
            Assert.That(mine[path].Get().Data, Is.EqualTo(FixtureJson.Flatten(value!).ToArray()).Within(1e-4), path);
        }

        FixtureJson.AssertClose(model.Predict<float[,]>(FixtureJson.ToFloat3(fixture["x"]!.AsArray())), fixture["predictions_after"]!.AsArray(), "inference after training");
    }

    [Test]
    public void Summary_CountsTheMovingStatisticsAsNonTrainable_AndTheOptimizerLeavesThemAlone()
    {
        var x = new Input(shape: (4, 3), name: "x");
        using var model = new Model(x, new BatchNormalization(name: "bn").Call(x));
        Assert.That(model.SummaryText(), Does.Contain("Total params: 12").And.Contain("Trainable params: 6").And.Contain("Non-trainable params: 6"));
        Assert.That(model.TrainableWeights.Select(w => w.Name), Is.EqualTo(new[] { "gamma", "beta" }));
    }

    [Test]
    public void Predict_DoesNotMoveTheStatistics_Fit_Does()
    {
        var x = new Input(shape: 3, name: "x");
        using var model = new Model(x, new BatchNormalization(momentum: 0.5, name: "bn").Call(x));
        model.Compile("sgd", "mse");
        var data = new float[,] { { 1, 2, 3 }, { 3, 4, 5 } };
        model.Predict(data);
        Assert.That(model.GetLayer("bn").GetWeights()[2].Data, Is.EqualTo(new float[] { 0, 0, 0 }));
        model.Fit(data, new float[2, 3], batchSize: 2, epochs: 1, verbose: 0);
        // moving_mean = 0 × 0.5 + batch mean × 0.5.
        Assert.That(model.GetLayer("bn").GetWeights()[2].Data, Is.EqualTo(new float[] { 1, 1.5f, 2 }).Within(1e-6));
    }
}
