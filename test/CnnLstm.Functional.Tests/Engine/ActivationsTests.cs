using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using TorchSharp;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// Every activation name Keras 3.16's <c>keras.activations.get</c> accepts, on a grid of edge values, with the gradient
/// of a weighted sum (tools/keras-fixtures/activations.py; keras/src/activations/activations_test.py's cases are its
/// kinks and limits), and the names that cannot be used as they are.
/// </summary>
public class ActivationsTests
{
    private static readonly JsonObject Functions = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "activations", "activations.json")))!["functions"]!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static IEnumerable<string> KerasNames() => Functions["values"]!.AsObject().Select(kv => kv.Key);

    [Test]
    public void EveryKerasName_ButThreshold_IsKnown()
    {
        Assert.That(KerasNames().Where(n => !Activations.IsKnown(n)), Is.Empty);
        Assert.That(Activations.Names.Except(KerasNames()), Is.EquivalentTo(new[] { Activations.Keras2HardSigmoid }));
    }

    [Test]
    public void Gelu_InItsTails_IsExactToFloatRounding()
    {
        // Φ(x) = erfc(-x / √2) / 2 in doubles; libtorch's fused gelu computed 1 + erf(x / √2) and lost 1e-3 of the
        // value near x = -3.5 on AMD Zen 5 (AVX-512), beyond Keras' fixture tolerance.
        var xs = new[] { -5.5f, -4.75f, -4f, -3.4889705f, -3f, -2f, -0.5f, 0.25f, 3f, 6f };
        using var scope = torch.NewDisposeScope();
        var values = Activations.Apply("gelu", torch.tensor(xs)).data<float>().ToArray();
        for (var i = 0; i < xs.Length; i++)
        {
            var exact = xs[i] * 0.5 * Erfc(-xs[i] / Math.Sqrt(2));
            Assert.That(values[i], Is.EqualTo(exact).Within(2e-5 * Math.Abs(exact)), $"gelu({xs[i]})");
        }
    }

    /// <summary>erfc in doubles by its continued fraction (x above 2) or its Taylor series of erf, to 1e-14.</summary>
    private static double Erfc(double x)
    {
        if (x < 0)
        {
            return 2 - Erfc(-x);
        }

        if (x > 2)
        {
            var fraction = 0.0;
            for (var k = 60; k >= 1; k--)
            {
                fraction = k / 2.0 / (x + fraction);
            }

            return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / (x + fraction);
        }

        double sum = 0, term = x;
        for (var n = 0; n < 80; n++)
        {
            sum += term / ((2 * n) + 1);
            term *= -x * x / (n + 1);
        }

        return 1 - (2 / Math.Sqrt(Math.PI) * sum);
    }

    [TestCaseSource(nameof(KerasNames))]
    public void Activation_ValuesAndGradient_AsKeras316(string name)
    {
        var grid = FixtureJson.ToFloat2(Functions["x"]!.AsArray());
        var expected = FixtureJson.Flatten(Functions["values"]![name]!).ToArray();
        var weights = FixtureJson.Flatten(Functions["weights"]![name]!).Select(v => (float)v).ToArray();
        var expectedGradient = FixtureJson.Flatten(Functions["gradients"]![name]!).ToArray();
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(grid).requires_grad_(true);

        var y = Activations.Apply(name, x);
        y.mul(torch.tensor(weights).reshape(y.shape)).sum().backward();

        var values = y.detach().data<float>().ToArray();
        var gradient = x.grad!.data<float>().ToArray();
        Assert.That(values, Has.Length.EqualTo(expected.Length), name);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.That(values[i], Is.EqualTo(expected[i]).Within(1e-6 * Math.Max(1, Math.Abs(expected[i]))), $"{name} value {i}");
        }

        for (var i = 0; i < expectedGradient.Length; i++)
        {
            if (name is "hard_silu" or "hard_swish" && Math.Abs(grid[i / grid.GetLength(1), i % grid.GetLength(1)]) == 3)
            {
                // At its kinks ±3 hardswish's gradient is the libtorch version's choice (Debian's torch under Keras
                // gives x / 3 + 0.5 at -3, TorchSharp 0.107's libtorch 0); values agree there.
                continue;
            }

            Assert.That(gradient[i], Is.EqualTo(expectedGradient[i]).Within(1e-5 * Math.Max(1, Math.Abs(expectedGradient[i]))), $"{name} gradient {i} at x = {grid[i / grid.GetLength(1), i % grid.GetLength(1)]}");
        }
    }

    [Test]
    public void Threshold_ByName_IsRefusedSayingItNeedsArguments()
    {
        Assert.That(() => new Dense(2, "threshold"), Throws.ArgumentException.With.Message.Contains("Dense").And.Message.Contains("'threshold'").And.Message.Contains("default_value"));
        Assert.That(() => LayerRegistry.Create(new LayerConfig("Activation", "a", new JsonObject { ["name"] = "a", ["activation"] = "threshold" })),
            Throws.InstanceOf<FormatException>().With.Message.Contains("Activation 'a'").And.Message.Contains("default_value"));
    }

    [Test]
    public void Glu_HalvesTheLastAxis_InAnActivationLayer_AndIsRefusedInDenseAndConv()
    {
        var input = new Input(new[] { 3, 6 });
        var output = new Activation("glu").Call(input);

        Assert.That(output.Shape.Last, Is.EqualTo(3));
        Assert.That(() => new Activation("glu", name: "g").Call(new Input(new[] { 5 })), Throws.InstanceOf<LayerInputException>().With.Message.Contains("Activation 'g'").And.Message.Contains("even"));
        Assert.That(() => new Dense(4, "glu"), Throws.ArgumentException.With.Message.Contains("Dense").And.Message.Contains("halves the last axis"));
        Assert.That(() => new Conv1D(4, 3, activation: "glu"), Throws.ArgumentException.With.Message.Contains("Conv1D").And.Message.Contains("halves the last axis"));
    }

    [Test]
    public void Sparsemax_InDense_ComputesKeras316sForm_NotTheTextbookOne()
    {
        // Keras 3.16's sparsemax (every backend) takes tau = (sum of the cumulative sums over the support - 1) / k, not
        // (the k-th cumulative sum - 1) / k: real Keras gives [0.1, 5.96e-8, 0, 0] for [0.9, 0.8, 0.1, -1] (the
        // textbook sparsemax, [0.55, 0.45, 0, 0]). Models built in code compute as Keras 3.16.
        var input = new Input(new[] { 4 });
        var dense = new Dense(4, "sparsemax", useBias: false);
        using var model = new Model(input, dense.Call(input));
        dense.SetWeights(new[] { WeightArray.FromArray(new float[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } }) });

        var y = (float[,])model.Predict(new float[,] { { 0.9f, 0.8f, 0.1f, -1 } });

        Assert.That(y, Is.EqualTo(new float[,] { { 0.1f, 5.9605e-08f, 0, 0 } }).Within(1e-6f));
    }
}
