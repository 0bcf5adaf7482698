using KerasStyle.Engine;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;
using static TorchSharp.torch;

namespace KerasStyle.Models;

/// <summary><c>Fit</c>, <c>Evaluate</c> and <c>Predict</c> on a <see cref="DataSource"/>: data read batch by batch, prepared ahead on background threads.</summary>
public partial class Model
{
    /// <summary>
    /// Trains on batches from <paramref name="x"/>, as Keras' <c>fit</c> on a <c>PyDataset</c>: each batch is read,
    /// converted and checked on the source's worker threads while the previous one trains, and disposed after its
    /// step, so memory does not grow with the data. A failure in the source, or a batch that does not fit the model,
    /// stops training with <see cref="DataSourceException"/> naming the batch. Every worker has stopped by then, or
    /// (one that ignores its cancellation token) is abandoned after <see cref="DataSource.StopTimeout"/>; see
    /// docs/training.md, "Stopping, errors and cancellation".
    /// </summary>
    /// <param name="x">The training batches (targets and optional sample weights in each).</param>
    /// <param name="epochs">The epoch index to stop at.</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line per epoch.</param>
    /// <param name="validationData">Batches evaluated after each epoch, or null.</param>
    /// <param name="shuffle">Whether to visit an indexed source's batches in a new random order each epoch (Keras
    /// shuffles the order of a <c>PyDataset</c>'s batches; to mix samples across batches, reshuffle them in
    /// <see cref="DataSource.OnEpochEnd"/>).</param>
    /// <param name="callbacks">Callbacks, called in order.</param>
    /// <param name="initialEpoch">The epoch to start from.</param>
    /// <param name="stepsPerEpoch">Batches per epoch: required for a source of unknown length; at most
    /// <see cref="DataSource.Count"/> otherwise (default: all of them).</param>
    /// <param name="validationSteps">Validation batches per evaluation (default: all of them; required for a validation
    /// source of unknown length, which is read across epochs as the training sequence is).</param>
    /// <param name="classWeight">A weight per class id, applied to every training batch as in the array form of
    /// <c>Fit</c> (a batch's own <see cref="DataBatch.SampleWeight"/> cannot be combined with it).</param>
    /// <param name="cancellationToken">Ends training between batches (also while a batch is awaited) with
    /// <see cref="OperationCanceledException"/>; the weights are those after the last completed step, and no
    /// <c>OnEpochEnd</c> or <c>OnTrainEnd</c> runs for the interrupted epoch (as Keras on an interrupt).</param>
    /// <returns>The per-epoch history.</returns>
    /// <exception cref="ArgumentException">Steps missing for a training source of unknown length, or more steps than batches.</exception>
    /// <exception cref="DataSourceException">The source failed (in <c>GetBatch</c>, <c>Count</c> or <c>OnEpochEnd</c>),
    /// its <c>Count</c> changed, or it gave a batch that does not fit the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public History Fit(DataSource x, int epochs = 1, int verbose = 1, DataSource? validationData = null, bool shuffle = true,
        IEnumerable<ICallback>? callbacks = null, int initialEpoch = 0, int? stepsPerEpoch = null, int? validationSteps = null,
        IReadOnlyDictionary<int, double>? classWeight = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireCompiled(nameof(Fit));
        CheckEpochArguments(epochs, initialEpoch, verbose);
        var (steps, count) = Steps(x, stepsPerEpoch, nameof(stepsPerEpoch), toTheEnd: false);
        var (validation, validationCount) = validationData is null ? (0, null) : Steps(validationData, validationSteps, nameof(validationSteps), toTheEnd: false);
        var userCallbacks = UserCallbacks(callbacks);

