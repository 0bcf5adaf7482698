using KerasStyle.Engine;
using KerasStyle.Training;
using KerasStyle.Training.Data;
using KerasStyle.Models;
using KerasStyle.Training.Losses;
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

/// <summary>
/// One rank's batches of a <see cref="DataSource"/> under a <see cref="DataParallel"/> distribution; a source batch is
/// one rank's batch, so a global step takes <c>ranks</c> batches.
/// <list type="bullet">
/// <item>An indexed source (<see cref="DataSource.Count"/> known) is the same on every rank: every rank draws the same
/// order of its batch indices (the same shuffle seed, rank 0's, as <see cref="ShardedBatches"/>), and of each run of
/// <c>ranks</c> consecutive indices rank r reads the r-th. A last global step with fewer batches than ranks gives the
/// ranks left without one a stand-in (the step's first batch, counting zero), so that every rank runs the same steps
/// and no batch is dropped; a rank reads only its own batches.</item>
/// <item>A sequence of unknown length (<see cref="DataSource.FromEnumerable"/>) is taken as this rank's own shard
/// (each rank's source gives its own batches, as with Horovod); every step starts with a one-value
/// <c>MPI_Allreduce</c> of whether each rank has a batch. In training, when any rank's source has run out, every rank
/// stops (the batches the others read are not trained on) and training ends with a warning, as Keras' "your input ran
/// out of data"; in evaluation the ranks go on until every source has ended, a rank whose source ended first running
/// its last batch again as a stand-in that counts zero.</item>
/// </list>
/// </summary>
internal sealed class ShardedSource : BatchIterator
{
    private readonly Model model;
    private readonly SourceBatches inner;
    private readonly int? total;
    private readonly int rank;
    private readonly int ranks;
    private readonly bool training;

    private ShardedSource(Model model, SourceBatches inner, int steps, int? total, DataParallel distribution, bool training)
        : base(steps)
    {
        this.model = model;
        this.inner = inner;
        this.total = total;
        rank = distribution.Rank;
        ranks = distribution.Size;
        this.training = training;
    }

    /// <summary>
    /// The global steps per pass: <paramref name="steps"/>, or, for an indexed source, its batches shared by the ranks
    /// (ceil(count / ranks)); for a sequence without steps, to the end of every rank's sequence when
    /// <paramref name="toTheEnd"/>. Also the count read. Checked before anything is exchanged.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A sequence of unknown length without <paramref name="steps"/> (unless
    /// <paramref name="toTheEnd"/>), a source without batches, or more steps than the source's batches make.</exception>
    public static (int Steps, int? Count) StepsFor(DataSource source, int? steps, string argument, int ranks, bool toTheEnd)
    {
        if (steps is < 1)
        {
            throw new ArgumentOutOfRangeException(argument, steps, $"{argument} must be at least 1.");
        }

        var count = source.ReadCount();
        return ((count, steps) switch
        {
            (null, null) when toTheEnd => int.MaxValue,
            (null, null) => throw new ArgumentException(
                $"{argument}: the data source's length is unknown (Count is null), so give {argument}: under a DataParallel distribution every rank reads {argument} batches of its own source per epoch, and all ranks run the same steps.", argument),
            (int batches, null) when batches < 1 => throw new ArgumentException($"the data source has no batches (Count is {batches}).", argument),
            (int batches, int wanted) when wanted > GlobalSteps(batches, ranks) => throw new ArgumentException(
                $"{argument} is {wanted}, but the data source's {batches} batches make {GlobalSteps(batches, ranks)} global steps of one batch per rank on {ranks} ranks.", argument),
            (_, int wanted) => wanted,
            (int batches, null) => GlobalSteps(batches, ranks),
        }, count);
    }

    /// <summary>
    /// Refuses, on every rank alike, an indexed source whose count differs between the ranks (every rank must hold the
    /// same indexed source), or a source indexed on some ranks and of unknown length on others. One
    /// <c>MPI_Allreduce</c>; call it on every rank before anything else is exchanged.
    /// </summary>
    /// <exception cref="ArgumentException">The counts differ.</exception>
    public static void RequireSameCount(int? count, string argument)
    {
        var own = count ?? -1;
        var values = new[] { (double)own, -(double)own };
        Mpi.Allreduce(values.AsSpan(), Mpi.Op.Max);
        if (values[0] != -values[1])
        {
            throw new ArgumentException(
                $"{argument}: the data source's Count differs between the ranks (from {-values[1]} to {values[0]}; -1 is unknown): under a DataParallel distribution an indexed source must be the same on every rank (each rank reads its share of every global step), and a source of unknown length must be one on every rank.", argument);
        }
    }

