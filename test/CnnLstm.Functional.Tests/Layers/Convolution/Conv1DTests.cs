using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers.Convolution;

public class Conv1DTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    // Input (None, 10, 4). Keras: valid -> floor((L - (k-1)*d - 1) / s) + 1; same and causal -> ceil(L / s).
    [TestCase(3, 1, 1, "valid", 8)]
    [TestCase(3, 1, 1, "same", 10)]
    [TestCase(3, 1, 1, "causal", 10)]
    [TestCase(3, 2, 1, "valid", 4)]
    [TestCase(3, 2, 1, "same", 5)]
    [TestCase(3, 2, 1, "causal", 5)]
    [TestCase(3, 1, 2, "valid", 6)]
    [TestCase(3, 1, 2, "same", 10)]
    [TestCase(3, 1, 2, "causal", 10)]
    [TestCase(4, 3, 2, "valid", 2)]
    [TestCase(1, 3, 1, "same", 4)]
    [TestCase(2, 4, 1, "valid", 3)]
    [TestCase(10, 1, 1, "valid", 1)]
    public void Call_OnLength10_GivesKerasOutputLength(int kernelSize, int strides, int dilation, string padding, int expectedSteps)
    {
        var input = new Input(new[] { 10, 4 });
        var output = new Conv1D(6, kernelSize, strides: strides, padding: padding, dilationRate: dilation).Call(input);
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, expectedSteps, 6)));
    }

    [TestCase(64, 5, 128, true, 41_024)]
    [TestCase(10, 1, 3, true, 40)]
    [TestCase(2, 3, 4, true, 26)]
    [TestCase(2, 3, 4, false, 24)]
    public void CountParams_IsKernelSizeTimesInTimesFiltersPlusBias(int filters, int kernelSize, int channels, bool useBias, long expected)
    {
        var conv = new Conv1D(filters, kernelSize, useBias: useBias);
        conv.Call(new Input(new[] { 20, channels }));
        Assert.That(conv.CountParams(), Is.EqualTo(expected));
    }

    [Test]
    public void CountParams_BeforeTheFirstCall_IsZeroAndLayerIsNotBuilt()
    {
        var conv = new Conv1D(4, 3);
        Assert.That(conv.Built, Is.False);
        Assert.That(conv.CountParams(), Is.EqualTo(0));
    }

    [Test]
    public void Weights_AreKernelAndBiasInKerasLayout()
    {
        var conv = new Conv1D(64, 5);
        conv.Call(new Input(new[] { 100, 128 }));

        Assert.That(conv.Weights.Select(w => w.Name), Is.EqualTo(new[] { "kernel", "bias" }));
        Assert.That(conv.Weights[0].Shape, Is.EqualTo(new[] { 5, 128, 64 }));
        Assert.That(conv.Weights[1].Shape, Is.EqualTo(new[] { 64 }));
        Assert.That(conv.Weights[0].FullName, Is.EqualTo("conv1d_1/kernel:0"));
    }

    [Test]
    public void Build_KernelIsGlorotUniformWithConvFans_BiasIsZero()
    {
        var conv = new Conv1D(64, 5);
        conv.Call(new Input(new[] { 100, 128 }));
        // fan_in = 5 * 128, fan_out = 5 * 64.
        var limit = Math.Sqrt(6.0 / ((5 * 128) + (5 * 64)));
        var kernel = TestData.Flat(conv.Weights[0]);

        Assert.That(kernel.Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(limit));
        // 40,960 uniform draws: the extremes come within 1% of the limit, so a narrower initialiser would fail.
        Assert.That(kernel.Max(), Is.GreaterThan(0.99 * limit));
        Assert.That(kernel.Min(), Is.LessThan(-0.99 * limit));
        Assert.That(TestData.Flat(conv.Weights[1]), Has.All.EqualTo(0f));
    }

    [Test]
    public void Call_WithKernelLongerThanInput_ThrowsNamingLayer()
    {
        var conv = new Conv1D(2, 5);
        var input = new Input(new[] { 3, 8 });

        var error = Assert.Throws<LayerInputException>(() => conv.Call(input))!;
        Assert.That(error.Message, Does.Contain("conv1d_1"));
        Assert.That(error.Message, Does.Contain("(None, 3, 8)"));
        Assert.That(error.LayerName, Is.EqualTo("conv1d_1"));
        Assert.That(conv.Built, Is.False);
        Assert.That(conv.InboundNodes, Is.Empty);
    }

    [Test]
    public void Call_WithDilatedKernelLongerThanInput_ThrowsNamingLayer()
    {
        // Kernel 3 with dilation 2 spans 5 steps; the input has 4.
        var conv = new Conv1D(2, 3, dilationRate: 2, name: "dilated");
        var error = Assert.Throws<LayerInputException>(() => conv.Call(new Input(new[] { 4, 8 })))!;
        Assert.That(error.Message, Does.Contain("dilated"));
        Assert.That(error.Message, Does.Contain("(None, 4, 8)"));
    }

    [TestCase("same")]
    [TestCase("causal")]
    public void Call_WithKernelLongerThanInputButPadded_KeepsTheLength(string padding)
    {
        var output = new Conv1D(2, 5, padding: padding).Call(new Input(new[] { 3, 8 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 3, 2)));
    }

    [Test]
    public void Constructor_WithUnknownPadding_ThrowsArgumentExceptionNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => new Conv1D(2, 3, padding: "full"))!;
        Assert.That(error.Message, Does.Contain("'full'"));
        Assert.That(error.ParamName, Is.EqualTo("padding"));
    }

    [Test]
    public void Constructor_WithUpperCasePadding_AcceptsItAsKeras()
    {
        // Keras' conv_utils.normalize_padding lower-cases the value.
        var conv = new Conv1D(2, 3, padding: "Same");
        Assert.That(conv.Padding, Is.EqualTo("same"));
        Assert.That(conv.Call(new Input(new[] { 7, 1 })).Shape, Is.EqualTo(new Shape(null, 7, 2)));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void Constructor_WithNonPositiveFilters_ThrowsArgumentOutOfRange(int filters) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1D(filters, 3));

    [TestCase(0)]
    [TestCase(-2)]
    public void Constructor_WithNonPositiveKernelSize_ThrowsArgumentOutOfRange(int kernelSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1D(4, kernelSize));

    [TestCase(0)]
    [TestCase(-1)]
    public void Constructor_WithNonPositiveStridesOrDilation_ThrowsArgumentOutOfRange(int value)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1D(4, 3, strides: value));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1D(4, 3, dilationRate: value));
    }

    [Test]
    public void Call_OnRank2Input_ThrowsLayerInputExceptionWithShape()
    {
        var conv = new Conv1D(4, 3);
        var error = Assert.Throws<LayerInputException>(() => conv.Call(new Input(new[] { 8 })))!;
        Assert.That(error.Message, Does.Contain("conv1d_1"));
        Assert.That(error.Message, Does.Contain("(None, 8)"));
        Assert.That(error.Message, Does.Contain("rank 3"));
    }

    [Test]
    public void Call_SecondTimeWithOtherChannelCount_ThrowsNamingBothShapes()
    {
        var conv = new Conv1D(4, 3);
        conv.Call(new Input(new[] { 10, 2 }));
        var error = Assert.Throws<LayerInputException>(() => conv.Call(new Input(new[] { 10, 5 })))!;
        Assert.That(error.Message, Does.Contain("(None, 10, 5)"));
        Assert.That(error.Message, Does.Contain("2 channels"));
    }

    // (steps, channels, filters, kernel, strides, dilation, padding, TensorFlow's left padding, output steps)
    [TestCase(7, 3, 2, 3, 1, 1, "valid", 0, 5)]
    [TestCase(7, 3, 2, 3, 2, 1, "same", 1, 4)]
    [TestCase(6, 3, 2, 4, 1, 1, "same", 1, 6)]
    [TestCase(6, 2, 3, 3, 2, 1, "same", 0, 3)]
    [TestCase(7, 2, 2, 3, 1, 2, "same", 2, 7)]
    [TestCase(7, 2, 2, 3, 1, 2, "valid", 0, 3)]
    [TestCase(7, 2, 2, 3, 1, 2, "causal", 4, 7)]
    [TestCase(8, 2, 2, 3, 2, 2, "causal", 4, 4)]
    [TestCase(9, 2, 2, 2, 3, 1, "valid", 0, 3)]
    public void Predict_EqualsHandComputedConvolution(int steps, int channels, int filters, int kernelSize, int strides,
        int dilation, string padding, int padLeft, int outSteps)
    {
        var conv = new Conv1D(filters, kernelSize, strides: strides, padding: padding, dilationRate: dilation);
        var model = TestData.Wrap(conv, new[] { steps, channels });
        TestData.Randomize(conv.Weights[1], seed: filters);
        var x = TestData.Sequence(2, steps, channels, seed: (steps * 31) + kernelSize);

        var y = (float[,,])model.Predict(x);

        var expected = HandConv(x, TestData.Weight3(conv.Weights[0]), TestData.Flat(conv.Weights[1]), strides, dilation, padLeft, outSteps);
        Assert.That(TestData.Dims(y), Is.EqualTo(new[] { 2, outSteps, filters }));
        Assert.That(y, Is.EqualTo(expected).Within(1e-5f));
    }

    [Test]
    public void Predict_WithReluActivation_IsReluOfTheConvolution()
    {
        var conv = new Conv1D(3, 2, activation: "relu");
        var model = TestData.Wrap(conv, new[] { 5, 2 });
        TestData.Randomize(conv.Weights[1], seed: 3);
        var x = TestData.Sequence(2, 5, 2, seed: 7);

        var y = (float[,,])model.Predict(x);

        var linear = HandConv(x, TestData.Weight3(conv.Weights[0]), TestData.Flat(conv.Weights[1]), 1, 1, 0, 4);
        var expected = new float[2, 4, 3];
        for (var b = 0; b < 2; b++)
        {
            for (var t = 0; t < 4; t++)
            {
                for (var f = 0; f < 3; f++)
                {
                    expected[b, t, f] = Math.Max(0f, linear[b, t, f]);
                }
            }
        }

        Assert.That(linear.Cast<float>().Count(v => v < 0), Is.GreaterThan(0), "the example needs negative pre-activations");
        Assert.That(y, Is.EqualTo(expected).Within(1e-5f));
    }

    [Test]
    public void Predict_Causal_EqualsValidConvolutionOnLeftZeroPaddedInput()
    {
        const int steps = 6;
        const int channels = 2;
        var causal = new Conv1D(3, 3, padding: "causal", dilationRate: 2);
        var valid = new Conv1D(3, 3, padding: "valid", dilationRate: 2);
        var causalInput = new Input(new[] { steps, channels });
        var validInput = new Input(new[] { steps + 4, channels });
        var causalModel = new Model(causalInput, causal.Call(causalInput));
        var validModel = new Model(validInput, valid.Call(validInput));
        TestData.Randomize(causal.Weights[1], seed: 5);
        using (no_grad())
        {
            for (var i = 0; i < 2; i++)
            {
                valid.Weights[i].Variable.copy_(causal.Weights[i].Variable);
            }
        }

        var x = TestData.Sequence(2, steps, channels, seed: 11);
        var padded = new float[2, steps + 4, channels];
        for (var b = 0; b < 2; b++)
        {
            for (var t = 0; t < steps; t++)
            {
                for (var c = 0; c < channels; c++)
                {
                    // (kernel - 1) * dilation = 4 zeros on the left.
                    padded[b, t + 4, c] = x[b, t, c];
                }
            }
        }

        var fromCausal = (float[,,])causalModel.Predict(x);
        var fromValid = (float[,,])validModel.Predict(padded);

        Assert.That(TestData.Dims(fromCausal), Is.EqualTo(new[] { 2, steps, 3 }));
        Assert.That(fromCausal, Is.EqualTo(fromValid).Within(1e-6f));
        // Causality: changing the last step leaves every earlier output untouched.
        x[0, 5, 0] += 1f;
        var changed = (float[,,])causalModel.Predict(x);
        for (var t = 0; t < 5; t++)
        {
            Assert.That(changed[0, t, 0], Is.EqualTo(fromCausal[0, t, 0]));
        }

        Assert.That(changed[0, 5, 0], Is.Not.EqualTo(fromCausal[0, 5, 0]));
    }

    /// <summary>Keras' Conv1D: out[b, t, f] = bias[f] + sum_j sum_c x[b, t*s + j*d - padLeft, c] * kernel[j, c, f], zeros outside.</summary>
    private static float[,,] HandConv(float[,,] x, float[,,] kernel, float[] bias, int strides, int dilation, int padLeft, int outSteps)
    {
        int batch = x.GetLength(0), steps = x.GetLength(1), channels = x.GetLength(2);
        int taps = kernel.GetLength(0), filters = kernel.GetLength(2);
        var y = new float[batch, outSteps, filters];
        for (var b = 0; b < batch; b++)
        {
            for (var t = 0; t < outSteps; t++)
            {
                for (var f = 0; f < filters; f++)
                {
                    double sum = bias[f];
                    for (var j = 0; j < taps; j++)
                    {
                        var position = (t * strides) + (j * dilation) - padLeft;
                        if (position < 0 || position >= steps)
                        {
                            continue;
                        }

                        for (var c = 0; c < channels; c++)
                        {
                            sum += x[b, position, c] * kernel[j, c, f];
                        }
                    }

                    y[b, t, f] = (float)sum;
                }
            }
        }

        return y;
    }
}
