using KerasStyle.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The LSTM training kernel's matrix products (<see cref="SmallGemm"/>, issue 27): A · B_i against a double-precision
/// product within float32 rounding, for A as given and transposed, several B side by side, every vector width, rows
/// and columns that are not whole tiles, a split across two threads that changes no bit, and errors before anything
/// is computed.
/// </summary>
public class SmallGemmTests
{
    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(11);
    }

    [TestCase(3, 0, new[] { 5 })]
    [TestCase(1, 1, new[] { 1 })]
    [TestCase(3, 5, new[] { 7 })]
    [TestCase(4, 9, new[] { 64 })]
    [TestCase(5, 13, new[] { 70 })]
    [TestCase(9, 2, new[] { 16, 3, 33 })]
    [TestCase(280, 720, new[] { 64, 70 })]
    [TestCase(720, 280, new[] { 64 })]
    public void Multiply_MatchesTheDoubleProduct_EveryWidthAndLayout(int m, int k, int[] widths)
    {
        foreach (var lanes in new[] { 16, 8, 4, 1 })
        {
            foreach (var transposeA in new[] { false, true })
            {
                using var scope = NewDisposeScope();
                var a = transposeA ? randn(k, m) : randn(m, k);
                var bs = widths.Select(n => randn(k, n)).ToArray();
                var products = SmallGemm.Multiply(a, transposeA, lanes, bs);
                var left = (transposeA ? a.t() : a).to_type(ScalarType.Float64);
                for (var i = 0; i < bs.Length; i++)
                {
                    var b = bs[i].to_type(ScalarType.Float64);
                    var expected = left.mm(b);
                    // Float32 rounding of a sum of k products is at most about k · 2^-24 of the sum of their magnitudes.
                    var bound = left.abs().mm(b.abs()).mul(k * 1.2e-7).add(1e-30);
                    var error = products[i].to_type(ScalarType.Float64).sub(expected).abs();
                    Assert.That(products[i].shape, Is.EqualTo(new long[] { m, widths[i] }), $"lanes {lanes}, transposed {transposeA}, B {i}");
                    Assert.That(products[i].is_contiguous(), Is.True);
                    Assert.That(error.le(bound).all().item<bool>(), Is.True,
                        $"lanes {lanes}, transposed {transposeA}, B {i}: largest error {error.max().item<double>():E2}");
                }
            }
        }
    }

    [Test]
    public void Multiply_TwoThreads_GivesTheSameBitsAsOne([Values(16, 8)] int lanes)
    {
        using var scope = NewDisposeScope();
        var a = randn(720, 280);
        var x = randn(720, 64);
        var h = randn(720, 70);
        var one = SmallGemm.Multiply(a, true, lanes, x, h);
        Tensor[] two;
        using (TestSetup.Threads(2))
        {
            two = SmallGemm.Multiply(a, true, lanes, x, h);
        }

        Assert.That(two[0].eq(one[0]).all().item<bool>(), Is.True);
        Assert.That(two[1].eq(one[1]).all().item<bool>(), Is.True);
    }

    [Test]
    public void Multiply_NonContiguousB_IsReadAsItsValues()
    {
        using var scope = NewDisposeScope();
        var a = randn(6, 10);
        var b = randn(17, 10).t();
        var product = SmallGemm.Multiply(a, false, 16, b)[0];
        Assert.That(product.allclose(a.mm(b), rtol: 1e-5, atol: 1e-5), Is.True);
    }

    [Test]
    public void Multiply_SpecialValues_PropagateAsInAProduct()
    {
        using var scope = NewDisposeScope();
        var a = ones(4, 3);
        var b = tensor(new float[] { 1, float.NaN, 2, 3, float.PositiveInfinity, 4 }).view(3, 2);
        var product = SmallGemm.Multiply(a, false, 16, b)[0];
        Assert.That(product[0, 0].item<float>(), Is.EqualTo(float.PositiveInfinity));
        Assert.That(float.IsNaN(product[0, 1].item<float>()), Is.True);
    }

    [Test]
    public void Multiply_BadOperands_ThrowBeforeComputing()
    {
        using var scope = NewDisposeScope();
        var a = randn(4, 5);
        Assert.That(() => SmallGemm.Multiply(a.t(), false, 16, randn(4, 2)), Throws.ArgumentException.With.Message.Contains("contiguous"));
        Assert.That(() => SmallGemm.Multiply(a.to_type(ScalarType.Float64), false, 16, randn(5, 2)), Throws.ArgumentException.With.Message.Contains("float32"));
        Assert.That(() => SmallGemm.Multiply(a, false, 16, randn(4, 2)), Throws.ArgumentException.With.Message.Contains("of 5 rows"));
        Assert.That(() => SmallGemm.Multiply(a, true, 16, randn(5, 2)), Throws.ArgumentException.With.Message.Contains("of 4 rows"));
        Assert.That(() => SmallGemm.Multiply(a, false, 3, randn(5, 2)), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Fits_ProductsBeyondDotNetArrays_AreLeftToLibTorch()
    {
        Assert.That(SmallGemm.Fits(720, 280, 134, 16), Is.True);
        // dX of a long sequence: 2^22 rows by 1,024 features would need a 2^32-float product buffer.
        Assert.That(SmallGemm.Fits(1L << 22, 4096, 1024, 16), Is.False);
        // dW of the same: 2^22 rows of B by 1,024 columns.
        Assert.That(SmallGemm.Fits(4096, 1L << 22, 1024, 16), Is.False);
        // The padding counts: 2^27 - 1 columns round up to 2^27 at 16 lanes.
        Assert.That(SmallGemm.Fits(1, 16, (1L << 27) - 1, 16), Is.False);
        Assert.That(SmallGemm.Fits(1, 15, (1L << 27) - 1, 1), Is.True);
        // No rows on either side: the column count alone must still fit an int.
        Assert.That(SmallGemm.Fits(0, 0, 1L << 32, 16), Is.False);
    }

    [Test]
    public void Multiply_LeavesNoTensorBehindItsResults()
    {
        using var scope = NewDisposeScope();
        var a = randn(30, 40);
        var (b1, b2) = (randn(30, 7), randn(30, 9).t().contiguous().t());
        var before = LiveOnThisThread;
        for (var i = 0; i < 5; i++)
        {
            foreach (var product in SmallGemm.Multiply(a, true, 16, b1, b2))
            {
                product.Dispose();
            }
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(before));
    }
}
