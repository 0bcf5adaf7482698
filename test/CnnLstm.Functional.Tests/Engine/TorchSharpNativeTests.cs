using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

public class TorchSharpNativeTests
{
    [Test]
    public void Tensor_Sum_RunsOnNativeLibrary()
    {
        using var t = ones(2, 3);
        Assert.That(t.sum().item<float>(), Is.EqualTo(6f));
    }

    [Test]
    public void Lstm_Forward_ReturnsBatchFirstSequence()
    {
        using var lstm = nn.LSTM(3, 4, batchFirst: true);
        using var x = randn(2, 5, 3);
        var (output, h, c) = lstm.call(x);
        Assert.That(output.shape, Is.EqualTo(new long[] { 2, 5, 4 }));
        Assert.That(h.shape, Is.EqualTo(new long[] { 1, 2, 4 }));
        output.Dispose();
        h.Dispose();
        c.Dispose();
    }
}
