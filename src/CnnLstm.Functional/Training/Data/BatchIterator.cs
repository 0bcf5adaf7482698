using KerasStyle.Engine;
using KerasStyle.Models;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Data;

/// <summary>
/// The batches of checked data that the <see cref="Trainer"/>'s loops run, whatever the data came as, as Keras'
/// <c>EpochIterator</c> over a data adapter (keras/src/trainers/epoch_iterator.py): arrays and tensors
/// (<see cref="ArrayBatches"/>) and a <see cref="DataSource"/> (<see cref="SourceBatches"/>). Each batch handed out is
/// the receiver's to dispose, after its step.
/// </summary>
/// <param name="steps">Batches per epoch.</param>
internal abstract class BatchIterator(int steps)
{
    /// <summary>Batches per epoch (Keras' <c>params["steps"]</c>).</summary>
    public int Steps => steps;

    /// <summary>The number of samples when known (Keras' <c>params["samples"]</c>).</summary>
    public virtual long? Samples => null;

    /// <summary>The batch size when fixed (Keras' <c>params["batch_size"]</c>).</summary>
    public virtual int? BatchSize => null;

    /// <summary>The batches of one pass: an epoch of <c>Fit</c>, or an evaluation or prediction.</summary>
    /// <param name="epoch">The epoch, from 0.</param>
    public abstract IEnumerable<DataSet> Batches(int epoch);

    /// <summary>Called by <c>Fit</c> after each epoch's validation, before the callbacks' <c>OnEpochEnd</c>.</summary>
    public virtual void EndEpoch()
    {
    }
}

/// <summary>Batches of data held in memory (converted from arrays or tensors by the <see cref="InputAdapter"/>).</summary>
internal sealed class ArrayBatches : BatchIterator
{
    private readonly DataSet data;
    private readonly int batchSize;
    private readonly Func<Generator>? shuffleRandom;
    private readonly bool training;

    private ArrayBatches(DataSet data, int batchSize, bool training, Func<Generator>? shuffleRandom)
        : base((int)((data.Count + batchSize - 1) / batchSize))
    {
        this.data = data;
        this.batchSize = batchSize;
        this.training = training;
        this.shuffleRandom = shuffleRandom;
    }

    /// <inheritdoc/>
    public override long? Samples => data.Count;

    /// <inheritdoc/>
    public override int? BatchSize => batchSize;

    /// <summary>Consecutive batches in order, as views that share <paramref name="data"/>'s memory (evaluation, validation).</summary>
    public static ArrayBatches InOrder(DataSet data, int batchSize) => new(data, batchSize, training: false, null);

    /// <summary>Training batches, copied: the samples in a new random order each epoch when <paramref name="shuffleRandom"/> is given, in order otherwise.</summary>
    /// <param name="data">The training samples (not owned).</param>
    /// <param name="batchSize">Samples per batch; the last may be smaller.</param>
    /// <param name="shuffleRandom">The model's shuffle generator (read only when shuffling), or null.</param>
    public static ArrayBatches ForTraining(DataSet data, int batchSize, Func<Generator>? shuffleRandom) => new(data, batchSize, training: true, shuffleRandom);

    /// <inheritdoc/>
    public override IEnumerable<DataSet> Batches(int epoch) => training ? Shuffled() : Slices();

    private IEnumerable<DataSet> Shuffled()
    {
        using var order = shuffleRandom is null ? Scalars.WithInt(data.Count, count => arange(Scalars.OfInt(0), count, Scalars.IntOne)) : randperm(data.Count, generator: shuffleRandom());
        for (long start = 0; start < data.Count; start += batchSize)
        {
            using var indices = order.narrow(0, start, Math.Min(batchSize, data.Count - start));
            yield return data.Take(indices);
        }
    }

    private IEnumerable<DataSet> Slices()
    {
        for (long start = 0; start < data.Count; start += batchSize)
        {
            yield return data.Slice(start, Math.Min(batchSize, data.Count - start));
        }
    }
}

/// <summary>
/// Batches read from a <see cref="DataSource"/> and checked by the <see cref="InputAdapter"/> on its worker threads
/// (<see cref="BatchPrefetcher{T}"/>), while the previous batch runs; disposing an enumeration stops its threads.
/// </summary>
internal sealed class SourceBatches : BatchIterator
{
    private readonly Model model;
    private readonly DataSource source;
    private readonly Func<IEnumerable<int>> order;
    private readonly Func<DataBatch, DataSet> prepare;
    private readonly Action<int> ranOut;
    private readonly CancellationToken cancellationToken;
    private readonly bool training;

