using KerasStyle.Engine;
using KerasStyle.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// The Embedding's gradient by rows summed in C# (Engine/RowGradientSum.cs) gives libtorch's
/// <c>unique(sorted, return_inverse)</c> + <c>zeros().index_add_</c> (<see cref="LayerWeight.RowGradientByLibTorch"/>)
/// bit for bit: the same ascending ids, and each id's rows added in order of appearance onto zero.
/// </summary>
public class RowGradientSumTests
{
    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    // The marks kept between calls, as a weight keeps them between steps.
    private RowGradientSum.Marker? marker;

    [SetUp]
    public void NoMarks() => marker = null;

    private static (Tensor Ids, Tensor Grad) Piece(long[] ids, int width, Random random) =>
        (tensor(ids), tensor(Enumerable.Range(0, ids.Length * width).Select(_ => (random.NextSingle() * 2) - 1).ToArray(), new long[] { ids.Length, width }));

    private static int[] Bits(Tensor t) => t.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Sums in C# and through libtorch, and asserts the same ids, shape and bits; returns the C# sum.</summary>
    private (Tensor Ids, Tensor Grad) AssertAsLibTorch(long rows, params (Tensor Ids, Tensor Grad)[] pieces)
    {
        Assert.That(RowGradientSum.Supports(pieces, rows), Is.True);
        var mine = RowGradientSum.Sum(pieces, rows, ref marker)!.Value;
        Assert.That(marker, Is.Not.Null, "the marks are kept");
        var torch = LayerWeight.RowGradientByLibTorch(pieces);
        Assert.That(mine.Ids.data<long>().ToArray(), Is.EqualTo(torch.Ids.data<long>().ToArray()), "ids");
        Assert.That(mine.Grad.shape, Is.EqualTo(torch.Grad.shape), "shape");
        Assert.That(Bits(mine.Grad), Is.EqualTo(Bits(torch.Grad)), "bits");
        return mine;
    }

    [TestCase(1)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(33)]
    [TestCase(128)]
    public void ManyDuplicates_AddedInOrderOfAppearance_AsLibTorch(int width)
    {
        // 3,000 lookups of 20 ids: about 150 rows per id, so any other order of addition changes the last bits.
        using var scope = NewDisposeScope();
        var random = new Random(width);
        var ids = Enumerable.Range(0, 3000).Select(_ => (long)random.Next(20)).ToArray();
        var piece = Piece(ids, width, random);
        var mine = AssertAsLibTorch(20, piece);

        // The order matters on these values: in order of appearance is what both give, the reverse is not.
        var g = piece.Grad.data<float>().ToArray();
        var (forward, backward) = (new float[20 * width], new float[20 * width]);
        for (var k = 0; k < ids.Length; k++)
        {
            for (var j = 0; j < width; j++)
            {
                forward[(ids[k] * width) + j] += g[(k * width) + j];
                var r = ids.Length - 1 - k;
                backward[(ids[r] * width) + j] += g[(r * width) + j];
            }
        }

        Assert.That(Bits(mine.Grad), Is.EqualTo(forward.Select(BitConverter.SingleToInt32Bits).ToArray()), "in order of appearance");
        Assert.That(backward.Select(BitConverter.SingleToInt32Bits).ToArray(), Is.Not.EqualTo(forward.Select(BitConverter.SingleToInt32Bits).ToArray()), "the reverse order differs");
    }

    [Test]
    public void UnsortedDistinctIds_ComeOutAscending_AsLibTorch()
    {
        using var scope = NewDisposeScope();
        var random = new Random(3);
        var ids = Enumerable.Range(0, 500).OrderBy(_ => random.Next()).Take(200).Select(i => (long)i).ToArray();
        var mine = AssertAsLibTorch(500, Piece(ids, 24, random));
        Assert.That(mine.Ids.data<long>().ToArray(), Is.EqualTo(ids.Order().ToArray()));
    }

