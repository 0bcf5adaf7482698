using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;

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
    /// <exception cref="ArgumentException">Steps missing for a training source of unknown length, or more steps than
    /// batches (under a distribution: than ceil(Count / ranks)), or, under a distribution, an indexed source whose Count
    /// differs between the ranks.</exception>
    /// <exception cref="DataSourceException">The source failed (in <c>GetBatch</c>, <c>Count</c> or <c>OnEpochEnd</c>),
    /// its <c>Count</c> changed, or it gave a batch that does not fit the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>Under a <see cref="Distributed.DataParallel"/> distribution a source batch is one rank's batch and a step
    /// trains on one batch per rank (docs/scaling.md): an indexed source is the same on every rank, which reads every
    /// ranks-th batch of the same (shuffled) order, and an epoch has ceil(Count / ranks) steps, or
    /// <paramref name="stepsPerEpoch"/> (at most that many); a source of unknown length is each rank's own shard and
    /// needs <paramref name="stepsPerEpoch"/>, and when any rank's source runs out every rank stops with it. Validation
    /// batches are shared out likewise. An exception on any rank after the checks aborts the job.</remarks>
    public History Fit(DataSource x, int epochs = 1, int verbose = 1, DataSource? validationData = null, bool shuffle = true,
        IEnumerable<ICallback>? callbacks = null, int initialEpoch = 0, int? stepsPerEpoch = null, int? validationSteps = null,
        IReadOnlyDictionary<int, double>? classWeight = null, CancellationToken cancellationToken = default)
        => Trainer.Fit(x, epochs, verbose, validationData, shuffle, callbacks, initialEpoch, stepsPerEpoch, validationSteps, classWeight, cancellationToken);

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

    /// <summary>Ends the wait for a training batch while <see cref="StopTraining"/> is set.</summary>
    internal CancellationToken StopToken => Volatile.Read(ref stopSignal).Token;

    /// <summary>Evaluates the loss and metrics on batches from <paramref name="x"/>, in inference mode.</summary>
    /// <param name="x">The batches (with targets).</param>
    /// <param name="steps">Batches to evaluate (default: all; a source of unknown length is read to its end). A
    /// sequence that ends before <paramref name="steps"/> gives the result of the batches read, with a warning (Keras).</param>
    /// <param name="cancellationToken">Ends the evaluation between batches (also while a batch is awaited) with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The loss and metrics by name.</returns>
    /// <exception cref="DataSourceException">The source failed, or gave a batch that does not fit the model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <remarks>Under a <see cref="Distributed.DataParallel"/> distribution each rank evaluates its share of the batches
    /// (an indexed source: every ranks-th batch; a source of unknown length: its own batches, the ranks going on until
    /// every rank's source has ended) and every rank returns the values of all ranks' batches (see <c>Fit</c>).</remarks>
    public IReadOnlyDictionary<string, double> Evaluate(DataSource x, int? steps = null, CancellationToken cancellationToken = default)
        => Trainer.Evaluate(x, steps, cancellationToken);

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
        return Trainer.Predict(x, steps, cancellationToken);
    }
}
