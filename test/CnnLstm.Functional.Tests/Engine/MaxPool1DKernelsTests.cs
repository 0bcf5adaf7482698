using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>The C# inference pooling (<see cref="MaxPool1DKernels.Direct"/>) against the unfold-and-max path.</summary>
public class MaxPool1DKernelsTests
{
    [TestCase(1, 8, 19, 4, 4)]
    [TestCase(3, 100, 64, 4, 4)]
    [TestCase(2, 11, 3, 3, 2)]
    [TestCase(5, 9, 16, 2, 3)]
    [TestCase(300, 96, 64, 4, 4)]
    [TestCase(2, 5, 8, 5, 1)]
    public void Direct_BothLayouts_MatchUnfoldAndMax(int batch, int length, int channels, int pool, int stride)
    {
        using var scope = NewDisposeScope();
        using var threads = TestSetup.Threads(2);
        var x = randn(batch, length, channels);
        using var expected = MaxPool1DKernels.Unfolded(x, pool, stride).contiguous();
        var channelsFirstView = x.transpose(1, 2).contiguous().transpose(1, 2);
        foreach (var input in new[] { x, channelsFirstView })
        {
            using var actual = MaxPool1DKernels.Direct(input, pool, stride);
            Assert.That(actual, Is.Not.Null);
            Assert.That(actual!.shape, Is.EqualTo(expected.shape));
            Assert.That(actual.is_contiguous(), Is.True);
            Assert.That(actual.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()), "a maximum is exact");
        }
    }

    [Test]
    public void Direct_OnABatchSliceView_ReadsTheSlicesOwnRows()
    {
        using var scope = NewDisposeScope();
        var x = randn(6, 10, 17);
        var slice = x.narrow(0, 2, 3);
        using var actual = MaxPool1DKernels.Direct(slice, 2, 2);
        using var expected = MaxPool1DKernels.Unfolded(slice, 2, 2).contiguous();
        Assert.That(actual!.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()));
    }

    [Test]
    public void Direct_NaNInAWindow_IsTheWindowsMaximum_AsLibtorch()
    {
        using var scope = NewDisposeScope();
        // Channels 0..16 so both the vector part and the scalar tail see NaN first, in the middle and last.
        var x = randn(1, 6, 17);
        foreach (var (step, channel) in new[] { (0, 0), (1, 3), (2, 16), (5, 9), (3, 15) })
        {
            x[0, step, channel] = float.NaN;
        }

        var channelsFirstView = x.transpose(1, 2).contiguous().transpose(1, 2);
        using var expected = nn.functional.max_pool1d(x.transpose(1, 2), 3, 3).transpose(1, 2).contiguous();
        foreach (var input in new[] { x, channelsFirstView })
        {
            using var actual = MaxPool1DKernels.Direct(input, 3, 3);
            var got = actual!.data<float>().ToArray();
            var want = expected.data<float>().ToArray();
            Assert.That(got.Select(float.IsNaN), Is.EqualTo(want.Select(float.IsNaN)), "NaN where libtorch gives NaN");
            Assert.That(got.Where(v => !float.IsNaN(v)), Is.EqualTo(want.Where(v => !float.IsNaN(v))));
        }
    }

    [Test]
    public void Direct_OtherInputs_AreLeftToLibtorch()
    {
        using var scope = NewDisposeScope();
        Assert.That(MaxPool1DKernels.Direct(randn(2, 8, 4, dtype: ScalarType.Float64), 2, 2), Is.Null, "float64");
        Assert.That(MaxPool1DKernels.Direct(randn(8, 2, 4).permute(1, 0, 2), 2, 2), Is.Null, "neither layout");
    }
}
