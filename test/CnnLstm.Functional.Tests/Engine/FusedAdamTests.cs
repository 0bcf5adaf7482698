using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The fused Adam step (Engine/FusedAdam.cs) gives, bit for bit, Keras' formula evaluated element by element in
/// single precision, at every length (the AVX-512, <c>Vector&lt;T&gt;</c> and scalar loops, and the two-thread split),
/// and the by-rows step equals the dense step with a gradient that is zero outside the rows.
/// </summary>
public class FusedAdamTests
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-7;
    private const double Rate = 0.0123;

    private static float[] Random(Random random, int n, float scale, bool positive = false) =>
        Enumerable.Range(0, n).Select(_ => (positive ? random.NextSingle() : (random.NextSingle() * 2) - 1) * scale).ToArray();

    /// <summary>m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; p -= lr m / (√v + ε), one float at a time.</summary>
    private static void Reference(float[] p, float[] g, float[] m, float[] v)
    {
        var (b1, b2, c1, c2, lr, eps) = ((float)Beta1, (float)Beta2, (float)(1 - Beta1), (float)(1 - Beta2), (float)Rate, (float)Epsilon);
        for (var i = 0; i < p.Length; i++)
        {
            m[i] = (m[i] * b1) + (g[i] * c1);
            v[i] = (v[i] * b2) + (g[i] * g[i] * c2);
            p[i] -= lr * m[i] / (MathF.Sqrt(v[i]) + eps);
        }
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(8)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(31)]
    [TestCase(40)]
    [TestCase(70_001)]
    public void Step_AnyLength_EqualsTheScalarFormulaBitForBit(int n)
    {
        // Two threads, as the class says: the kernel splits above 65,536 elements (70,001 here).
        using var threads = TestSetup.Threads(2);
        var random = new Random(n);
        var (p, g, m, v) = (Random(random, n, 1), Random(random, n, 0.1f), Random(random, n, 0.01f), Random(random, n, 1e-4f, positive: true));
        g[0] = 0;
        using var scope = NewDisposeScope();
        var (tp, tg, tm, tv) = (tensor(p), tensor(g), tensor(m), tensor(v));
        FusedAdam.Step(tp, tg, tm, tv, Beta1, Beta2, Rate, Epsilon);
        Reference(p, g, m, v);
        Assert.That(tp.data<float>().ToArray(), Is.EqualTo(p));
        Assert.That(tm.data<float>().ToArray(), Is.EqualTo(m));
        Assert.That(tv.data<float>().ToArray(), Is.EqualTo(v));
    }

    [TestCase(5, 24)]
    [TestCase(600, 128)]
    [TestCase(9, 19)]
    public void StepRows_EqualsDenseStepWithZeroGradientElsewhere(int rows, int width)
    {
        // On the test run's one thread; StepRows_TwoThreads_IdsAtTheSplit_EqualsDenseStep splits the rows.
        AssertStepRowsAsDense(rows, width, new long[] { 0, 3, rows - 1 });
    }

    /// <summary>
    /// On two threads the rows split at 300 (600 rows) or 301 (601 rows): ids on both sides of the split, none, or all
    /// rows (null) give the dense step with a zero gradient elsewhere, bit for bit.
    /// </summary>
    [TestCase(600, new long[] { 0, 299, 300, 599 })]
    [TestCase(600, new long[] { 299 })]
    [TestCase(600, new long[] { 300 })]
    [TestCase(601, new long[] { 300, 301, 600 })]
    [TestCase(601, new long[] { 301 })]
    [TestCase(601, new long[0])]
    [TestCase(601, null)]
    public void StepRows_TwoThreads_IdsAtTheSplit_EqualsDenseStep(int rows, long[]? ids)
    {
        using var threads = TestSetup.Threads(2);
        AssertStepRowsAsDense(rows, 128, ids ?? Enumerable.Range(0, rows).Select(i => (long)i).ToArray());
    }

    /// <summary>StepRows on random state against Keras' formula, one float at a time, over the dense gradient.</summary>
    private static void AssertStepRowsAsDense(int rows, int width, long[] ids)
    {
        var random = new Random(rows + width + ids.Length);
        var n = rows * width;
        var (p, m, v) = (Random(random, n, 1), Random(random, n, 0.01f), Random(random, n, 1e-4f, positive: true));
        var rowGrad = Random(random, ids.Length * width, 0.1f);
        var dense = new float[n];
        for (var k = 0; k < ids.Length; k++)
        {
            Array.Copy(rowGrad, k * width, dense, ids[k] * width, width);
        }

        using var scope = NewDisposeScope();
        var (rp, rm, rv) = (tensor(p, new long[] { rows, width }), tensor(m, new long[] { rows, width }), tensor(v, new long[] { rows, width }));
        FusedAdam.StepRows(rp, tensor(ids), tensor(rowGrad, new long[] { ids.Length, width }), rm, rv, Beta1, Beta2, Rate, Epsilon);
        Reference(p, dense, m, v);
        Assert.That(rp.data<float>().ToArray(), Is.EqualTo(p));
        Assert.That(rm.data<float>().ToArray(), Is.EqualTo(m));
        Assert.That(rv.data<float>().ToArray(), Is.EqualTo(v));
    }

    [TestCase(new[] { 2L, -1L })]
    [TestCase(new[] { 2L, 9L })]
    [TestCase(new[] { 9L })]
    [TestCase(new[] { -1L, 2L })]
    public void StepRows_IdOutsideTheRows_ThrowsBeforeAnyChange(long[] ids)
    {
        AssertThrowsAndChangesNothing<ArgumentOutOfRangeException>(ids);
    }

    /// <summary>The rows are walked alongside the ids, which must be distinct and in order.</summary>
    [TestCase(new[] { 2L, 5L, 2L })]
    [TestCase(new[] { 3L, 3L })]
    [TestCase(new[] { 0L, 4L, 8L, 8L })]
    [TestCase(new[] { 8L, 0L, 3L })]
    public void StepRows_IdsNotStrictlyAscending_ThrowBeforeAnyChange(long[] ids)
    {
        AssertThrowsAndChangesNothing<ArgumentException>(ids);
    }

    private static void AssertThrowsAndChangesNothing<TException>(long[] ids)
        where TException : Exception
    {
        using var scope = NewDisposeScope();
        var random = new Random(ids.Length);
        var (p, m, v) = (Random(random, 36, 1), Random(random, 36, 0.01f), Random(random, 36, 1e-4f, positive: true));
        var (tp, tm, tv) = (tensor(p, new long[] { 9, 4 }), tensor(m, new long[] { 9, 4 }), tensor(v, new long[] { 9, 4 }));
        Assert.Throws<TException>(() => FusedAdam.StepRows(tp, tensor(ids), ones(ids.Length, 4), tm, tv, Beta1, Beta2, Rate, Epsilon));
        Assert.That(tp.data<float>().ToArray(), Is.EqualTo(p), "weights");
        Assert.That(tm.data<float>().ToArray(), Is.EqualTo(m), "m");
        Assert.That(tv.data<float>().ToArray(), Is.EqualTo(v), "v");
    }
}
