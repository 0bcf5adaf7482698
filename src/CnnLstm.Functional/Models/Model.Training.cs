using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Models;

/// <summary>
/// Training and evaluation, as Keras' <c>compile</c>, <c>fit</c>, <c>evaluate</c>, <c>train_on_batch</c>: the public
/// surface; the loops run in <see cref="Trainer"/>, the data checks in <see cref="InputAdapter"/>.
/// </summary>
public partial class Model
{
    private bool ownsOptimizer;
    private Trainer? trainer;

    /// <summary>The loops of Fit, Evaluate, TrainOnBatch and Predict, the input adapter and the compiled losses and metrics (made on first use).</summary>
    internal Trainer Trainer => trainer ?? Interlocked.CompareExchange(ref trainer, new Trainer(this), null) ?? trainer;

    /// <summary>Raised after every training batch and every epoch of <c>Fit</c>.</summary>
    public event EventHandler<TrainingProgressEventArgs>? TrainingProgress;

    /// <summary>The optimizer set by <c>Compile</c>, or null before.</summary>
    public Optimizer? Optimizer { get; private set; }

    /// <summary>Whether <c>Compile</c> has been called.</summary>
    public bool IsCompiled => Optimizer is not null;

    /// <summary>
    /// Set by a callback in <c>OnTrainBegin</c> (BackupAndRestore) to start <c>Fit</c> at this epoch instead of
    /// <c>initialEpoch</c> (the later of the two wins); cleared when <c>Fit</c> starts and once read.
    /// </summary>
    internal int? ResumeEpoch { get; set; }

    /// <summary>The names of the values <c>Fit</c> logs and <c>Evaluate</c> returns, <c>loss</c> first.</summary>
    public IReadOnlyList<string> MetricsNames => Trainer.LogNames;

    /// <summary>Configures training with Keras names, e.g. <c>Compile("adam", "binary_crossentropy", new[] { "accuracy" })</c>.</summary>
    /// <param name="optimizer"><c>adam</c>, <c>sgd</c> or <c>rmsprop</c>, with Keras defaults.</param>
    /// <param name="loss">A Keras loss name, applied to every output.</param>
    /// <param name="metrics">Metric names (<see cref="Metric.Known"/>), computed without sample weights, as Keras' <c>metrics</c>.</param>
    /// <param name="weightedMetrics">Metric names computed with <c>sampleWeight</c> / <c>classWeight</c>, as Keras'
    /// <c>weighted_metrics</c>; logged after <paramref name="metrics"/>, as <c>weighted_</c> + name where the name is taken.</param>
    public void Compile(string optimizer, string loss, IEnumerable<string>? metrics = null, IEnumerable<string>? weightedMetrics = null) =>
        CompileOwned(OptimizerNames.Create(optimizer), LossNames.Create(loss), Specs(metrics), Specs(weightedMetrics));

    /// <summary>Configures training with an optimizer object and a loss name.</summary>
    /// <param name="optimizer">The optimizer, e.g. <c>new Adam(learningRate: 1e-3)</c>.</param>
    /// <param name="loss">A Keras loss name.</param>
    /// <param name="metrics">Metric names.</param>
    /// <param name="weightedMetrics">Metric names computed with sample weights.</param>
    public void Compile(Optimizer optimizer, string loss, IEnumerable<string>? metrics = null, IEnumerable<string>? weightedMetrics = null) =>
        Compile(optimizer, LossNames.Create(loss), Specs(metrics), Specs(weightedMetrics), ownsOptimizer: false);

    /// <summary>Configures training with an optimizer name and a loss object.</summary>
    /// <param name="optimizer">A Keras optimizer name.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="metrics">Metric names.</param>
    /// <param name="weightedMetrics">Metric names computed with sample weights.</param>
    public void Compile(string optimizer, Loss loss, IEnumerable<string>? metrics = null, IEnumerable<string>? weightedMetrics = null) =>
        CompileOwned(OptimizerNames.Create(optimizer), loss, Specs(metrics), Specs(weightedMetrics));

    /// <summary>Configures training with objects.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="loss">The loss, applied to every output.</param>
    /// <param name="metrics">Metric names.</param>
    /// <param name="weightedMetrics">Metric names computed with sample weights.</param>
    public void Compile(Optimizer optimizer, Loss loss, IEnumerable<string>? metrics = null, IEnumerable<string>? weightedMetrics = null) =>
        Compile(optimizer, loss, Specs(metrics), Specs(weightedMetrics), ownsOptimizer: false);

