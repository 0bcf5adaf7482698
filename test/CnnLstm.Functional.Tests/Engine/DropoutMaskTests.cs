using System.Collections;
using System.Reflection;
using KerasStyle.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The dropout mask (Engine/DropoutMask.cs) draws element k's keep/drop from SplitMix64 at position k / 2 of the
/// seed's stream (low half for even k, high half for odd), whatever the vector width, length or thread split: the
/// same seed gives the same mask on every CPU. The float32 CPU path without a mask tensor (issue 27) gives, forward
/// and backward, the same bits as the mask tensor and libtorch's <c>x * mask</c> (<see cref="DropoutMask.UseMaskTensor"/>).
/// </summary>
public class DropoutMaskTests
{
    private static float Expected(ulong seed, long k, uint threshold, float scale)
    {
        var z = seed + (((ulong)(k >> 1) + 1) * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        var draw = (k & 1) == 0 ? (uint)z : (uint)(z >> 32);
        return draw >= threshold ? scale : 0f;
    }

    [TestCase(1, 0.25)]
    [TestCase(7, 0.5)]
    [TestCase(8, 0.25)]
    [TestCase(17, 0.25)]
    [TestCase(33, 0.1)]
    [TestCase(100_003, 0.25)]
    public void Apply_AnyLength_EqualsTheScalarStream(int n, double rate)
    {
        const ulong seed = 0x1234_5678_9ABC_DEF0UL;
        using var scope = NewDisposeScope();
        var mask = DropoutMask.Apply(ones(n), rate, seed).data<float>().ToArray();
        var threshold = (uint)Math.Round(rate * 4294967296.0);
        var scale = (float)(1 / (1 - rate));
        var expected = Enumerable.Range(0, n).Select(k => Expected(seed, k, threshold, scale)).ToArray();
        Assert.That(mask, Is.EqualTo(expected));

        // Sanity of the draw itself: about rate of the elements dropped.
        if (n > 10_000)
        {
            Assert.That(mask.Count(v => v == 0) / (double)n, Is.EqualTo(rate).Within(0.01));
        }
    }

    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Test]
    public void Apply_WithGradient_ForwardAndBackwardEqualTheMaskTensorPathBitForBit(
        [Values(new long[] { 1 }, new long[] { 2 }, new long[] { 7 }, new long[] { 17 }, new long[] { 33 }, new long[] { 3, 5, 7 }, new long[] { 30, 100, 128 })] long[] shape,
        [Values(0.0, 0.25, 0.999)] double rate,
        [Values(1, 2)] int threads)
    {
        using var split = TestSetup.Threads(threads);
        using var scope = NewDisposeScope();
        const ulong seed = 0xDEAD_BEEF_0123_4567UL;
        var x = Values(shape, 5);
        var dy = Values(shape, 6);
        var (y, dx) = ForwardBackward(x, dy, rate, seed, maskTensor: false);
        var (yOld, dxOld) = ForwardBackward(x, dy, rate, seed, maskTensor: true);
        var mask = DropoutMask.Mask(shape, rate, seed);

        AssertSameBits(y, yOld, "forward against the mask tensor path");
        AssertSameBits(dx, dxOld, "backward against the mask tensor path");
        AssertSameBits(y, x * mask, "forward against x * mask");
        AssertSameBits(dx, dy * mask, "backward against dy * mask");
        if (rate == 0)
        {
            AssertSameBits(y, x, "rate 0 keeps every value");
        }
    }

    [Test]
    public void Apply_NonContiguousInput_DrawsByTheLogicalRowMajorIndexAsTheMaskTensorPath()
    {
        using var scope = NewDisposeScope();
        var x = Values(new long[] { 40, 9 }, 3).t();
        var dy = Values(new long[] { 9, 40 }, 4);
        var (y, dx) = ForwardBackward(x, dy, 0.5, 99, maskTensor: false);
        var (yOld, dxOld) = ForwardBackward(x, dy, 0.5, 99, maskTensor: true);
        AssertSameBits(y, yOld, "forward");
        AssertSameBits(dx, dxOld, "backward");
    }

    [Test]
    public void Apply_WithoutAGraph_EqualsTheMaskTensorPathAndMakesNoNode([Values(false, true)] bool noGrad)
    {
        using var scope = NewDisposeScope();
        var x = Values(new long[] { 6, 50 }, 8);
        if (!noGrad)
        {
            // Autograd on, but x needs no gradient.
            x.requires_grad_(false);
        }

        var nodes = AliveAutogradFunctionNodes();
        Tensor y;
        using (var mode = noGrad ? no_grad() : null)
        {
            y = DropoutMask.Apply(noGrad ? x.requires_grad_(true) : x, 0.25, 17);
        }

        Assert.That(y.requires_grad, Is.False);
        Assert.That(AliveAutogradFunctionNodes(), Is.EqualTo(nodes));
        using var mask = DropoutMask.Mask(x.shape, 0.25, 17);
        using var expected = x.detach() * mask;
        AssertSameBits(y, expected, "forward");
    }

    [Test]
    public void Apply_Float64_TakesTheMaskTensorPathInFloat64()
    {
        using var scope = NewDisposeScope();
        var x = randn(4, 9, dtype: ScalarType.Float64).requires_grad_(true);
        var y = DropoutMask.Apply(x, 0.25, 5);
        Assert.That(y.dtype, Is.EqualTo(ScalarType.Float64));
        AssertSameBits(y, x.detach() * DropoutMask.Mask(x.shape, 0.25, 5), "forward");
        y.backward(new[] { ones_like(y) });
        AssertSameBits(x.grad!, DropoutMask.Mask(x.shape, 0.25, 5).to(ScalarType.Float64), "backward");
    }

