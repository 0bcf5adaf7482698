using KerasStyle.Engine;

namespace KerasStyle.Tests.Engine;

public class ParallelRangesTests
{
    [TestCase(5L, 1L)]
    [TestCase(17L, 8L)]
    [TestCase(131_073L, 8L)]
    [TestCase(1_000_001L, 2L)]
    public void For_CoversEveryIndexOnce_WithAlignedStarts(long count, long alignment)
    {
        Assume.That(Environment.ProcessorCount, Is.GreaterThan(1), "splitting needs two cores");
        using var threads = TestSetup.Threads(2);
        var hits = new int[count];
        var starts = new System.Collections.Concurrent.ConcurrentBag<long>();
        ParallelRanges.For(count, work: long.MaxValue, threshold: 0, alignment, (start, end) =>
        {
            starts.Add(start);
            for (var i = start; i < end; i++)
            {
                Interlocked.Increment(ref hits[i]);
            }
        });
        Assert.That(hits, Has.All.EqualTo(1));
        Assert.That(starts, Has.All.Matches<long>(s => s % alignment == 0));
        Assert.That(starts, Has.Count.EqualTo(2), "one range per thread of the policy");
    }

    [Test]
    public void For_WithOneThreadOfThePolicy_RunsOneRangeInline()
    {
        var ranges = new List<(long, long)>();
        ParallelRanges.For(1_000_001, work: long.MaxValue, threshold: 0, alignment: 8, (start, end) => ranges.Add((start, end)));
        Assert.That(ranges, Is.EqualTo(new[] { (0L, 1_000_001L) }));
    }

    [Test]
    public void For_BelowThreshold_RunsOneRangeInline()
    {
        var ranges = new List<(long, long)>();
        ParallelRanges.For(100, work: 10, threshold: 1000, alignment: 8, (start, end) => ranges.Add((start, end)));
        Assert.That(ranges, Is.EqualTo(new[] { (0L, 100L) }));
    }
}