    /// <summary>
    /// Configures training with metric objects, as Keras' <c>compile(metrics=[...])</c>: names convert, e.g.
    /// <c>Compile("adam", loss, new Metric[] { "accuracy", new AUC(curve: "PR", name: "pr_auc") })</c>; each metric is
    /// logged under its <see cref="Metric.Name"/>.
    /// </summary>
    /// <param name="optimizer">A Keras optimizer name.</param>
    /// <param name="loss">The loss, applied to every output.</param>
    /// <param name="metrics">Metrics computed without sample weights.</param>
    /// <param name="weightedMetrics">Metrics computed with sample weights.</param>
    /// <exception cref="ArgumentException">An unknown metric name, or a metric whose arguments do not fit an output.</exception>
    public void Compile(string optimizer, Loss loss, IEnumerable<Metric> metrics, IEnumerable<Metric>? weightedMetrics = null) =>
        CompileOwned(OptimizerNames.Create(optimizer), loss, metrics?.ToArray(), weightedMetrics?.ToArray());

    /// <summary>Configures training with an optimizer, a loss and metric objects (see the overload with an optimizer name).</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="loss">The loss, applied to every output.</param>
    /// <param name="metrics">Metrics computed without sample weights.</param>
    /// <param name="weightedMetrics">Metrics computed with sample weights.</param>
    /// <exception cref="ArgumentException">An unknown metric name, or a metric whose arguments do not fit an output.</exception>
    public void Compile(Optimizer optimizer, Loss loss, IEnumerable<Metric> metrics, IEnumerable<Metric>? weightedMetrics = null) =>
        Compile(optimizer, loss, metrics?.ToArray(), weightedMetrics?.ToArray(), ownsOptimizer: false);

