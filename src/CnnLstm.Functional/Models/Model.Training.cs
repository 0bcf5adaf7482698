using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Models;

/// <summary>Training, evaluation and weights: Keras' <c>compile</c>, <c>fit</c>, <c>evaluate</c>, <c>get_weights</c>.</summary>
public partial class Model
{
    private Loss[]? losses;
    private IReadOnlyList<string> logNames = new[] { "loss" };
    private bool ownsOptimizer;

    /// <summary>Whether the current Fit or TrainOnBatch has warned that the model has no trainable weights (once per call).</summary>
    private bool warnedNoTrainableWeights;
    private Metric[][]? metrics;
    private Metric[][]? weightedMetrics;

    /// <summary>The metrics as Compile was given them (names or objects), which a saved compile config holds.</summary>
    private (Metric[] Metrics, Metric[] Weighted) metricSpecs = (Array.Empty<Metric>(), Array.Empty<Metric>());

    /// <summary>Every compiled metric in Keras' log order (unweighted ones for every output, then weighted ones), with its output and logged name.</summary>
    private (int Output, Metric Metric, bool Weighted, string Name)[] metricSlots = Array.Empty<(int, Metric, bool, string)>();

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
    public IReadOnlyList<string> MetricsNames => logNames;

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

        foreach (var output in outputs)
        {
            loss.CheckOutput(output.Shape, output.Label);
        }

        var resolved = outputs.Select(o => specs.Select(m => m!.ForOutput(loss, o.Shape, o.Label)).ToArray()).ToArray();
        var resolvedWeighted = outputs.Select(o => weightedSpecs.Select(m => m!.ForOutput(loss, o.Shape, o.Label)).ToArray()).ToArray();
        this.metrics = resolved;
        this.weightedMetrics = resolvedWeighted;
        metricSpecs = (specs.Select(m => m!).ToArray(), weightedSpecs.Select(m => m!).ToArray());
        losses = outputs.Select(_ => loss).ToArray();
        logNames = LogNames().ToArray();
        if (this.ownsOptimizer && !ReferenceEquals(Optimizer, optimizer))
        {
            Optimizer?.Dispose();
        }