    /// <summary>Creates the batches of one call.</summary>
    /// <param name="model">The model run on them (its adapter checks them; its <see cref="Model.StopTraining"/> ends a training pass).</param>
    /// <param name="source">The source.</param>
    /// <param name="order">The batch indices of one pass, read when the pass starts (<see cref="DataSource.Order"/>).</param>
    /// <param name="steps">Batches per pass.</param>
    /// <param name="argument">The source's argument name, for messages.</param>
    /// <param name="losses">The compiled losses, or null when the batches feed <c>Predict</c> (targets ignored).</param>
    /// <param name="classWeight">Fit's class weights, or null.</param>
    /// <param name="ranOut">Told how many batches a pass read when a sequence source ended first.</param>
    /// <param name="cancellationToken">Ends the wait for a batch.</param>
    /// <param name="training">Training batches: the wait ends when <see cref="Model.StopTraining"/> is set, and
    /// <see cref="EndEpoch"/> calls the source's <see cref="DataSource.OnEpochEnd"/>.</param>
    public SourceBatches(Model model, DataSource source, Func<IEnumerable<int>> order, int steps, string argument, IReadOnlyList<Loss>? losses,
        IReadOnlyDictionary<int, double>? classWeight, Action<int> ranOut, CancellationToken cancellationToken, bool training = false)
        : base(steps)
    {
        this.model = model;
        this.source = source;
        this.order = order;
        this.ranOut = ranOut;
        this.cancellationToken = cancellationToken;
        this.training = training;
        var adapter = model.Trainer.Adapter;
        prepare = batch => adapter.PrepareBatch(batch, argument, losses, classWeight);
    }

    /// <summary>
    /// The batches to read: <paramref name="steps"/>, or the source's count; for a sequence of unknown length without
    /// steps, to its end when <paramref name="toTheEnd"/>. Also the count read, which must not change during the call.
    /// </summary>
    public static (int Steps, int? Count) StepsFor(DataSource source, int? steps, string argument, bool toTheEnd)
    {
        if (steps is < 1)
        {
            throw new ArgumentOutOfRangeException(argument, steps, $"{argument} must be at least 1.");
        }

        var count = source.ReadCount();
        return ((count, steps) switch
        {
            (null, null) when toTheEnd => int.MaxValue,
            (null, null) => throw new ArgumentException($"{argument}: the data source's length is unknown (Count is null), so give {argument}.", argument),
            (int batches, int wanted) when wanted > batches => throw new ArgumentException($"{argument} is {wanted}, but the data source has {batches} batches.", argument),
            (int batches, null) when batches < 1 => throw new ArgumentException($"the data source has no batches (Count is {batches}).", argument),
            (_, int wanted) => wanted,
            (int batches, null) => batches,
        }, count);
    }

    /// <summary>Warns when a sequence ends before the steps asked for; reading to the end when no steps were given is silent.</summary>
    public static Action<int> RanOut(int? steps, string what) => read =>
    {
        if (steps is not null)
        {
            Warnings.Warn($"{what}: the input ran out of data after {read} of {steps} batches; the result covers the batches read.");
        }
    };

    /// <summary>A training sequence ran out: stop, as Keras' "Your input ran out of data; interrupting training".</summary>
    public static Action<int> RanOutInTraining(Model model) => read =>
    {
        Warnings.Warn($"Fit: the input ran out of data after {read} batches of this epoch; training stops. Make the source yield at least stepsPerEpoch x epochs batches.");
        model.StopTraining = true;
    };

    /// <summary>
    /// Prepared batches in order; when a sequence source ends first, the enumeration ends after telling how many
    /// batches this pass read. The wait for a batch ends with <see cref="OperationCanceledException"/> when the token
    /// fires, and, for training batches, ends the enumeration when <see cref="Model.StopTraining"/> is set.
    /// </summary>
    public override IEnumerable<DataSet> Batches(int epoch) => Read(order());

    private IEnumerable<DataSet> Read(IEnumerable<int> indices)
    {
        using var prefetcher = new BatchPrefetcher<DataSet>(source, indices, prepare);
        for (var read = 0; ; read++)
        {
            DataSet? batch;
            try
            {
                batch = Next(prefetcher);
            }
            catch (EndOfDataException)
            {
                ranOut(read);
                yield break;
            }

            if (batch is null)
            {
                yield break;
            }

            yield return batch;
        }
    }

    /// <summary>The source's <c>OnEpochEnd</c> after a training epoch, unless a batch it abandoned still runs (it is promised no batch runs then).</summary>
    public override void EndEpoch()
    {
        if (!training)
        {
            return;
        }

        if (source.HasAbandoned)
        {
            Warnings.Warn($"Fit: {source.GetType().Name}.OnEpochEnd is not called, because a GetBatch abandoned when the epoch stopped still runs.");
            return;
        }

        try
        {
            source.OnEpochEnd();
        }
        catch (Exception e)
        {
            throw new DataSourceException($"Data source {source.GetType().Name}: OnEpochEnd threw: {e.Message}", e);
        }
    }

    /// <summary>The next batch, or null at the end or, for training, when <see cref="Model.StopTraining"/> is set while it is awaited.</summary>
    private DataSet? Next(BatchPrefetcher<DataSet> prefetcher)
    {
        while (true)
        {
            if (!training)
            {
                return prefetcher.Next(cancellationToken);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, model.StopToken);
            try
            {
                return prefetcher.Next(wait.Token);
            }
            catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(e.Message, e, cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                if (model.StopTraining)
                {
                    return null;
                }

                // Set and cleared again while waiting: wait on for the same batch.
            }
        }
    }
}