    /// <summary>Training batches: <paramref name="steps"/> global steps per epoch; an indexed source shuffled by <paramref name="random"/> (the same seed on every rank) when asked, its pass going on across epochs as in one process.</summary>
    public static ShardedSource ForTraining(Model model, DataSource source, int steps, int? count, bool shuffle, Random random, IReadOnlyList<Loss>? losses,
        IReadOnlyDictionary<int, double>? classWeight, DataParallel distribution, CancellationToken cancellationToken)
    {
        var total = count is int c ? Math.Min((long)steps * distribution.Size, c) : (long?)null;
        var inner = new SourceBatches(model, source,
            () => count is null ? source.Order(steps, false, random, count, carryOn: true) : Mine(source.Order((int)total!.Value, shuffle, random, count, carryOn: true), distribution),
            steps, "x", losses, classWeight, SourceBatches.RanOutInTraining(model), cancellationToken, training: true);
        return new ShardedSource(model, inner, steps, (int?)total, distribution, training: true);
    }

    /// <summary>Evaluation batches in order: <paramref name="steps"/> global steps at most (int.MaxValue: to the end of every rank's sequence).</summary>
    public static ShardedSource ForEvaluation(Model model, DataSource source, int steps, int? count, int? stepsGiven, string argument, string what, IReadOnlyList<Loss>? losses,
        DataParallel distribution, CancellationToken cancellationToken)
    {
        var total = count is int c ? (int)Math.Min((long)steps * distribution.Size, c) : (int?)null;
        var inner = new SourceBatches(model, source,
            () => count is null ? source.Order(steps, false, new Random(0), count) : Mine(source.Order(total!.Value, false, new Random(0), count), distribution),
            steps, argument, losses, null, SourceBatches.RanOut(stepsGiven, what), cancellationToken);
        return new ShardedSource(model, inner, steps, total, distribution, training: false);
    }

    /// <inheritdoc/>
    public override IEnumerable<DataSet> Batches(int epoch) => total is int count ? Indexed(epoch, count) : training ? SequenceTraining(epoch) : SequenceEvaluation(epoch);

    /// <inheritdoc/>
    public override void EndEpoch() => inner.EndEpoch();

    private static int GlobalSteps(int batches, int ranks) => (int)(((long)batches + ranks - 1) / ranks);

    /// <summary>This rank's indices of a pass: of each run of <c>ranks</c>, the rank-th; the first of a last, shorter run when it has none.</summary>
    private static IEnumerable<int> Mine(IEnumerable<int> pass, DataParallel distribution)
    {
        var run = new List<int>(distribution.Size);
        foreach (var index in pass)
        {
            run.Add(index);
            if (run.Count == distribution.Size)
            {
                yield return run[distribution.Rank];
                run.Clear();
            }
        }

        if (run.Count > 0)
        {
            yield return distribution.Rank < run.Count ? run[distribution.Rank] : run[0];
        }
    }

    private IEnumerable<DataSet> Indexed(int epoch, int count)
    {
        long step = 0;
        foreach (var batch in inner.Batches(epoch))
        {
            batch.StandIn = (step * ranks) + rank >= count;
            step++;
            yield return batch;
        }
    }

    private IEnumerable<DataSet> SequenceTraining(int epoch)
    {
        using var batches = inner.Batches(epoch).GetEnumerator();
        for (var step = 0; ; step++)
        {
            var have = batches.MoveNext();
            var all = new[] { have ? 1.0 : 0.0 };
            Mpi.Allreduce(all.AsSpan(), Mpi.Op.Min);
            if (all[0] == 0)
            {
                if (have)
                {
                    batches.Current.Dispose();
                    Warnings.Warn($"Fit: the input of another rank ran out of data after {step} batches of this epoch; training stops on every rank (all ranks run the same steps). Make every rank's source yield at least stepsPerEpoch x epochs batches.");
                    model.StopTraining = true;
                }

                yield break;
            }

            yield return batches.Current;
        }
    }

    private IEnumerable<DataSet> SequenceEvaluation(int epoch)
    {
        using var batches = inner.Batches(epoch).GetEnumerator();
        DataSet? last = null;
        var ended = false;
        try
        {
            while (true)
            {
                var have = !ended && batches.MoveNext();
                ended = !have;
                var any = new[] { have ? 1.0 : 0.0 };
                Mpi.Allreduce(any.AsSpan(), Mpi.Op.Max);
                if (any[0] == 0)
                {
                    yield break;
                }

                if (have)
                {
                    last?.Dispose();
                    last = batches.Current.Slice(0, batches.Current.Count);
                    yield return batches.Current;
                    continue;
                }

                if (last is null)
                {
                    throw new DataSourceException(
                        $"Data source: rank {rank}'s source gave no batch while other ranks' sources did; under a DataParallel distribution every rank's source of unknown length must give at least one batch.");
                }

                var standIn = last.Slice(0, last.Count);
                standIn.StandIn = true;
                yield return standIn;
            }
        }
        finally
        {
            last?.Dispose();
        }
    }
}