    [Test]
    public void Backward_WithCreateGraph_GivesTheMaskTensorPathsSecondDerivative()
    {
        // loss = Σ y², y = x · mask: dL/dx = 2 y · mask is built as a graph through the backward's dy · mask, and its
        // derivative Σ ∂/∂x (2 x mask²) = 2 mask² needs that backward to be differentiable.
        using var scope = NewDisposeScope();
        Tensor[] Derivatives(bool maskTensor)
        {
            DropoutMask.UseMaskTensor = maskTensor;
            try
            {
                var x = Values(new long[] { 5, 37 }, 11).requires_grad_(true);
                var y = DropoutMask.Apply(x, 0.25, 1234);
                var first = torch.autograd.grad(new[] { y.square().sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
                Assert.That(first.requires_grad, Is.True);
                var second = torch.autograd.grad(new[] { first.sum() }, new[] { x })[0];
                return new[] { first.detach(), second };
            }
            finally
            {
                DropoutMask.UseMaskTensor = false;
            }
        }

        var actual = Derivatives(false);
        var expected = Derivatives(true);
        AssertSameBits(actual[0], expected[0], "first derivative");
        AssertSameBits(actual[1], expected[1], "second derivative");
        var mask = DropoutMask.Mask(new long[] { 5, 37 }, 0.25, 1234);
        AssertSameBits(actual[1], 2 * mask * mask, "2 mask²");
    }

    [Test]
    public void Apply_ManyCalls_LeaveNoTensorsAndNoAutogradNodes([Values(false, true)] bool backward)
    {
        var x = Values(new long[] { 3, 50 }, 2).requires_grad_(true);
        void Call()
        {
            using var scope = NewDisposeScope();
            var y = DropoutMask.Apply(x, 0.25, 3);
            if (backward)
            {
                y.sum().backward();
            }
        }

        Call();
        var (live, nodes) = (LiveOnThisThread, AliveAutogradFunctionNodes());
        for (var i = 0; i < 20; i++)
        {
            Call();
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live), "tensors");
        Assert.That(AliveAutogradFunctionNodes(), Is.EqualTo(nodes), "TorchSharp's custom-function nodes freed with their graphs");
        x.grad?.Dispose();
        x.Dispose();
    }

    [Test]
    public void Apply_BackwardAfterTheCallsScopeEnded_Runs()
    {
        // TorchSharp's per-output tensor of the graph node must outlive the scope the call ran in.
        using var outer = NewDisposeScope();
        var x = Values(new long[] { 4, 20 }, 9).requires_grad_(true);
        Tensor y;
        using (var inner = NewDisposeScope())
        {
            y = DropoutMask.Apply(x, 0.25, 77).MoveToOuterDisposeScope();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        y.backward(new[] { ones_like(y) });
        AssertSameBits(x.grad!, DropoutMask.Mask(x.shape, 0.25, 77), "gradient of the sum");
    }

    /// <summary>y = dropout(x) and the gradient of x for the output gradient <paramref name="dy"/>, on a fresh leaf.</summary>
    private static (Tensor Y, Tensor Dx) ForwardBackward(Tensor x, Tensor dy, double rate, ulong seed, bool maskTensor)
    {
        DropoutMask.UseMaskTensor = maskTensor;
        try
        {
            var leaf = x.detach().requires_grad_(true);
            var y = DropoutMask.Apply(leaf, rate, seed);
            Assert.That(y.requires_grad, Is.True);
            y.backward(new[] { dy });
            return (y.detach(), leaf.grad!);
        }
        finally
        {
            DropoutMask.UseMaskTensor = false;
        }
    }

    /// <summary>Normal values with NaN, ±infinity, −0 and a negative value first (x · 0 is then NaN, NaN, −0 and −0).</summary>
    private static Tensor Values(long[] shape, int seed)
    {
        var values = randn(shape, generator: new TorchSharp.torch.Generator((ulong)seed)).flatten();
        var specials = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, -1.5f };
        for (var i = 0; i < Math.Min(specials.Length, values.numel()); i++)
        {
            values[i] = specials[i];
        }

        return values.reshape(shape);
    }

    private static void AssertSameBits(Tensor actual, Tensor expected, string what)
    {
        Assert.That(actual.shape, Is.EqualTo(expected.shape), what);
        Assert.That(actual.dtype, Is.EqualTo(expected.dtype), what);
        var a = actual.contiguous().bytes.ToArray();
        var e = expected.contiguous().bytes.ToArray();
        var first = Enumerable.Range(0, a.Length).FirstOrDefault(i => a[i] != e[i], -1);
        Assert.That(first, Is.EqualTo(-1), $"{what}: first differing byte");
    }

    /// <summary>TorchSharp keeps every custom autograd node in a static list until libtorch deletes it with its graph.</summary>
    internal static int AliveAutogradFunctionNodes()
    {
        var nodeType = typeof(torch.autograd.AutogradContext).Assembly.GetTypes().Single(t => t.FullName == "TorchSharp.torch+autograd+Node");
        var field = nodeType.GetField("AliveNodes", BindingFlags.NonPublic | BindingFlags.Static)!;
        var list = (ICollection)field.GetValue(null)!;
        lock (list)
        {
            return list.Count;
        }
    }
}
