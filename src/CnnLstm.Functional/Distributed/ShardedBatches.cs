using KerasStyle.Engine;
using KerasStyle.Training;
using KerasStyle.Training.Data;
using static TorchSharp.torch;

namespace KerasStyle.Distributed;

/// <summary>
/// One rank's batches of in-memory data under a <see cref="DataParallel"/> distribution. Every rank holds the same
/// samples and walks them in the same order (the same shuffle seed); each global batch holds
/// <c>batchSize</c> x ranks samples, and rank r takes its r-th part of it. The last global batch, when partial, is
/// split as evenly as possible (rank r takes samples [r m / R, (r + 1) m / R) of its m); a rank left without samples
/// runs a stand-in batch of one sample that counts zero, so that every rank runs the same number of steps and no
/// sample is dropped.
/// </summary>
internal sealed class ShardedBatches : BatchIterator
{
    private readonly DataSet data;
    private readonly int batchSize;
    private readonly int rank;
    private readonly int ranks;
    private readonly bool training;
    private readonly Generator? shuffle;

    private ShardedBatches(DataSet data, int batchSize, int rank, int ranks, bool training, Generator? shuffle)
        : base((int)((data.Count + ((long)batchSize * ranks) - 1) / ((long)batchSize * ranks)))
    {
        this.data = data;
        this.batchSize = batchSize;
        this.rank = rank;
        this.ranks = ranks;
        this.training = training;
        this.shuffle = shuffle;
    }

    /// <inheritdoc/>
    public override long? Samples => data.Count;

    /// <inheritdoc/>
    public override int? BatchSize => batchSize;

    /// <summary>Training batches (copied), shuffled each epoch by <paramref name="shuffle"/> (the same seed on every rank) or in order when null.</summary>
    public static ShardedBatches ForTraining(DataSet data, int batchSize, DataParallel distribution, Generator? shuffle) =>
        new(data, batchSize, distribution.Rank, distribution.Size, training: true, shuffle);

    /// <summary>Evaluation batches in order, as views of <paramref name="data"/>.</summary>
    public static ShardedBatches InOrder(DataSet data, int batchSize, DataParallel distribution) =>
        new(data, batchSize, distribution.Rank, distribution.Size, training: false, null);

    /// <inheritdoc/>
    public override IEnumerable<DataSet> Batches(int epoch)
    {
        var count = data.Count;
        var global = (long)batchSize * ranks;
        using var order = !training ? null : shuffle is not null ? randperm(count, generator: shuffle) : Scalars.WithInt(count, stop => arange(Scalars.OfInt(0), stop, Scalars.IntOne));
        for (long start = 0; start < count; start += global)
        {
            var size = Math.Min(global, count - start);
            var from = start + (rank * size / ranks);
            var to = start + ((rank + 1) * size / ranks);
            var standIn = to == from;
            var length = standIn ? 1 : to - from;
            from = standIn ? start : from;
            DataSet batch;
            if (order is not null)
            {
                using var indices = order.narrow(0, from, length);
                batch = data.Take(indices);
            }
            else
            {
                batch = data.Slice(from, length);
            }

            batch.StandIn = standIn;
            yield return batch;
        }
    }
}