        using var exclusive = EnterTraining(nameof(Fit));
        using var threads = ThreadPolicy.Begin();
        using var seed = randint(0, int.MaxValue, new long[] { 1 }, generator: ShuffleRandom);
        var random = new Random((int)seed.item<long>());
        return RunFit(_ => SourceBatches(x, x.Order(steps, shuffle, random, count, carryOn: true), "x", classWeight, RanOutInTraining, cancellationToken, stoppable: true), steps, null, null,
            validationData is null ? null : () => SourceBatches(validationData, validationData.Order(validation, false, random, validationCount), nameof(validationData), null, RanOut(validation, nameof(validationData)), cancellationToken),
            epochs, verbose, userCallbacks, initialEpoch, cancellationToken, () => EndEpoch(x));
    }

    /// <summary>
    /// Set by a callback (or another thread) to stop <c>Fit</c> after the current batch or epoch (Keras'
    /// <c>stop_training</c>); a training batch being awaited from a <see cref="DataSource"/> is not waited for.
    /// </summary>
    public bool StopTraining
    {
        get => stopTraining;
        set
        {
            stopTraining = value;
            var signal = Volatile.Read(ref stopSignal);
            if (value)
            {
                signal.Cancel();
            }
            else if (signal.IsCancellationRequested)
            {
                Volatile.Write(ref stopSignal, new CancellationTokenSource());
            }
        }
    }

    private volatile bool stopTraining;

    /// <summary>Cancelled while <see cref="StopTraining"/> is set, so that the wait for a training batch ends.</summary>
    private CancellationTokenSource stopSignal = new();

    /// <summary>The source's <c>OnEpochEnd</c>, unless a batch it abandoned still runs (it is promised no batch runs then).</summary>
    private static void EndEpoch(DataSource source)
    {
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

    /// <summary>Evaluates the loss and metrics on batches from <paramref name="x"/>, in inference mode.</summary>
    /// <param name="x">The batches (with targets).</param>
    /// <param name="steps">Batches to evaluate (default: all; a source of unknown length is read to its end). A
    /// sequence that ends before <paramref name="steps"/> gives the result of the batches read, with a warning (Keras).</param>
    /// <param name="cancellationToken">Ends the evaluation between batches (also while a batch is awaited) with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The loss and metrics by name.</returns>
    /// <exception cref="DataSourceException">The source failed, or gave a batch that does not fit the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(DataSource x, int? steps = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireCompiled(nameof(Evaluate));
        var (batches, count) = Steps(x, steps, nameof(steps), toTheEnd: true);
        using var exclusive = EnterTraining(nameof(Evaluate));
        using var threads = ThreadPolicy.Begin();
        var result = EvaluateSet(SourceBatches(x, x.Order(batches, false, new Random(0), count), nameof(x), null, RanOut(steps, nameof(Evaluate)), cancellationToken), cancellationToken);
        return result.Count > 0 ? result : throw new ArgumentException("Evaluate: the data source gave no batches.", nameof(x));
    }

    /// <summary>Predicts on batches from <paramref name="x"/> (targets ignored), in inference mode, concatenating the outputs.</summary>
    /// <param name="x">The batches.</param>
    /// <param name="steps">Batches to predict (default: all; a source of unknown length is read to its end). A
    /// sequence that ends before <paramref name="steps"/> gives the predictions of the batches read, with a warning.</param>
    /// <param name="cancellationToken">Ends the prediction between batches (also while a batch is awaited) with <see cref="OperationCanceledException"/>.</param>
    /// <returns>One float array per output, the batches' samples in order.</returns>
    /// <exception cref="DataSourceException">The source failed, or gave a batch that does not fit the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyList<Array> Predict(DataSource x, int? steps = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ThrowIfDisposed();
        _ = Topology;
        var (batches, count) = Steps(x, steps, nameof(steps), toTheEnd: true);
        var parts = outputs.Select(_ => new List<Tensor>()).ToArray();
        try
        {
            foreach (var batch in Prefetched(x, x.Order(batches, false, new Random(0), count), b => PrepareInputs(b, nameof(x)), RanOut(steps, nameof(Predict)), cancellationToken))
            {
                using (batch)
                {
                    var predicted = PredictChecked(batch.Inputs, (int)Math.Max(1, batch.Count), cancellationToken);
                    for (var o = 0; o < predicted.Count; o++)
                    {
                        parts[o].Add(predicted[o]);
                    }
                }
            }

            if (parts[0].Count == 0)
            {
                throw new ArgumentException($"Predict: the data source gave no batches.", nameof(x));
            }

            return parts.Select(p =>
            {
                using var all = cat(p, 0);
                return TensorData.ToArray(all);
            }).ToArray();
        }
        finally
        {
            foreach (var part in parts.SelectMany(p => p))
            {
                part.Dispose();
            }
        }
    }

    /// <summary>A source's batches through a prefetcher; disposing the enumeration stops its threads.</summary>
    private IEnumerable<DataSet> SourceBatches(DataSource source, IEnumerable<int> order, string argument, IReadOnlyDictionary<int, double>? classWeight, Action<int> ranOut,
        CancellationToken cancellationToken, bool stoppable = false) =>
        Prefetched(source, order, batch => PrepareBatch(batch, argument, classWeight), ranOut, cancellationToken, stoppable);

    /// <summary>
    /// Prepared batches in order; when a sequence source ends first, <paramref name="ranOut"/> gets the number of
    /// batches this pass read and the enumeration ends. The wait for a batch ends with
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires, and, when
    /// <paramref name="stoppable"/> (training batches), ends the enumeration when <see cref="StopTraining"/> is set.
    /// </summary>
    private IEnumerable<DataSet> Prefetched(DataSource source, IEnumerable<int> order, Func<DataBatch, DataSet> prepare, Action<int> ranOut,
        CancellationToken cancellationToken, bool stoppable = false)
    {
        using var prefetcher = new BatchPrefetcher<DataSet>(source, order, prepare);
        for (var read = 0; ; read++)
        {
            DataSet? batch;
            try
            {
                batch = NextBatch(prefetcher, cancellationToken, stoppable);
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

    /// <summary>The next batch, or null at the end or, for a stoppable pass, when <see cref="StopTraining"/> is set while it is awaited.</summary>
    private DataSet? NextBatch(BatchPrefetcher<DataSet> prefetcher, CancellationToken cancellationToken, bool stoppable)
    {
        while (true)
        {
            if (!stoppable)
            {
                return prefetcher.Next(cancellationToken);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Volatile.Read(ref stopSignal).Token);
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
                if (StopTraining)
                {
                    return null;
                }

                // Set and cleared again while waiting: wait on for the same batch.
            }
        }
    }

    /// <summary>A training sequence ran out: stop, as Keras' "Your input ran out of data; interrupting training".</summary>
    private void RanOutInTraining(int read)
    {
        Warnings.Warn($"Fit: the input ran out of data after {read} batches of this epoch; training stops. Make the source yield at least stepsPerEpoch x epochs batches.");
        StopTraining = true;
    }

    /// <summary>Warns when a sequence ends before the steps asked for; reading to the end when no steps were given is silent.</summary>
    private static Action<int> RanOut(int? steps, string what) => read =>
    {
        if (steps is not null)
        {
            Warnings.Warn($"{what}: the input ran out of data after {read} of {steps} batches; the result covers the batches read.");
        }
    };

    /// <summary>Converts and checks one supplied batch, as Fit checks arrays (on a worker thread).</summary>
    private DataSet PrepareBatch(DataBatch? batch, string argument, IReadOnlyDictionary<int, double>? classWeight)
    {
        var given = batch ?? throw new ArgumentException($"{argument}: GetBatch returned null instead of a DataBatch.", argument);
        _ = given.X ?? throw new ArgumentException($"{argument}: the batch has no inputs (DataBatch.X is null).", argument);
        var y = given.Y ?? throw new ArgumentException($"{argument}: the batch has no targets (DataBatch.Y), which training and evaluation need.", argument);
        var data = Prepare(given.X, y, $"{argument}.X", $"{argument}.Y", given.SampleWeight, classWeight);
        if (data.Count == 0)
        {
            data.Dispose();
            throw new ArgumentException($"{argument}: the batch is empty.", argument);
        }

        return data;
    }

    /// <summary>Converts and checks the inputs of one supplied batch, for Predict.</summary>
    private DataSet PrepareInputs(DataBatch? batch, string argument)
    {
        var given = batch ?? throw new ArgumentException($"{argument}: GetBatch returned null instead of a DataBatch.", argument);
        _ = given.X ?? throw new ArgumentException($"{argument}: the batch has no inputs (DataBatch.X is null).", argument);
        var owned = new List<Tensor>();
        try
        {
            var inputs = Convert(given.X, inputs: true, $"{argument}.X", owned);
            CheckInputTensors(inputs, $"{argument}.X");
            return new DataSet(inputs, Array.Empty<Tensor>(), owned);
        }
        catch
        {
            owned.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary>
    /// The batches to read: <paramref name="steps"/>, or the source's count; for a sequence of unknown length without
    /// steps, to its end when <paramref name="toTheEnd"/>. Also the count read, which must not change during the call.
    /// </summary>
    private static (int Steps, int? Count) Steps(DataSource source, int? steps, string argument, bool toTheEnd)
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
}
