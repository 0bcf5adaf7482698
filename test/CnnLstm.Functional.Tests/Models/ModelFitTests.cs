using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Models;

public class ModelFitTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(7);
    }

    [Test]
    public void Fit_RegressionOnLearnableSeries_LossFalls()
    {
        var (x, y) = SineWindows(200);
        using var model = CnnLstmModels.Regression();
        model.Compile(optimizer: "adam", loss: "mse");
        var history = model.Fit(x, y, batchSize: 16, epochs: 15, verbose: 0);
        Assert.That(history["loss"], Has.Count.EqualTo(15));
        Assert.That(history["loss"][^1], Is.LessThan(history["loss"][0] / 4));
    }

    [Test]
    public void Fit_BinaryTask_ReachesHighAccuracy()
    {
        var (x, y) = SeparableSequences(400);
        var input = new Input(new[] { 4, 2 });
        var h = new LSTM(8).Call(input);
        var output = new Dense(1, activation: "sigmoid").Call(h);
        using var model = new Model(input, output);
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        model.Fit(x, y, batchSize: 20, epochs: 30, verbose: 0);
        var scores = model.Evaluate(x, y);
        Assert.That(scores["accuracy"], Is.GreaterThan(0.95));
        Assert.That(scores.Keys, Is.EqualTo(new[] { "loss", "accuracy" }));
    }

    [Test]
    public void Fit_History_HasKerasKeysLengthsAndParams()
    {
        var (x, y) = SeparableSequences(50);
        var input = new Input(new[] { 4, 2 });
        var output = new Dense(1, activation: "sigmoid").Call(new LSTM(3).Call(input));
        using var model = new Model(input, output);
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var history = model.Fit(x, y, batchSize: 8, epochs: 3, verbose: 0, validationSplit: 0.2);
        Assert.That(history.Values.Keys, Is.EquivalentTo(new[] { "loss", "accuracy", "val_loss", "val_accuracy" }));
        Assert.That(history.Epoch, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(history["val_loss"], Has.Count.EqualTo(3));
        Assert.That(history.Params["samples"], Is.EqualTo(40L));
        Assert.That(history.Params["steps"], Is.EqualTo(5));
    }

    [Test]
    public void Adam_FirstThreeSteps_MatchKerasFormulaByHand()
    {
        // One weight w, loss = mean((w*x - y)^2) with x = 1, y = 0: gradient 2w.
        var input = new Input(new[] { 1 });
        var dense = new Dense(1, useBias: false);
        using var model = new Model(input, dense.Call(input));
        model.SetWeights(new[] { new WeightArray(new[] { 1, 1 }, new[] { 0.5f }) });
        model.Compile(new Adam(learningRate: 0.1), "mse");

        double w = 0.5, m = 0, v = 0;
        for (var t = 1; t <= 3; t++)
        {
            model.TrainOnBatch(new float[,] { { 1f } }, new float[,] { { 0f } });
            var g = 2 * w;
            m = (0.9 * m) + (0.1 * g);
            v = (0.999 * v) + (0.001 * g * g);
            // Keras computes lr_t from float32 variables (beta powers included).
            var lrT = 0.1f * MathF.Sqrt(1 - MathF.Pow(0.999f, t)) / (1 - MathF.Pow(0.9f, t));
            w -= lrT * m / (Math.Sqrt(v) + 1e-7);
            Assert.That(model.GetWeights()[0].Data[0], Is.EqualTo((float)w).Within(1e-6), $"step {t}");
        }

        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(3));
    }

    [Test]
    public void Fit_SameSeedTwice_GivesIdenticalWeights()
    {
        float[] Train()
        {
            Backend.ClearSession();
            Utils.SetRandomSeed(123);
            var (x, y) = SineWindows(64);
            using var model = CnnLstmModels.Regression();
            model.Compile("adam", "mse");
            model.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0);
            return model.GetWeights().SelectMany(w => w.Data).ToArray();
        }

        Assert.That(Train(), Is.EqualTo(Train()));
    }

    internal static (float[,,] X, float[] Y) SineWindows(int count)
    {
        var x = new float[count, 1, 3];
        var y = new float[count];
        for (var i = 0; i < count; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                x[i, 0, k] = (float)(0.5 + (0.4 * Math.Sin((i + k) * 0.3)));
            }

            y[i] = (float)(0.5 + (0.4 * Math.Sin((i + 3) * 0.3)));
        }

        return (x, y);
    }

    internal static (float[,,] X, float[] Y) SeparableSequences(int count)
    {
        var random = new Random(5);
        var x = new float[count, 4, 2];
        var y = new float[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % 2;
            y[i] = label;
            for (var t = 0; t < 4; t++)
            {
                x[i, t, 0] = (float)((label == 1 ? 1 : -1) + (random.NextDouble() * 0.6) - 0.3);
                x[i, t, 1] = (float)(random.NextDouble() - 0.5);
            }
        }

        return (x, y);
    }
}