    [Test]
    public void SingleId_AsLibTorch()
    {
        using var scope = NewDisposeScope();
        AssertAsLibTorch(10, Piece(new long[] { 7 }, 5, new Random(4)));
    }

    [Test]
    public void AllRows_WithDuplicates_AsLibTorch()
    {
        using var scope = NewDisposeScope();
        var random = new Random(5);
        var ids = Enumerable.Range(0, 300).Concat(Enumerable.Range(0, 300)).Concat(new[] { 0, 299, 150 }).OrderBy(_ => random.Next()).Select(i => (long)i).ToArray();
        var mine = AssertAsLibTorch(300, Piece(ids, 40, random));
        Assert.That(mine.Ids.shape[0], Is.EqualTo(300));
    }

    [TestCase(1)]
    [TestCase(64)]
    [TestCase(65)]
    [TestCase(20_000)]
    public void FirstAndLastRowOfTheTable_AsLibTorch(int rows)
    {
        using var scope = NewDisposeScope();
        var last = rows - 1L;
        var mine = AssertAsLibTorch(rows, Piece(new[] { last, 0, last, 0, last }, 16, new Random(rows)));
        Assert.That(mine.Ids.data<long>().ToArray(), Is.EqualTo(rows == 1 ? new[] { 0L } : new[] { 0, last }));
    }

    [Test]
    public void TwoLookupsOfOneTable_SummedAcrossBothInOrder_AsLibTorch()
    {
        // A shared Embedding called twice in one step: the first lookup's rows come before the second's.
        using var scope = NewDisposeScope();
        var random = new Random(6);
        var first = Enumerable.Range(0, 700).Select(_ => (long)random.Next(40)).ToArray();
        var second = Enumerable.Range(0, 900).Select(_ => (long)random.Next(30, 90)).ToArray();
        AssertAsLibTorch(100, Piece(first, 32, random), Piece(second, 32, random));
    }

    [Test]
    public void PiecesNarrowedFromOneBuffer_AsLibTorch()
    {
        // The data-parallel exchange sums every rank's part of the gathered buffers: views at an offset, one empty.
        using var scope = NewDisposeScope();
        var random = new Random(11);
        var (ids, grads) = Piece(Enumerable.Range(0, 900).Select(_ => (long)random.Next(50)).ToArray(), 24, random);
        var flat = grads.reshape(-1);
        (Tensor, Tensor) Part(long start, long count) => (ids.narrow(0, start, count), flat.narrow(0, start * 24, count * 24).view(count, 24));
        var mine = AssertAsLibTorch(50, Part(0, 0), Part(0, 400), Part(400, 0), Part(400, 500));
        Assert.That(Bits(mine.Grad), Is.EqualTo(Bits(AssertAsLibTorch(50, (ids, grads)).Grad)), "the same as the whole buffer at once");
    }

    [Test]
    public void SeedSentimentShape_AsLibTorch()
    {
        // 30 samples of 100 tokens over 20,000 ids, the most frequent ids looked up most (about 2,800 distinct).
        using var scope = NewDisposeScope();
        var random = new Random(7);
        var ids = Enumerable.Range(0, 3000).Select(_ => Math.Min(19_999L, (long)Math.Floor(Math.Exp(random.NextDouble() * Math.Log(20000)) - 1))).ToArray();
        AssertAsLibTorch(20_000, Piece(ids, 128, random));
    }

    [Test]
    public void NegativeZeroAndNaN_AsLibTorch()
    {
        // libtorch adds onto a zero row: a single -0 becomes +0.
        using var scope = NewDisposeScope();
        var grad = tensor(new[] { -0f, -0f, 1f, float.NaN, -0f, 2f, -0f, -0f }, new long[] { 4, 2 });
        var mine = AssertAsLibTorch(5, (tensor(new long[] { 3, 1, 4, 1 }), grad));
        Assert.That(BitConverter.SingleToInt32Bits(mine.Grad[1, 0].item<float>()), Is.EqualTo(0), "+0 for id 3's -0");
    }