    /// <summary>Compiles with an optimizer the model created, and so disposes with itself.</summary>
    private protected void CompileOwned(Optimizer optimizer, Loss loss, Metric?[]? metrics, Metric?[]? weightedMetrics = null)
    {
        try
        {
            Compile(optimizer, loss, metrics, weightedMetrics, ownsOptimizer: true);
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    private static Metric?[]? Specs(IEnumerable<string>? names) => names?.Select(n => (Metric?)n).ToArray();

    private void Compile(Optimizer optimizer, Loss loss, Metric?[]? metrics, Metric?[]? weightedMetrics, bool ownsOptimizer)
    {
        ThrowIfDisposed();
        // Compile replaces (and may dispose) the optimizer another thread's Fit could be using.
        using var exclusive = EnterTraining(nameof(Compile));
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        _ = Topology; // a model without a graph (an empty Sequential) cannot be compiled
        var specs = metrics ?? Array.Empty<Metric>();
        var weightedSpecs = weightedMetrics ?? Array.Empty<Metric>();
        if (specs.Concat(weightedSpecs).Any(m => m is null))
        {
            throw new ArgumentNullException(nameof(metrics), "Compile: a metric is null.");
        }

        Trainer.Compile(loss, specs.Select(m => m!).ToArray(), weightedSpecs.Select(m => m!).ToArray());
        if (this.ownsOptimizer && !ReferenceEquals(Optimizer, optimizer))
        {
            Optimizer?.Dispose();
        }

        Optimizer = optimizer;
        this.ownsOptimizer = ownsOptimizer;
    }

    /// <summary>
    /// Trains the model, as Keras' <c>fit</c>. Everything is checked before any weight changes. Under a
    /// <see cref="Distributed.DataParallel"/> distribution (<see cref="Distributed.Distribution.SetDistribution"/>) it
    /// trains across the MPI ranks: <paramref name="batchSize"/> is per rank, each step's gradients and logged values
    /// are those of the global batch of batchSize x ranks, and an exception on any rank aborts the job (docs/scaling.md).
    /// </summary>
    /// <param name="x">Inputs: one array or tensor per model input (float[,,] sequences, int[,]/long[,] token ids).</param>
    /// <param name="y">Targets: one per output (float[] or float[,] for a (None, 1) output; class ids for sparse losses).</param>
    /// <param name="batchSize">Samples per gradient update; the last batch may be smaller.</param>
    /// <param name="epochs">The epoch index to stop at (training runs epochs <paramref name="initialEpoch"/> to epochs - 1).</param>
    /// <param name="verbose">0 silent, 1 progress bar (one line per epoch when output is redirected), 2 one line per epoch.</param>
    /// <param name="validationData">Data evaluated at the end of each epoch; wins over <paramref name="validationSplit"/>.</param>
    /// <param name="validationSplit">Fraction in [0, 1) of the samples, taken from the end before shuffling, used for validation.</param>
    /// <param name="shuffle">Whether to shuffle the training samples each epoch.</param>
    /// <param name="callbacks">Callbacks, called in order.</param>
    /// <param name="initialEpoch">The epoch to start from (for resuming).</param>
    /// <param name="sampleWeight">Weights (finite, non-negative; float, double, int or long), as Keras' <c>sample_weight</c>:
    /// one per sample, shape (samples,), or, as Keras 3.16, one per sample and step for a sequence output, shape
    /// (samples, steps) (or (samples, steps, 1), (samples, 1)): the loss is the sum of each entry's loss times its
    /// weight over the number of entries (Keras 3's <c>sum_over_batch_size</c>; the loss's reduction decides), and
    /// metrics are weighted means (or weighted counts); applies to every output. Per-sample weights on a sequence
    /// output weigh each of its steps, as tf.keras 2 (Keras 3.16 raises a broadcast error there); weights of rank 2 or
    /// more follow Keras 3.16's rules, the output's mask included (<see cref="Training.Losses.Loss"/>).</param>
    /// <param name="classWeight">A weight per class id, as Keras' <c>class_weight</c>: each sample weighs its target's
    /// class (the argmax of a one-hot target, the rounded value of a single-unit target); classes not listed weigh 1.
    /// Single-output models only, and not together with <paramref name="sampleWeight"/> (as Keras).</param>
    /// <param name="cancellationToken">Ends training between batches with <see cref="OperationCanceledException"/>;
    /// the weights are those after the last completed step, and no <c>OnEpochEnd</c> or <c>OnTrainEnd</c> runs for
    /// the interrupted epoch (as Keras on an interrupt).</param>
    /// <returns>The per-epoch history.</returns>
    /// <exception cref="ArgumentException">Mismatched sample counts, shapes or weights (named, with the shapes), or
    /// both <paramref name="sampleWeight"/> and <paramref name="classWeight"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public History Fit(ModelData x, ModelData y, int batchSize = 32, int epochs = 1, int verbose = 1,
        (ModelData X, ModelData Y)? validationData = null, double validationSplit = 0.0, bool shuffle = true,
        IEnumerable<ICallback>? callbacks = null, int initialEpoch = 0, Array? sampleWeight = null, IReadOnlyDictionary<int, double>? classWeight = null,
        CancellationToken cancellationToken = default)
        => Trainer.Fit(x, y, batchSize, epochs, verbose, validationData, validationSplit, shuffle, callbacks, initialEpoch, sampleWeight, classWeight, cancellationToken);

    /// <summary>Evaluates the loss and metrics in inference mode (dropout off), as Keras' <c>evaluate</c>.</summary>
    /// <param name="x">Inputs, one per model input.</param>
    /// <param name="y">Targets, one per output.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="sampleWeight">Weights per sample (or per sample and step), as in <c>Fit</c>.</param>
    /// <param name="cancellationToken">Ends the evaluation between batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The loss (the mean over batches weighted by batch size) and the metrics over all samples, by name;
    /// under a <see cref="Distributed.DataParallel"/> distribution each rank evaluates its part of every batch of
    /// batchSize x ranks and every rank returns the values of all samples.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(ModelData x, ModelData y, int batchSize = 32, Array? sampleWeight = null, CancellationToken cancellationToken = default)
        => Trainer.Evaluate(x, y, batchSize, sampleWeight, cancellationToken);

    /// <summary>
    /// One gradient update on one batch, as Keras' <c>train_on_batch</c>. Under a <see cref="Distributed.DataParallel"/>
    /// distribution every rank calls it with its own batch (Horovod's semantics): the gradients are averaged over the
    /// ranks weighted by each rank's sample count (the gradient of the ranks' batches together, as in <c>Fit</c>), every
    /// rank applies the same update, and the returned values are those of all ranks' samples together. The first call
    /// under a distribution broadcasts rank 0's weights and optimizer state (as <c>Fit</c> does at its start); a batch
    /// refused on any rank is refused on every rank before anything changes; an exception in the step aborts the job.
    /// </summary>
    /// <param name="x">Inputs, one per model input.</param>
    /// <param name="y">Targets, one per output.</param>
    /// <param name="sampleWeight">Weights of the batch's samples (or samples and steps), as Keras' <c>sample_weight</c>,
    /// with the rules of <c>Fit</c>'s; under a distribution, each rank's weights for its own batch.</param>
    /// <param name="classWeight">A weight per class id, as Keras' <c>class_weight</c>, with the rules of <c>Fit</c>'s
    /// (single-output models, one class per sample); not together with <paramref name="sampleWeight"/>.</param>
    /// <returns>The batch's loss and metrics by name, computed before the update.</returns>
    /// <exception cref="ArgumentException">Mismatched or empty data or weights (under a distribution: on any rank), or
    /// both <paramref name="sampleWeight"/> and <paramref name="classWeight"/>.</exception>
    public IReadOnlyDictionary<string, double> TrainOnBatch(ModelData x, ModelData y, Array? sampleWeight = null, IReadOnlyDictionary<int, double>? classWeight = null)
        => Trainer.TrainOnBatch(x, y, sampleWeight, classWeight);

    /// <summary>
    /// The loss and metrics of one batch in inference mode (dropout off), as Keras' <c>test_on_batch</c>; no weight
    /// changes. Under a <see cref="Distributed.DataParallel"/> distribution every rank calls it with its own batch and
    /// every rank returns the values of all ranks' samples together (the metrics' statistics summed over the ranks);
    /// a batch refused on any rank is refused on every rank.
    /// </summary>
    /// <param name="x">Inputs, one per model input.</param>
    /// <param name="y">Targets, one per output.</param>
    /// <param name="sampleWeight">Weights of the batch's samples (or samples and steps), as Keras' <c>sample_weight</c>,
    /// with the rules of <c>Fit</c>'s; under a distribution, each rank's weights for its own batch.</param>
    /// <returns>The loss and metrics by name.</returns>
    /// <exception cref="InvalidOperationException">The model is not compiled.</exception>
    /// <exception cref="ArgumentException">Mismatched or empty data or weights (under a distribution: on any rank).</exception>
    public IReadOnlyDictionary<string, double> TestOnBatch(ModelData x, ModelData y, Array? sampleWeight = null)
        => Trainer.TestOnBatch(x, y, sampleWeight);

    /// <summary>Throws unless the model is compiled for <paramref name="method"/> (and, for training, has one loss value to train on).</summary>
    internal void RequireCompiled(string method)
    {
        ThrowIfDisposed();
        if (!IsCompiled)
        {
            throw new InvalidOperationException($"Model '{Name}': call Compile(optimizer, loss, metrics) before {method}.");
        }

        if (method is nameof(Fit) or nameof(TrainOnBatch) && Trainer.Losses!.FirstOrDefault(l => l.Unreduced) is { } unreduced)
        {
            // Keras' torch trainer fails there too ("grad can be implicitly created only for scalar outputs").
            throw new InvalidOperationException($"Model '{Name}': {method} needs one loss value to train on, but the loss {unreduced.Name} has reduction {unreduced.Reduction ?? "None"}, which keeps one loss per entry; use it with Evaluate, or compile with another reduction.");
        }
    }

    /// <summary>
    /// Marks the model busy with a call that runs or changes its weights. A second such call from another thread is
    /// refused (two concurrent Fit calls ended the process with SIGSEGV); the same thread may nest calls, as a
    /// callback that evaluates or saves during Fit does.
    /// </summary>
    internal TrainingScope EnterTraining(string method)
    {
        ThrowIfDisposed();
        var thread = Environment.CurrentManagedThreadId;
        var owner = Interlocked.CompareExchange(ref training, thread, 0);
        if (owner == DisposedOwner)
        {
            ThrowIfDisposed();
        }

        if (owner != 0 && owner != thread)
        {
            throw new InvalidOperationException($"Model '{Name}': {method} was called while Fit, Evaluate, TrainOnBatch or a weights load or save runs on another thread; these calls cannot overlap on one model. Predict may run beside them.");
        }

        var scope = new TrainingScope(this, owner == 0);
        if (disposeRequested)
        {
            // Dispose came between the check above and taking the model: this call finishes it instead.
            scope.Dispose();
            ThrowIfDisposed();
        }

        return scope;
    }

    /// <summary>Releases the model when the outermost call that marked it busy ends, and completes a Dispose asked for meanwhile.</summary>
    internal readonly struct TrainingScope(Model model, bool outermost) : IDisposable
    {
        public void Dispose()
        {
            if (outermost)
            {
                Interlocked.Exchange(ref model.training, 0);
                model.FinishDispose();
            }
        }
    }

    /// <summary>Raises <see cref="TrainingProgress"/> with a copy of <paramref name="logs"/>, when anyone listens.</summary>
    internal void RaiseTrainingProgress(int epoch, int epochs, int batch, int steps, bool epochEnd, Dictionary<string, double> logs) =>
        TrainingProgress?.Invoke(this, new TrainingProgressEventArgs(epoch, epochs, batch, steps, epochEnd, new Dictionary<string, double>(logs)));
}
