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
    [TestCase("[2]")]
    [TestCase("[-1]")]
    [TestCase("2")]
    public void FromJson_AxisOfTheLastAxis_AsAListOrItsPositiveIndex_LoadsAndPredictsAsAxisMinusOne(string axis)
    {
        // tf.keras 2 writes "axis": [2] for the last axis of a (batch, steps, features) input; Keras resolves it at build.
        var x = new Input(shape: (4, 3), name: "x");
        using var model = new Model(x, new BatchNormalization(name: "bn").Call(x));
        model.GetLayer("bn").SetWeights(new[] { new WeightArray(new[] { 3 }, new float[] { 1, 2, 3 }), new WeightArray(new[] { 3 }, new float[] { 0.5f, 0, -1 }), new WeightArray(new[] { 3 }, new float[] { 0.1f, 0.2f, 0.3f }), new WeightArray(new[] { 3 }, new float[] { 1, 2, 4 }) });
        var json = model.ToJson();
        Assert.That(json, Does.Contain("\"axis\": -1").Or.Contain("\"axis\":-1"));
        using var loaded = Model.FromJson(json.Replace("\"axis\":-1", $"\"axis\":{axis}").Replace("\"axis\": -1", $"\"axis\": {axis}"));
        loaded.SetWeights(model.GetWeights());
        var data = new float[2, 4, 3];
        for (var i = 0; i < data.Length; i++)
        {
            data[i / 12, i / 3 % 4, i % 3] = (i * 0.37f) - 2;
        }

        Assert.That(Bits(loaded.Predict(data)), Is.EqualTo(Bits(model.Predict(data))));
        Assert.That(((BatchNormalization)loaded.GetLayer("bn")).Axis, Is.EqualTo(axis == "[-1]" ? -1 : 2));
    }

    [TestCase("[0]", "'axis' [0] is not supported")]
    [TestCase("0", "'axis' 0 is not supported")]
    [TestCase("[1, 2]", "'axis' [1,2] is not supported")]
    [TestCase("-3", "axis -3 is the batch axis")]
    [TestCase("3", "axis 3 is out of range")]
    [TestCase("\"2\"", "is not supported")]
    public void FromJson_TheBatchAxisSeveralAxesOrOutOfRange_IsRefusedNamingTheAxis(string axis, string message)
    {
        var x = new Input(shape: (4, 3), name: "x");
        using var model = new Model(x, new BatchNormalization(name: "bn").Call(x));
        var json = model.ToJson().Replace("\"axis\":-1", $"\"axis\":{axis}").Replace("\"axis\": -1", $"\"axis\": {axis}");
        var error = Assert.Catch(() => Model.FromJson(json).Dispose());
        Assert.That(error!.ToString(), Does.Contain(message).And.Contain("axis"));
    }

    [Test]
    public void Constructor_BatchAxis_IsRefusedAtOnce_OtherAxesNormaliseTheirOwnFeatures()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNormalization(axis: 0));
        var x = new Input(shape: (4, 3), name: "x");
        var layer = new BatchNormalization(axis: 1, name: "bn");
        layer.Call(x);
        // Statistics per step (the axis of size 4): Keras' weights take the size on the axis.
        Assert.That(layer.Weights.Select(w => w.Shape[0]), Is.EqualTo(new[] { 4, 4, 4, 4 }));
        Assert.That(layer.GetConfig()["axis"]!.GetValue<int>(), Is.EqualTo(1));
        var negative = new BatchNormalization(axis: -2, name: "bn2");
        negative.Call(x);
        Assert.That(negative.Weights[0].Shape[0], Is.EqualTo(4));
        Assert.That(negative.GetConfig()["axis"]!.GetValue<int>(), Is.EqualTo(-2));
        var other = new Input(shape: (5, 3), name: "other");
        var error = Assert.Catch(() => layer.Call(other));
        Assert.That(error!.Message, Does.Contain("bn").And.Contain("(None, 5, 3)"));
        layer.Dispose();
        negative.Dispose();
    }

    private static int[] Bits(Array values) => values.Cast<float>().Select(BitConverter.SingleToInt32Bits).ToArray();
}
