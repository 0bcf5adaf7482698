using KerasStyle.Engine;
using KerasStyle.Layers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The library's small-batch Conv1D inference kernel against libtorch's <c>conv1d</c>: every case in both vector
/// widths this CPU runs (AVX-512 and AVX2), within 1e-5 relative and absolute, and where the kernel refuses to run.
/// </summary>
[NonParallelizable]
public class SmallConv1DKernelTests
{
    private const double Tolerance = 1e-5;

    [TearDown]
    public void TearDown() => SmallConv1DKernel.Width = SmallConv1DKernel.NativeWidth;

    private static IEnumerable<int> Widths => new[] { 512, 256 }.Where(w => w <= SmallConv1DKernel.NativeWidth);

    [Test]
    public void MatchesLibtorch_ForBatchChannelsFiltersAndKernelSizes(
        [Values(1, 3)] int batch, [Values(1, 3, 128)] int channels, [Values(10, 64, 65)] int filters, [Values(1, 3, 5)] int kernel)
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        foreach (var bias in new[] { true, false })
        {
            AssertMatches(batch, 37, channels, filters, kernel, 1, 1, bias, relu: false, seed: batch + channels + filters + kernel);
        }
    }

    [TestCase(1, 2, 1, 5, 20)]
    [TestCase(3, 3, 1, 3, 31)]
    [TestCase(1, 1, 2, 3, 40)]
    [TestCase(2, 1, 3, 5, 50)]
    [TestCase(1, 2, 2, 3, 45)]
    [TestCase(1, 4, 1, 1, 17)]
    [TestCase(1, 1, 1, 5, 100)]
    [TestCase(2, 1, 1, 3, 250)]
    [TestCase(1, 1, 1, 5, 5)]
    public void MatchesLibtorch_ForStridesDilationsAndLengths(int batch, int stride, int dilation, int kernel, int length)
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        foreach (var bias in new[] { true, false })
        {
            AssertMatches(batch, length, 7, 65, kernel, stride, dilation, bias, relu: false, seed: (stride * 10) + dilation);
            AssertMatches(batch, length, 128, 64, kernel, stride, dilation, bias, relu: true, seed: length);
        }
    }

    [Test]
    public void Relu_IsFusedAndKeepsNaN()
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Uniform(new long[] { 1, 30, 4 }, 1);
        x[0, 10, 2] = tensor(float.NaN);
        var w = Uniform(new long[] { 20, 4, 3 }, 2);
        var b = Uniform(new long[] { 20 }, 3);
        foreach (var width in Widths)
        {
            SmallConv1DKernel.Width = width;
            var actual = SmallConv1DKernel.Run(x, w, b, 1, 1, relu: true);
            var expected = nn.functional.relu(Libtorch(x, w, b, 1, 1));
            Assert.That(actual.isnan().sum().item<long>(), Is.EqualTo(3 * 20), $"width {width}: the three windows over the NaN stay NaN for every filter");
            Assert.That(actual.isnan().eq(expected.isnan()).all().item<bool>(), Is.True);
            Assert.That(MaxRelativeDifference(actual.nan_to_num(), expected.nan_to_num()), Is.LessThanOrEqualTo(Tolerance));
        }
    }

    [Test]
    public void TwoThreads_GiveTheSameNumbersAsOne()
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        Assume.That(Environment.ProcessorCount, Is.GreaterThan(1), "splitting needs two cores");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Uniform(new long[] { 2, 100, 128 }, 4);
        var w = Uniform(new long[] { 65, 128, 5 }, 5, 1 / Math.Sqrt(640));
        var b = Uniform(new long[] { 65 }, 6);
        var one = SmallConv1DKernel.Run(x, w, b, 1, 1, relu: true);
        Tensor two;
        using (TestSetup.Threads(2))
        {
            two = SmallConv1DKernel.Run(x, w, b, 1, 1, relu: true);
        }

        Assert.That(two.eq(one).all().item<bool>(), Is.True, "each output is the same sum whichever thread computes it");
    }

    [Test]
    public void NonContiguousInput_IsRead()
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Uniform(new long[] { 1, 9, 40 }, 7).transpose(1, 2);
        var w = Uniform(new long[] { 12, 9, 3 }, 8);
        Assert.That(x.is_contiguous(), Is.False);
        Assert.That(MaxRelativeDifference(SmallConv1DKernel.Run(x, w, null, 1, 1, relu: false), Libtorch(x, w, null, 1, 1)), Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void Applies_OnlyToSmallFloatInferenceWithoutGroups()
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        using var scope = NewDisposeScope();
        var w = zeros(8, 4, 3);
        var b = zeros(8);
        using (no_grad())
        {
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 10, 4), w, b, 1, 1), Is.True);
            Assert.That(SmallConv1DKernel.Applies(zeros(SmallConv1DKernel.MaxBatch, 10, 4), w, null, 2, 3), Is.True);
            Assert.That(SmallConv1DKernel.Applies(zeros(SmallConv1DKernel.MaxBatch + 1, 10, 4), w, b, 1, 1), Is.False, "larger batches go to libtorch");
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 10, 8), w, b, 1, 1), Is.False, "grouped: the weight has channels / groups");
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 10, 4, dtype: ScalarType.Float64), w.to_type(ScalarType.Float64), null, 1, 1), Is.False);
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 2, 4), w, b, 1, 2), Is.False, "shorter than the dilated window");
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 10, 4), w, zeros(7), 1, 1), Is.False);
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 10, 4), w, b, 1 << 20, 1), Is.False, "a stride of 2^20 would copy 4 × 2^20 rows");
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 1 << 17, 32), zeros(8, 32, 3), b, 1, 1), Is.False, "2^22 copied floats at most");
            SmallConv1DKernel.Width = 0;
            Assert.That(SmallConv1DKernel.Applies(zeros(1, 10, 4), w, b, 1, 1), Is.False, "switched off");
        }

        SmallConv1DKernel.Width = SmallConv1DKernel.NativeWidth;
        Assert.That(SmallConv1DKernel.Applies(zeros(1, 10, 4), w, b, 1, 1), Is.False, "autograd on: no gradient would be recorded");
    }

    [Test]
    public void RepeatedRuns_LeaveNoLiveTensors()
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        using var noGrad = no_grad();
        using var x = Uniform(new long[] { 1, 50, 16 }, 9);
        using var w = Uniform(new long[] { 20, 16, 5 }, 10);
        using var b = Uniform(new long[] { 20 }, 11);
        void Runs()
        {
            for (var i = 0; i < 50; i++)
            {
                using var scope = NewDisposeScope();
                SmallConv1DKernel.Run(x, w, b, 1, 1, relu: true);
            }
        }

        Runs();
        var total = Tensor.TotalCount;
        Runs();
        Assert.That(Tensor.TotalCount, Is.LessThanOrEqualTo(total));
    }

    [TestCase("valid", 1, 1, "relu")]
    [TestCase("same", 1, 1, "relu")]
    [TestCase("causal", 1, 2, "tanh")]
    [TestCase("valid", 2, 1, null)]
    [TestCase("same", 3, 1, "relu")]
    public void Conv1DPredict_OnFewSamples_MatchesTheLibtorchPathAndSeesNewWeights(string padding, int strides, int dilation, string? activation)
    {
        Assume.That(SmallConv1DKernel.NativeWidth, Is.GreaterThan(0), "needs AVX2 or AVX-512");
        var conv = new Conv1D(filters: 33, kernelSize: 3, strides: strides, padding: padding, dilationRate: dilation, activation: activation);
        var model = TestData.Wrap(conv, new[] { 40, 6 });
        TestData.Randomize(conv.Weights[1], seed: 2);
        foreach (var samples in new[] { 1, 3 })
        {
            var x = TestData.Sequence(samples, 40, 6, seed: 6 + samples);
            for (var round = 0; round < 2; round++)
            {
                var small = ((float[,,])model.Predict(x)).Cast<float>().ToArray();
                SmallConv1DKernel.Width = 0;
                var libtorch = ((float[,,])model.Predict(x)).Cast<float>().ToArray();
                SmallConv1DKernel.Width = SmallConv1DKernel.NativeWidth;
                Assert.That(small, Is.EqualTo(libtorch).Within(Tolerance), $"{samples} sample(s), round {round}");
                // New weights in place: the kernel reads the layer's tensors on every call, nothing is cached.
                TestData.Randomize(conv.Weights[0], seed: 30 + round);
                TestData.Randomize(conv.Weights[1], seed: 40 + round);
            }
        }
    }

    private static void AssertMatches(int batch, int length, int channels, int filters, int kernel, int stride, int dilation, bool bias, bool relu, int seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Uniform(new long[] { batch, length, channels }, seed);
        var w = Uniform(new long[] { filters, channels, kernel }, seed + 1, 1 / Math.Sqrt(channels * kernel));
        var b = bias ? Uniform(new long[] { filters }, seed + 2) : null;
        var expected = Libtorch(x, w, b, stride, dilation);
        if (relu)
        {
            expected = nn.functional.relu(expected);
        }

        foreach (var width in Widths)
        {
            SmallConv1DKernel.Width = width;
            Assert.That(SmallConv1DKernel.Applies(x, w, b, stride, dilation), Is.True);
            var actual = SmallConv1DKernel.Run(x, w, b, stride, dilation, relu);
            Assert.That(actual.shape, Is.EqualTo(expected.shape));
            Assert.That(MaxRelativeDifference(actual, expected), Is.LessThanOrEqualTo(Tolerance),
                $"width {width}, batch {batch}, length {length}, channels {channels}, filters {filters}, kernel {kernel}, stride {stride}, dilation {dilation}, bias {bias}, relu {relu}");
        }
    }

    /// <summary>libtorch's conv1d on the channels-first view, back to (batch, out, filters).</summary>
    private static Tensor Libtorch(Tensor x, Tensor w, Tensor? b, int stride, int dilation) =>
        nn.functional.conv1d(x.transpose(1, 2), w, b, stride: stride, dilation: dilation).transpose(1, 2);

    /// <summary>Largest |a − e| / (1 + |e|): an absolute difference near zero, a relative one for large values.</summary>
    private static double MaxRelativeDifference(Tensor actual, Tensor expected) =>
        ((actual - expected).abs() / (expected.abs() + 1)).max().item<float>();

    private static Tensor Uniform(long[] shape, int seed, double scale = 1)
    {
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        return (rand(shape, generator: generator) * 2 - 1) * scale;
    }
}