    [TestCase(16)]
    [TestCase(41)]
    [TestCase(128)]
    public void NegativeZeroRows_EveryVectorWidth_BecomePositiveZero_AsLibTorch(int width)
    {
        // 41 = two 16-lane steps, one Vector<float> step (8 lanes here) and a scalar tail: each loop adds onto zero.
        using var scope = NewDisposeScope();
        var grad = full(3, width, -0f);
        var mine = AssertAsLibTorch(4, (tensor(new long[] { 2, 0, 2 }), grad));
        Assert.That(Bits(mine.Grad), Is.All.EqualTo(0));
    }

    [Test]
    public void IdOutsideTheTable_IsLeftToLibTorch()
    {
        using var scope = NewDisposeScope();
        var random = new Random(8);
        Assert.That(RowGradientSum.Sum(new[] { Piece(new long[] { 1, 10 }, 4, random) }, 10, ref marker), Is.Null);
        Assert.That(RowGradientSum.Sum(new[] { Piece(new long[] { -1, 2 }, 4, random) }, 10, ref marker), Is.Null);
    }

    [Test]
    public void OtherDtypesLayoutsOrDevices_AreNotSupported()
    {
        using var scope = NewDisposeScope();
        var grad = ones(4, 3);
        Assert.That(RowGradientSum.Supports(new[] { (tensor(new[] { 1, 2, 3, 4 }), grad) }, 10), Is.False, "int32 ids");
        Assert.That(RowGradientSum.Supports(new[] { (tensor(new long[] { 1, 2, 3, 4 }), grad.to_type(ScalarType.Float64)) }, 10), Is.False, "float64 gradient");
        Assert.That(RowGradientSum.Supports(new[] { (tensor(new long[] { 1, 2, 3 }), ones(3, 4).t()) }, 10), Is.False, "non-contiguous gradient");
        Assert.That(RowGradientSum.Supports(new[] { (tensor(new long[] { 1, 2, 3, 4 }), grad), (tensor(new long[] { 1 }), ones(1, 2)) }, 10), Is.False, "two widths");
        Assert.That(RowGradientSum.Supports(new[] { (tensor(new long[] { 1, 2, 3, 4 }), grad) }, 10), Is.True);
    }

    [Test]
    public void ABigTableThenASmallOne_TheKeptMarksAreClear()
    {
        // The marks are kept between calls and cleared where touched: a later call, even on a smaller table (which
        // reuses the bigger marker), sees none.
        using var scope = NewDisposeScope();
        var random = new Random(9);
        AssertAsLibTorch(100_000, Piece(new long[] { 99_999, 5, 64, 5, 0 }, 8, random));
        var big = marker;
        AssertAsLibTorch(70, Piece(new long[] { 69, 5, 64, 1 }, 8, random));
        Assert.That(marker, Is.SameAs(big));
        AssertAsLibTorch(100_000, Piece(new long[] { 3, 99_998 }, 8, random));
    }

    [Test]
    public void RepeatedSums_LeaveLiveTensorCountsFlat()
    {
        var random = new Random(10);
        var ids = Enumerable.Range(0, 600).Select(_ => (long)random.Next(1000)).ToArray();
        using var piece = Piece(ids, 16, random).Ids;
        using var grad = Piece(ids, 16, random).Grad;
        using (var warm = NewDisposeScope())
        {
            RowGradientSum.Sum(new[] { (piece, grad) }, 1000, ref marker);
        }

        var live = LiveOnThisThread;
        for (var i = 0; i < 50; i++)
        {
            using var step = NewDisposeScope();
            var (sumIds, sumGrad) = RowGradientSum.Sum(new[] { (piece, grad) }, 1000, ref marker)!.Value;
            Assert.That(sumIds.shape[0], Is.EqualTo(sumGrad.shape[0]));
        }

        Assert.That(LiveOnThisThread, Is.EqualTo(live));
    }
}