        Optimizer = optimizer;
        this.ownsOptimizer = ownsOptimizer;
    }

    /// <summary>
    /// Trains the model, as Keras' <c>fit</c>. Everything is checked before any weight changes.
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
    /// <param name="sampleWeight">One weight per sample (finite, non-negative), as Keras' <c>sample_weight</c>: the loss
    /// is the sum of each sample's loss times its weight over the number of samples (Keras 3's
    /// <c>sum_over_batch_size</c>), and metrics are weighted means (or weighted counts); applies to every output.</param>
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
        IEnumerable<ICallback>? callbacks = null, int initialEpoch = 0, float[]? sampleWeight = null, IReadOnlyDictionary<int, double>? classWeight = null,
        CancellationToken cancellationToken = default)
    {
        RequireCompiled(nameof(Fit));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        CheckEpochArguments(epochs, initialEpoch, verbose);
        if (!(validationSplit >= 0 && validationSplit < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, "Fit: validationSplit must be in [0, 1).");
        }

        var userCallbacks = UserCallbacks(callbacks);

        if (sampleWeight is not null && classWeight is not null)
        {
            throw new ArgumentException("Fit: give sampleWeight or classWeight, not both (as Keras).", nameof(classWeight));
        }

        using var exclusive = EnterTraining(nameof(Fit));
        using var threads = ThreadPolicy.Begin();
        using var all = Prepare(x, y, nameof(x), nameof(y), sampleWeight, null);
        RequireSamples(all, nameof(x));
        DataSet? givenValidation = validationData is { } v ? Prepare(v.X, v.Y, "validationData.X", "validationData.Y") : null;
        using var validationOwner = givenValidation;
        if (givenValidation is not null)
        {
            RequireSamples(givenValidation, "validationData.X");
        }
        var splitAt = givenValidation is null && validationSplit > 0 ? (long)(all.Count * (1 - validationSplit)) : all.Count;
        if (splitAt == 0)
        {
            throw new ArgumentException($"Fit: validationSplit {validationSplit} of {all.Count} samples leaves no training samples.", nameof(validationSplit));
        }

        // Class weights weigh the training samples only (Keras splits off validation data first).
        using var sliced = all.Slice(0, splitAt);
        using var train = classWeight is null ? sliced : sliced.WithSampleWeights(SampleWeights(null, classWeight, sliced.Targets, sliced.Count, nameof(y)));
        using var split = splitAt < all.Count ? all.Slice(splitAt, all.Count - splitAt) : null;
        var validation = givenValidation ?? split;
        var steps = (int)((train.Count + batchSize - 1) / batchSize);
        return RunFit(_ => ShuffledBatches(train, batchSize, shuffle), steps, train.Count, batchSize,
            validation is null ? null : () => Batches(validation, batchSize), epochs, verbose, userCallbacks, initialEpoch, cancellationToken);
    }

    /// <summary>Evaluates the loss and metrics in inference mode (dropout off), as Keras' <c>evaluate</c>.</summary>
    /// <param name="x">Inputs, one per model input.</param>
    /// <param name="y">Targets, one per output.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="sampleWeight">One weight per sample, as in <c>Fit</c>.</param>
    /// <param name="cancellationToken">Ends the evaluation between batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The loss (the mean over batches weighted by batch size) and the metrics over all samples, by name.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(ModelData x, ModelData y, int batchSize = 32, float[]? sampleWeight = null, CancellationToken cancellationToken = default)
    {
        RequireCompiled(nameof(Evaluate));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var exclusive = EnterTraining(nameof(Evaluate));
        using var threads = ThreadPolicy.Begin();
        using var data = Prepare(x, y, nameof(x), nameof(y), sampleWeight, null);
        RequireSamples(data, nameof(x));
        return EvaluateSet(Batches(data, batchSize), cancellationToken);
    }

    /// <summary>One gradient update on one batch, as Keras' <c>train_on_batch</c>.</summary>
    /// <param name="x">Inputs, one per model input.</param>
    /// <param name="y">Targets, one per output.</param>
    /// <returns>The batch's loss and metrics by name, computed before the update.</returns>
    public IReadOnlyDictionary<string, double> TrainOnBatch(ModelData x, ModelData y)
    {
        RequireCompiled(nameof(TrainOnBatch));
        using var exclusive = EnterTraining(nameof(TrainOnBatch));
        using var threads = ThreadPolicy.Begin();
        using var data = Prepare(x, y, nameof(x), nameof(y));
        RequireSamples(data, nameof(x));
        warnedNoTrainableWeights = false;
        return TrainStep(data).ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);
    }

    /// <summary>All weight values in Keras order (layer by layer, as <see cref="Layers"/>), as Keras' <c>get_weights()</c>.</summary>
    public IReadOnlyList<WeightArray> GetWeights()
    {
        ThrowIfDisposed();
        // One state of all layers: no training step or weight write runs meanwhile.
        using var weights = ReadWeights();
        return Layers.SelectMany(l => l.GetWeights()).ToArray();
    }

    /// <summary>Sets all weights in Keras order and layout; everything is checked before anything is written.</summary>
    /// <param name="values">One value per weight of every layer, in <see cref="GetWeights"/> order.</param>
    public void SetWeights(IReadOnlyList<WeightArray> values)
    {
        ThrowIfDisposed();
        using var exclusive = EnterTraining(nameof(SetWeights));
        ArgumentNullException.ThrowIfNull(values);
        var expected = Layers.Sum(l => l.Weights.Count);
        if (values.Count != expected)
        {
            throw new ArgumentException($"Model '{Name}' has {expected} weights, but {values.Count} values were given.", nameof(values));
        }

        var offset = 0;
        foreach (var layer in Layers)
        {
            layer.CheckWeights(values, offset, layer.Weights.Count);
            offset += layer.Weights.Count;
        }

        // Predictions see all of the old values or all of the new ones.
        using var weights = WriteWeights();
        offset = 0;
        foreach (var layer in Layers)
        {
            layer.AssignWeights(values, offset);
            offset += layer.Weights.Count;
        }
    }

    /// <summary>
    /// Saves all weights, atomically (a failed save leaves any previous file intact), as Keras' <c>save_weights</c>:
    /// <c>.weights.h5</c> in the Keras 3 layout (with the optimizer state when compiled), <c>.h5</c> in the Keras 2
    /// layout.
    /// </summary>
    /// <param name="path">The file to write.</param>
    public void SaveWeights(string path)
    {
        ThrowIfDisposed();
        using var exclusive = EnterTraining(nameof(SaveWeights));
        using var weights = ReadWeights();
        SaveWeightsTo(path);
    }

    /// <summary>
    /// Loads weights from a Keras 2 <c>.h5</c> (also a full-model file's <c>/model_weights</c>), a Keras 3
    /// <c>.weights.h5</c> or a <c>.keras</c> file, as Keras' <c>load_weights</c>. Everything is checked before
    /// anything is written; a mismatch throws a <see cref="Saving.KerasFileException"/> naming the file, the layer,
    /// the weight and both shapes.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="byName">Match layers by name instead of by position (Keras 2 files only).</param>
    /// <param name="skipMismatch">Skip, with a warning, layers whose weights differ in count or shape.</param>
    public void LoadWeights(string path, bool byName = false, bool skipMismatch = false)
    {
        ThrowIfDisposed();
        using var exclusive = EnterTraining(nameof(LoadWeights));
        // Predictions see the weights (and the optimizer state) before the load or after it, never a mix.
        using var weights = WriteWeights();
        LoadWeightsFrom(path, byName, skipMismatch);
    }

    private static void RequireSamples(DataSet data, string argument)
    {
        if (data.Count == 0)
        {
            throw new ArgumentException($"{argument}: no samples were given (shape ({string.Join(", ", data.Inputs[0].shape)})); expected at least one.", argument);
        }
    }

    private void RequireCompiled(string method)
    {
        ThrowIfDisposed();
        if (!IsCompiled)
        {
            throw new InvalidOperationException($"Model '{Name}': call Compile(optimizer, loss, metrics) before {method}.");
        }

        if (method is nameof(Fit) or nameof(TrainOnBatch) && losses!.FirstOrDefault(l => l.Unreduced) is { } unreduced)
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
    private TrainingScope EnterTraining(string method)
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
    private readonly struct TrainingScope(Model model, bool outermost) : IDisposable
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

    /// <summary>
    /// The logged names for the compiled losses and metrics, computed once per Compile, as Keras 3's
    /// <c>CompileMetrics.result</c>: per-output losses for several outputs, then every output's metrics (prefixed with
    /// the output's layer name for several outputs), then the weighted metrics, a taken name becoming
    /// <c>weighted_</c> + name.
    /// </summary>
    private List<string> LogNames()
    {
        var names = new List<string> { "loss" };
        var slots = new List<(int, Metric, bool, string)>();
        if (losses is null || metrics is null || weightedMetrics is null)
        {
            metricSlots = slots.ToArray();
            return names;
        }

        if (outputs.Count > 1)
        {
            names.AddRange(outputs.Select(o => $"{o.Layer.Name}_loss"));
        }

        var taken = new Dictionary<string, int>(StringComparer.Ordinal);
        string Prefixed(int o, string name) => outputs.Count > 1 ? $"{outputs[o].Layer.Name}_{name}" : name;
        string Unique(string name)
        {
            if (taken.TryGetValue(name, out var count))
            {
                taken[name] = count + 1;
                return $"{name}_{count}";
            }

            taken[name] = 1;
            return name;
        }

        for (var o = 0; o < outputs.Count; o++)
        {
            slots.AddRange(metrics[o].Select(m => (o, m, false, Unique(Prefixed(o, m.Name)))));
        }

        for (var o = 0; o < outputs.Count; o++)
        {
            slots.AddRange(weightedMetrics[o].Select(m => (o, m, true, Unique(taken.ContainsKey(Prefixed(o, m.Name)) ? Prefixed(o, "weighted_" + m.Name) : Prefixed(o, m.Name)))));
        }

        metricSlots = slots.ToArray();
        names.AddRange(metricSlots.Select(slot => slot.Name));
        return names;
    }

    /// <summary>Fit's checks of <c>epochs</c>, <c>initialEpoch</c> and <c>verbose</c>, for every kind of data.</summary>
    private static void CheckEpochArguments(int epochs, int initialEpoch, int verbose)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(initialEpoch);
        if (verbose is < 0 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "Fit: verbose must be 0, 1 or 2.");
        }
    }

    /// <summary>The callbacks given to Fit, as a list; none may be null.</summary>
    private static List<ICallback> UserCallbacks(IEnumerable<ICallback>? callbacks)
    {
        var list = callbacks?.ToList() ?? new List<ICallback>();
        return list.Any(c => c is null) ? throw new ArgumentNullException(nameof(callbacks), "Fit: a callback is null.") : list;
    }

    /// <summary>The batches of an epoch over arrays: samples in a new random order each epoch when shuffling.</summary>
    private IEnumerable<DataSet> ShuffledBatches(DataSet train, int batchSize, bool shuffle)
    {
        using var order = shuffle ? randperm(train.Count, generator: ShuffleRandom) : arange(train.Count);
        for (long start = 0; start < train.Count; start += batchSize)
        {
            using var indices = order.narrow(0, start, Math.Min(batchSize, train.Count - start));
            yield return train.Take(indices);
        }
    }

    /// <summary>Consecutive batches of a data set, in order.</summary>
    private static IEnumerable<DataSet> Batches(DataSet data, int batchSize)
    {
        for (long start = 0; start < data.Count; start += batchSize)
        {
            yield return data.Slice(start, Math.Min(batchSize, data.Count - start));
        }
    }

    /// <summary>
    /// Keras' fit loop over batches from <paramref name="trainBatches"/> (a new enumeration per epoch; each batch is
    /// disposed after its step), with callbacks, validation after each epoch and <paramref name="afterEpoch"/>.
    /// A cancellation ends it between batches by <see cref="OperationCanceledException"/>, as any exception does:
    /// without the interrupted epoch's <c>OnEpochEnd</c> or <c>OnTrainEnd</c>, as Keras on an interrupt.
    /// </summary>
    private History RunFit(Func<int, IEnumerable<DataSet>> trainBatches, int steps, long? samples, int? batchSize, Func<IEnumerable<DataSet>>? validation,
        int epochs, int verbose, List<ICallback> userCallbacks, int initialEpoch, CancellationToken cancellationToken, Action? afterEpoch = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var history = new History();
        var callbacks = new List<ICallback>(userCallbacks) { history };
        if (verbose > 0)
        {
            callbacks.Add(new ProgbarLogger(verbose));
        }

        var names = logNames.ToList();
        var parameters = new Dictionary<string, object>
        {
            ["epochs"] = epochs,
            ["steps"] = steps,
            ["verbose"] = verbose,
            ["do_validation"] = validation is not null,
            ["metrics"] = validation is null ? names : names.Concat(names.Select(n => "val_" + n)).ToList(),
        };
        if (batchSize is int size)
        {
            parameters["batch_size"] = size;
        }

        if (samples is long count)
        {
            parameters["samples"] = count;
        }

        callbacks.ForEach(c => c.SetContext(this, parameters));

        StopTraining = false;
        ResumeEpoch = null;
        warnedNoTrainableWeights = false;
        var epochLogs = new Dictionary<string, double>();
        callbacks.ForEach(c => c.OnTrainBegin(new Dictionary<string, double>()));
        // A callback that restored a backup (BackupAndRestore) says where training picks up.
        var first = Math.Max(initialEpoch, ResumeEpoch ?? initialEpoch);
        ResumeEpoch = null;
        for (var epoch = first; epoch < epochs && !StopTraining; epoch++)
        {
            callbacks.ForEach(c => c.OnEpochBegin(epoch, new Dictionary<string, double>()));
            epochLogs = RunEpoch(trainBatches(epoch), steps, epoch, epochs, callbacks, cancellationToken);
            // As Keras: an epoch stopped by a callback (or by data that ran out) is still validated.
            if (validation is not null)
            {
                foreach (var (key, value) in EvaluateSet(validation(), cancellationToken))
                {
                    epochLogs["val_" + key] = value;
                }
            }

            afterEpoch?.Invoke();
            callbacks.ForEach(c => c.OnEpochEnd(epoch, epochLogs));
            TrainingProgress?.Invoke(this, new TrainingProgressEventArgs(epoch, epochs, steps - 1, steps, true, new Dictionary<string, double>(epochLogs)));
        }

        callbacks.ForEach(c => c.OnTrainEnd(epochLogs));
        return history;
    }

    private Dictionary<string, double> RunEpoch(IEnumerable<DataSet> batches, int steps, int epoch, int epochs, List<ICallback> callbacks, CancellationToken cancellationToken)
    {
        var totals = new MetricTotals();
        var batch = 0;
        using var enumerator = batches.GetEnumerator();
        while (batch < steps && !StopTraining)
        {
            // Cancellation is seen between batches: the weights are always those after a completed step.
            cancellationToken.ThrowIfCancellationRequested();
            if (!enumerator.MoveNext())
            {
                break;
            }

            Dictionary<string, LoggedValue> values;
            var logs = new Dictionary<string, double> { ["batch"] = batch };
            using (var data = enumerator.Current)
            {
                logs["size"] = data.Count;
                callbacks.ForEach(c => c.OnBatchBegin(batch, logs));
                values = TrainStep(data);
            }

            totals.Add(values);
            foreach (var (key, value) in values)
            {
                logs[key] = value.Value;
            }

            callbacks.ForEach(c => c.OnBatchEnd(batch, logs));
            TrainingProgress?.Invoke(this, new TrainingProgressEventArgs(epoch, epochs, batch, steps, false, new Dictionary<string, double>(logs)));
            batch++;
        }

        return totals.Results();
    }

    private Dictionary<string, LoggedValue> TrainStep(DataSet batch)
    {
        // The step reads and writes the weights alone: predictions on other threads see them before or after it.
        using var weights = WriteWeights();
        using var scope = NewDisposeScope();
        ThreadPolicy.Apply(batch.Count);
        var trainable = TrainableWeights();
        foreach (var weight in trainable)
        {
            weight.ClearGradient();
        }

        try
        {
            var (outs, logits, masks) = RunWithMasks(batch.Inputs, training: true, losses!.Select(l => l.LogitsActivation).ToArray());
            var (total, values) = LossAndMetrics(batch.Targets, outs, logits, masks, batch.SampleWeights);
            if (trainable.Length == 0)
            {
                // As Keras' train_step: no gradient and no optimizer update (its iterations stay), a warning instead.
                WarnNoTrainableWeights();
                return values;
            }

            total.backward();
            Optimizer!.Step(trainable);
            return values;
        }
        finally
        {
            // The recorded row lookups die with this step's dispose scope.
            foreach (var weight in trainable)
            {
                weight.ClearGradient();
            }
        }
    }

    /// <summary>Keras' warning for a step without trainable weights, once per Fit or TrainOnBatch (Python shows a repeated warning once).</summary>
    private void WarnNoTrainableWeights()
    {
        if (!warnedNoTrainableWeights)
        {
            warnedNoTrainableWeights = true;
            Warnings.Warn($"Model '{Name}' does not have any trainable weights: training computes the loss and metrics but updates no weight, and the optimizer's iterations stay at {Optimizer!.Iterations} (as Keras' \"The model does not have any trainable weights.\").");
        }
    }

    private Dictionary<string, double> EvaluateSet(IEnumerable<DataSet> batches, CancellationToken cancellationToken)
    {
        var totals = new MetricTotals();
        using var noGrad = no_grad();
        foreach (var batch in batches)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                batch.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }

            using var scope = NewDisposeScope();
            using var owned = batch;
            // Per batch, not while waiting for a DataSource's next batch, whose GetBatch may itself predict.
            using var weights = ReadWeights();
            ThreadPolicy.Apply(batch.Count);
            var (outs, logits, masks) = RunWithMasks(batch.Inputs, training: false, losses!.Select(l => l.LogitsActivation).ToArray());
            totals.Add(LossAndMetrics(batch.Targets, outs, logits, masks, batch.SampleWeights).Values);
        }

        return totals.Results();
    }

    /// <summary>
    /// The total loss (summed over outputs, as Keras) and the logged values: each loss weighted in an epoch's mean by
    /// the batch size (Keras' loss tracker), each metric by its own statistics (see <see cref="Metric"/>), with the
    /// sample weights and masks applied.
    /// </summary>
    private (Tensor Total, Dictionary<string, LoggedValue> Values) LossAndMetrics(IReadOnlyList<Tensor> targets, IReadOnlyList<Tensor> outs, Tensor?[] logits, Tensor?[] masks, Tensor? sampleWeights)
    {
        var names = logNames;
        var values = new Dictionary<string, LoggedValue>(StringComparer.Ordinal);
        double batch = targets[0].shape[0];
        LoggedValue Mean(double value) => new(value, new[] { value * batch, batch }, s => s[1] > 0 ? s[0] / s[1] : 0);
        Tensor? total = null;
        var perOutputLoss = new double[outs.Count];
        for (var o = 0; o < outs.Count; o++)
        {
            var loss = losses![o].ComputeWeighted(targets[o], outs[o], logits[o], sampleWeights, masks[o], outputs[o].Layer.Name);
            perOutputLoss[o] = loss.item<float>();
            total = total is null ? loss : total + loss;
        }

        values["loss"] = Mean(total!.item<float>());
        var index = 1;
        if (outs.Count > 1)
        {
            foreach (var value in perOutputLoss)
            {
                values[names[index++]] = Mean(value);
            }
        }

        using (no_grad())
        {
            foreach (var (o, metric, weighted, name) in metricSlots)
            {
                // Keras' metrics see no sample weights, its weighted_metrics do; a mask weighs both (apply_mask).
                var given = weighted ? sampleWeights : null;
                var weights = masks[o] is { } mask ? (given is null ? mask : mask.to_type(ScalarType.Float32) * given.unsqueeze(-1)) : given;
                var statistics = metric.Statistics(targets[o], outs[o], weights).data<double>().ToArray();
                values[name] = new LoggedValue(metric.Result(statistics), statistics, metric.Result);
            }
        }

        return (total, values);
    }

    /// <summary>Converts and checks inputs and targets; throws before anything runs.</summary>
    private DataSet Prepare(ModelData x, ModelData y, string xName, string yName, float[]? sampleWeight = null, IReadOnlyDictionary<int, double>? classWeight = null)
    {

        ArgumentNullException.ThrowIfNull(x, xName);
        ArgumentNullException.ThrowIfNull(y, yName);
        var owned = new List<Tensor>();
        try
        {
            var inputs = Convert(x, inputs: true, xName, owned);
            CheckInputTensors(inputs, xName);
            var targets = Convert(y, inputs: false, yName, owned);
            for (var o = 0; o < targets.Count; o++)
            {
                if (targets[o].shape[0] != inputs[0].shape[0])
                {
                    throw new ArgumentException($"{yName}: {xName} has {inputs[0].shape[0]} samples but {yName} for output '{outputs[o].Layer.Name}' has {targets[o].shape[0]}; they must match.", yName);
                }
            }

            var weights = SampleWeights(sampleWeight, classWeight, targets, inputs[0].shape[0], yName);
            if (weights is not null)
            {
                owned.Add(weights);
            }

            return new DataSet(inputs, targets, owned, weights);
        }
        catch
        {
            owned.ForEach(t => t.Dispose());
            throw;
        }
    }

    /// <summary>The per-sample weights from <c>sampleWeight</c> or <c>classWeight</c> (Keras' <c>class_weight_to_sample_weights</c>), checked; null when neither is given.</summary>
    private Tensor? SampleWeights(float[]? sampleWeight, IReadOnlyDictionary<int, double>? classWeight, IReadOnlyList<Tensor> targets, long samples, string yName)
    {
        if (sampleWeight is not null && classWeight is not null)
        {
            throw new ArgumentException("Fit: give sampleWeight or classWeight, not both (as Keras).", nameof(classWeight));
        }

        if (sampleWeight is not null)
        {
            if (sampleWeight.Length != samples)
            {
                throw new ArgumentException($"sampleWeight has {sampleWeight.Length} weights, but there are {samples} samples; give one weight per sample.", nameof(sampleWeight));
            }

            foreach (var (weight, i) in sampleWeight.Select((w, i) => (w, i)).Where(p => !float.IsFinite(p.w) || p.w < 0))
            {
                throw new ArgumentOutOfRangeException(nameof(sampleWeight), weight, $"sampleWeight[{i}] is {weight}; weights must be finite and non-negative.");
            }

            return tensor(sampleWeight);
        }

        if (classWeight is null)
        {
            return null;
        }

        if (outputs.Count != 1)
        {
            throw new ArgumentException($"Fit: classWeight is supported for models with one output (as Keras), but model '{Name}' has {outputs.Count}; use sampleWeight.", nameof(classWeight));
        }

        foreach (var (cls, weight) in classWeight.Where(kv => !double.IsFinite(kv.Value) || kv.Value < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(classWeight), weight, $"classWeight[{cls}] is {weight}; weights must be finite and non-negative.");
        }

        using var scope = NewDisposeScope();
        var target = targets[0];
        var oneHot = !losses![0].SparseTargets && target.dim() == 2 && target.shape[1] > 1;
        if (target.dim() > 2 || (target.dim() == 2 && target.shape[1] > 1 && !oneHot))
        {
            throw new ArgumentException($"Fit: classWeight needs one class per sample (as Keras), but the targets for output '{outputs[0].Layer.Name}' have shape ({string.Join(", ", target.shape)}); use sampleWeight.", nameof(classWeight));
        }

        var ids = oneHot ? target.argmax(1) : target.reshape(samples).round();
        var classes = ids.to_type(ScalarType.Int64).data<long>().ToArray();
        return tensor(classes.Select(c => (float)classWeight.GetValueOrDefault((int)c, 1.0)).ToArray()).MoveToOuterDisposeScope();
    }

    private List<Tensor> Convert(ModelData data, bool inputs, string argument, List<Tensor> owned)
    {
        var expected = inputs ? this.inputs : outputs;
        if (data.Count != expected.Count)
        {
            throw new ArgumentException($"{argument}: model '{Name}' has {expected.Count} {(inputs ? "inputs" : "outputs")} ({string.Join(", ", expected.Select(t => $"{t.Layer.Name} {t.Shape}"))}), but {data.Count} were given.", argument);
        }

        var result = new List<Tensor>();
        for (var i = 0; i < data.Count; i++)
        {
            if (data.Tensors?[i] is { } given && (given.IsInvalid || given.is_complex()))
            {
                // A disposed tensor has no handle: reading it would throw from TorchSharp without naming it.
                throw new ArgumentException($"{argument}: the tensor for {(inputs ? "input" : "output")} '{expected[i].Layer.Name}' (item {i}) {(given.IsInvalid ? "has been disposed" : $"is {given.dtype}")}; expected a live tensor of real numbers.", argument);
            }

            var tensor = inputs ? InputTensor(data, i, argument, owned) : TargetTensor(data, i, argument, owned);
            if (tensor.is_floating_point() && !AllFinite(tensor))
            {
                throw NotFinite(argument, expected[i]);
            }

            result.Add(tensor);
        }

        return result;
    }

    private static bool AllFinite(Tensor tensor)
    {
        using var finite = tensor.isfinite();
        using var all = finite.all();
        return all.item<bool>();
    }

    private static (float Min, float Max) Range(Tensor tensor)
    {
        using var min = tensor.min();
        using var max = tensor.max();
        return (min.item<float>(), max.item<float>());
    }

    private Tensor InputTensor(ModelData data, int i, string argument, List<Tensor> owned)
    {
        var input = inputs[i];
        if (data.Arrays is { } arrays)
        {
            var fromArray = TensorData.FromArray(arrays[i], input, argument);
            owned.Add(fromArray);
            return fromArray;
        }

        var given = data.Tensors![i];
        var wanted = input.DType.IsInteger() ? ScalarType.Int64 : ScalarType.Float32;
        if (input.DType.IsInteger() && given.is_floating_point())
        {
            throw new ArgumentException($"{argument}: input '{input.Layer.Name}' takes integer token ids, but a {given.dtype} tensor was given.", argument);
        }

        if (given.dtype == wanted)
        {
            return given;
        }

        var converted = given.to_type(wanted);
        owned.Add(converted);
        return converted;
    }

    private Tensor TargetTensor(ModelData data, int o, string argument, List<Tensor> owned)
    {
        var output = outputs[o];
        Tensor target;
        if (data.Arrays is { } arrays)
        {
            var array = arrays[o];
            var element = array.GetType().GetElementType();
            if (element != typeof(float) && element != typeof(double) && element != typeof(int) && element != typeof(long))
            {
                throw new ArgumentException($"{argument}: targets for output '{output.Layer.Name}' must be float, double, int or long arrays, got {TensorData.TypeName(array)}.", argument);
            }

            var dims = Enumerable.Range(0, array.Rank).Select(d => (long)array.GetLength(d)).ToArray();
            var flat = new float[array.Length];
            for (var (i, e) = (0, array.GetEnumerator()); e.MoveNext(); i++)
            {
                flat[i] = System.Convert.ToSingle(e.Current, System.Globalization.CultureInfo.InvariantCulture);
            }

            target = tensor(flat, dims);
        }
        else
        {
            target = data.Tensors![o].to_type(ScalarType.Float32);
        }

        owned.Add(target);
        if (losses![o].SparseTargets)
        {
            var classes = output.Shape.Last!.Value;
            // One class id per entry of the output: the output's shape without its class axis, or with it as 1.
            var entries = output.Shape.Skip(1).Take(output.Shape.Rank - 2).Select(d => (long?)d).ToArray();
            var idsShape = target.shape.Skip(1).Select(d => (long?)d).ToArray();
            var idsFit = (idsShape.Length == entries.Length || (idsShape.Length == entries.Length + 1 && idsShape[^1] == 1))
                && entries.Select((d, i) => d is null || d == idsShape[i]).All(ok => ok);
            if (!idsFit)
            {
                var expected = string.Join(", ", new[] { "samples" }.Concat(entries.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None")));
                throw new ArgumentException($"{argument}: {losses[o].Name} takes class ids of shape ({expected}) or ({expected}, 1) for output '{output.Layer.Name}' {output.Shape}, but got ({string.Join(", ", target.shape)}).", argument);
            }

            // Ids equal to the loss's ignore_class (often -1 or 255) are no class, and count for nothing.
            using var counted = losses[o].IgnoreClass is { } ignored ? target[target.ne(ignored)] : target.alias();
            if (counted.numel() > 0 && Range(counted) is var (min, max) && (min < 0 || max >= classes))
            {
                throw new ArgumentOutOfRangeException(argument, $"{argument}: class ids for output '{output.Layer.Name}' must be in [0, {classes}), but range over [{min}, {max}].");
            }

            using (NewDisposeScope())
            {
                if (target.numel() > 0 && target.frac().abs().max().item<float>() > 0)
                {
                    throw new ArgumentException($"{argument}: class ids for output '{output.Layer.Name}' must be whole numbers, but some have a fractional part.", argument);
                }
            }

            return target;
        }

        // A (samples,) target for a (None, 1) output is read as (samples, 1), as Keras does.
        if (target.dim() == 1 && output.Shape.Rank == 2 && output.Shape[1] == 1)
        {
            var reshaped = target.reshape(-1, 1);
            owned.Add(reshaped);
            target = reshaped;
        }

        var sizes = target.shape;
        var fits = sizes.Length == output.Shape.Rank
            && Enumerable.Range(1, sizes.Length - 1).All(d => output.Shape[d] is null || output.Shape[d] == sizes[d]);
        if (!fits)
        {
            throw new ArgumentException(
                $"{argument}: output '{output.Layer.Name}' has shape {output.Shape}, so its targets must have shape {output.Shape}{(output.Shape.Rank == 2 && output.Shape[1] == 1 ? " or (samples,)" : string.Empty)}, but the targets given have shape ({string.Join(", ", sizes)}).", argument);
        }

        return target;
    }
}
