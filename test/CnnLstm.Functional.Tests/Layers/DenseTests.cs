using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Tests.Layers;

public class DenseTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void Call_OnRank2_ReplacesTheLastDimension()
    {
        var output = new Dense(5).Call(new Input(new[] { 3 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 5)));
    }

    [Test]
    public void Call_OnRank3_ActsOnTheLastAxis()
    {
        var output = new Dense(5).Call(new Input(new[] { 4, 3 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 4, 5)));
    }

    [TestCase(70, 1, true, 71)]
    [TestCase(3, 5, true, 20)]
    [TestCase(3, 5, false, 15)]
    public void CountParams_IsInTimesUnitsPlusBias(int inputDim, int units, bool useBias, long expected)
    {
        var dense = new Dense(units, useBias: useBias);
        dense.Call(new Input(new[] { inputDim }));
        Assert.That(dense.CountParams(), Is.EqualTo(expected));
    }

    [Test]
    public void Weights_AreKernelAndBias_KernelGlorotUniformBiasZero()
    {
        var dense = new Dense(100);
        dense.Call(new Input(new[] { 200 }));
        var limit = Math.Sqrt(6.0 / (200 + 100));
        var kernel = TestData.Flat(dense.Weights[0]);

        Assert.That(dense.Weights.Select(w => w.Name), Is.EqualTo(new[] { "kernel", "bias" }));
        Assert.That(dense.Weights[0].Shape, Is.EqualTo(new[] { 200, 100 }));
        Assert.That(dense.Weights[1].Shape, Is.EqualTo(new[] { 100 }));
        Assert.That(kernel.Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(limit));
        Assert.That(kernel.Max(), Is.GreaterThan(0.99 * limit));
        Assert.That(kernel.Min(), Is.LessThan(-0.99 * limit));
        Assert.That(TestData.Flat(dense.Weights[1]), Has.All.EqualTo(0f));
    }

    [TestCase(null)]
    [TestCase("tanh")]
    public void Predict_OnRank2_EqualsHandComputedXWPlusB(string? activation)
    {
        var dense = new Dense(4, activation: activation);
        var model = TestData.Wrap(dense, new[] { 3 });
        TestData.Randomize(dense.Weights[1], seed: 31);
        var x = TestData.Matrix(5, 3, seed: 5);

        var y = (float[,])model.Predict(x);

        var kernel = TestData.Weight2(dense.Weights[0]);
        var bias = TestData.Flat(dense.Weights[1]);
        var expected = new float[5, 4];
        for (var b = 0; b < 5; b++)
        {
            for (var u = 0; u < 4; u++)
            {
                double z = bias[u];
                for (var i = 0; i < 3; i++)
                {
                    z += x[b, i] * (double)kernel[i, u];
                }

                expected[b, u] = (float)(activation == "tanh" ? Math.Tanh(z) : z);
            }
        }

        Assert.That(y, Is.EqualTo(expected).Within(1e-5f));
    }

    [Test]
    public void Predict_OnRank3_AppliesTheKernelAtEveryStep()
    {
        var dense = new Dense(2);
        var model = TestData.Wrap(dense, new[] { 4, 3 });
        TestData.Randomize(dense.Weights[1], seed: 32);
        var x = TestData.Sequence(2, 4, 3, seed: 6);

        var y = (float[,,])model.Predict(x);

        var kernel = TestData.Weight2(dense.Weights[0]);
        var bias = TestData.Flat(dense.Weights[1]);
        Assert.That(TestData.Dims(y), Is.EqualTo(new[] { 2, 4, 2 }));
        for (var b = 0; b < 2; b++)
        {
            for (var t = 0; t < 4; t++)
            {
                for (var u = 0; u < 2; u++)
                {
                    double z = bias[u];
                    for (var i = 0; i < 3; i++)
                    {
                        z += x[b, t, i] * (double)kernel[i, u];
                    }

                    Assert.That(y[b, t, u], Is.EqualTo(z).Within(1e-5), $"y[{b}, {t}, {u}]");
                }
            }
        }
    }

    [Test]
    public void Predict_WithoutBias_IsXW()
    {
        var dense = new Dense(1, useBias: false);
        var x = new float[,] { { 1, 0 }, { 0, 1 }, { 2, -3 } };

        var y = (float[,])TestData.Run(dense, new[] { 2 }, x);

        var kernel = TestData.Weight2(dense.Weights[0]);
        Assert.That(dense.Weights, Has.Count.EqualTo(1));
        Assert.That(y, Is.EqualTo(new float[,] { { kernel[0, 0] }, { kernel[1, 0] }, { (2 * kernel[0, 0]) - (3 * kernel[1, 0]) } }).Within(1e-6f));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void Constructor_WithNonPositiveUnits_ThrowsArgumentOutOfRange(int units) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dense(units));

    [Test]
    public void Constructor_WithUnknownActivation_ThrowsArgumentExceptionNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => new Dense(3, activation: "leaky"))!;
        Assert.That(error.Message, Does.Contain("'leaky'"));
        Assert.That(error.ParamName, Is.EqualTo("activation"));
    }

    [Test]
    public void Call_OnIntegerInput_ThrowsLayerInputException()
    {
        var error = Assert.Throws<LayerInputException>(() => new Dense(3).Call(new Input(new[] { 4 }, DType.Int32)))!;
        Assert.That(error.Message, Does.Contain("dense_1"));
        Assert.That(error.Message, Does.Contain("int32"));
    }

    [Test]
    public void Call_SecondTimeWithOtherFeatureCount_ThrowsLayerInputException()
    {
        var dense = new Dense(3);
        dense.Call(new Input(new[] { 4 }));
        var error = Assert.Throws<LayerInputException>(() => dense.Call(new Input(new[] { 5 })))!;
        Assert.That(error.Message, Does.Contain("(None, 5)"));
        Assert.That(dense.InboundNodes, Has.Count.EqualTo(1));
    }
}
