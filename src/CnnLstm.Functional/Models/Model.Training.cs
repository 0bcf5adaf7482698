using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
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
    private Metric[][]? metrics;

    /// <summary>Raised after every training batch and every epoch of <see cref="Fit"/>.</summary>
    public event EventHandler<TrainingProgressEventArgs>? TrainingProgress;

    /// <summary>The optimizer set by <c>Compile</c>, or null before.</summary>
    public Optimizer? Optimizer { get; private set; }

    /// <summary>Whether <c>Compile</c> has been called.</summary>
    public bool IsCompiled => Optimizer is not null;

    /// <summary>Set by a callback to stop <see cref="Fit"/> after the current batch or epoch (Keras' <c>stop_training</c>).</summary>
    public bool StopTraining { get; set; }

    /// <summary>
    /// Set by a callback in <c>OnTrainBegin</c> (BackupAndRestore) to start <c>Fit</c> at this epoch instead of
    /// <c>initialEpoch</c> (the later of the two wins); cleared when <c>Fit</c> starts and once read.
    /// </summary>
    internal int? ResumeEpoch { get; set; }

    /// <summary>The names of the values <see cref="Fit"/> logs and <see cref="Evaluate"/> returns, <c>loss</c> first.</summary>
    public IReadOnlyList<string> MetricsNames => logNames;

    /// <summary>Configures training with Keras names, e.g. <c>Compile("adam", "binary_crossentropy", new[] { "accuracy" })</c>.</summary>
    /// <param name="optimizer"><c>adam</c>, <c>sgd</c> or <c>rmsprop</c>, with Keras defaults.</param>
    /// <param name="loss">A Keras loss name, applied to every output.</param>
    /// <param name="metrics">Metric names: <c>accuracy</c>, <c>mae</c>, <c>mse</c>.</param>
    public void Compile(string optimizer, string loss, IEnumerable<string>? metrics = null) =>
        CompileOwned(OptimizerNames.Create(optimizer), LossNames.Create(loss), metrics);

    /// <summary>Configures training with an optimizer object and a loss name.</summary>
    /// <param name="optimizer">The optimizer, e.g. <c>new Adam(learningRate: 1e-3)</c>.</param>
    /// <param name="loss">A Keras loss name.</param>
    /// <param name="metrics">Metric names.</param>
    public void Compile(Optimizer optimizer, string loss, IEnumerable<string>? metrics = null) =>
        Compile(optimizer, LossNames.Create(loss), metrics);

    /// <summary>Configures training with an optimizer name and a loss object.</summary>
    /// <param name="optimizer">A Keras optimizer name.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="metrics">Metric names.</param>
    public void Compile(string optimizer, Loss loss, IEnumerable<string>? metrics = null) =>
        CompileOwned(OptimizerNames.Create(optimizer), loss, metrics);

    /// <summary>Configures training with objects.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="loss">The loss, applied to every output.</param>
    /// <param name="metrics">Metric names.</param>
    public void Compile(Optimizer optimizer, Loss loss, IEnumerable<string>? metrics = null) => Compile(optimizer, loss, metrics, ownsOptimizer: false);

    /// <summary>Compiles with an optimizer the model created, and so disposes with itself.</summary>
    private protected void CompileOwned(Optimizer optimizer, Loss loss, IEnumerable<string>? metrics)
    {
        try
        {
            Compile(optimizer, loss, metrics, ownsOptimizer: true);
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    private void Compile(Optimizer optimizer, Loss loss, IEnumerable<string>? metrics, bool ownsOptimizer)
    {
        ThrowIfDisposed();
        // Compile replaces (and may dispose) the optimizer another thread's Fit could be using.
        using var exclusive = EnterTraining(nameof(Compile));
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        _ = Topology; // a model without a graph (an empty Sequential) cannot be compiled
        var names = metrics?.ToArray() ?? Array.Empty<string>();
        if (names.Any(n => n is null))
        {
            throw new ArgumentNullException(nameof(metrics), "Compile: a metric name is null.");
        }

        foreach (var output in outputs.Where(_ => loss.SparseTargets).Where(o => o.Shape.Last is null))
        {
            throw new ArgumentException($"Compile: {loss.Name} needs a known number of classes, but output {output.Label} has shape {output.Shape}.", nameof(loss));
        }

        this.metrics = outputs.Select(o => names.Select(n => Metric.Resolve(n, loss, o.Shape.Last)).ToArray()).ToArray();
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
    /// <returns>The per-epoch history.</returns>
    public History Fit(ModelData x, ModelData y, int batchSize = 32, int epochs = 1, int verbose = 1,
        (ModelData X, ModelData Y)? validationData = null, double validationSplit = 0.0, bool shuffle = true,
        IEnumerable<ICallback>? callbacks = null, int initialEpoch = 0)
    {
        RequireCompiled(nameof(Fit));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        ArgumentOutOfRangeException.ThrowIfNegative(initialEpoch);
        if (verbose is < 0 or > 2)
        {
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "Fit: verbose must be 0, 1 or 2.");
        }

        if (!(validationSplit >= 0 && validationSplit < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, "Fit: validationSplit must be in [0, 1).");
        }

        var userCallbacks = callbacks?.ToList() ?? new List<ICallback>();
        if (userCallbacks.Any(c => c is null))
        {
            throw new ArgumentNullException(nameof(callbacks), "Fit: a callback is null.");
        }

        using var exclusive = EnterTraining(nameof(Fit));
        using var threads = ThreadPolicy.Begin();
        using var all = Prepare(x, y, nameof(x), nameof(y));
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

        using var train = all.Slice(0, splitAt);
        using var split = splitAt < all.Count ? all.Slice(splitAt, all.Count - splitAt) : null;
        var validation = givenValidation ?? split;
        return RunFit(train, validation, batchSize, epochs, verbose, shuffle, userCallbacks, initialEpoch);
    }

    /// <summary>Evaluates the loss and metrics in inference mode (dropout off), as Keras' <c>evaluate</c>.</summary>
    /// <param name="x">Inputs, one per model input.</param>
    /// <param name="y">Targets, one per output.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <returns>The sample-weighted means by name (<c>loss</c>, then metrics).</returns>
    public IReadOnlyDictionary<string, double> Evaluate(ModelData x, ModelData y, int batchSize = 32)
    {
        RequireCompiled(nameof(Evaluate));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var exclusive = EnterTraining(nameof(Evaluate));
        using var threads = ThreadPolicy.Begin();
        using var data = Prepare(x, y, nameof(x), nameof(y));
        RequireSamples(data, nameof(x));
        return EvaluateSet(data, batchSize);
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
        return TrainStep(data).Values;
    }

    /// <summary>All weight values in Keras order (layer by layer, as <see cref="Layers"/>), as Keras' <c>get_weights()</c>.</summary>
    public IReadOnlyList<WeightArray> GetWeights()
    {
        ThrowIfDisposed();
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
    }

    /// <summary>
    /// Marks the model busy with a call that runs or changes its weights. A second such call from another thread is
    /// refused (two concurrent Fit calls ended the process with SIGSEGV); the same thread may nest calls, as a
    /// callback that evaluates or saves during Fit does.
    /// </summary>
    private TrainingScope EnterTraining(string method)
    {
        var thread = Environment.CurrentManagedThreadId;
        var owner = Interlocked.CompareExchange(ref training, thread, 0);
        if (owner == DisposedOwner)
        {
            ThrowIfDisposed();
        }

        if (owner != 0 && owner != thread)
        {
            throw new InvalidOperationException($"Model '{Name}': {method} was called while Fit, Evaluate, TrainOnBatch or a weights load or save runs on another thread; these calls cannot overlap on one model. Predict may run beside each other.");
        }

        return new TrainingScope(this, owner == 0);
    }

    /// <summary>Releases the model when the outermost call that marked it busy ends.</summary>
    private readonly struct TrainingScope(Model model, bool outermost) : IDisposable
    {
        public void Dispose()
        {
            if (outermost)
            {
                Volatile.Write(ref model.training, 0);
            }
        }
    }

    /// <summary>The logged names for the compiled losses and metrics; computed once per Compile.</summary>
    private List<string> LogNames()
    {
        var names = new List<string> { "loss" };
        if (losses is null || metrics is null)
        {
            return names;
        }

        if (outputs.Count == 1)
        {
            names.AddRange(metrics[0].Select(m => m.Name));
            return names;
        }

        for (var o = 0; o < outputs.Count; o++)
        {
            names.Add($"{outputs[o].Layer.Name}_loss");
        }

        for (var o = 0; o < outputs.Count; o++)
        {
            names.AddRange(metrics[o].Select(m => $"{outputs[o].Layer.Name}_{m.Name}"));
        }

        return names;
    }

    private History RunFit(DataSet train, DataSet? validation, int batchSize, int epochs, int verbose, bool shuffle, List<ICallback> userCallbacks, int initialEpoch)
    {
        var steps = (int)((train.Count + batchSize - 1) / batchSize);
        var history = new History();
        var callbacks = new List<ICallback>(userCallbacks) { history };
        if (verbose > 0)
        {
            callbacks.Add(new ProgbarLogger(verbose));
        }

        var names = logNames.ToList();
        var parameters = new Dictionary<string, object>
        {
            ["batch_size"] = batchSize,
            ["epochs"] = epochs,
            ["steps"] = steps,
            ["samples"] = train.Count,
            ["verbose"] = verbose,
            ["do_validation"] = validation is not null,
            ["metrics"] = validation is null ? names : names.Concat(names.Select(n => "val_" + n)).ToList(),
        };
        callbacks.ForEach(c => c.SetContext(this, parameters));

        StopTraining = false;
        ResumeEpoch = null;
        var epochLogs = new Dictionary<string, double>();
        callbacks.ForEach(c => c.OnTrainBegin(new Dictionary<string, double>()));
        // A callback that restored a backup (BackupAndRestore) says where training picks up.
        var first = Math.Max(initialEpoch, ResumeEpoch ?? initialEpoch);
        ResumeEpoch = null;
        for (var epoch = first; epoch < epochs && !StopTraining; epoch++)
        {
            callbacks.ForEach(c => c.OnEpochBegin(epoch, new Dictionary<string, double>()));
            epochLogs = RunEpoch(train, batchSize, shuffle, steps, epoch, epochs, callbacks);
            if (validation is not null)
            {
                foreach (var (key, value) in EvaluateSet(validation, batchSize))
                {
                    epochLogs["val_" + key] = value;
                }
            }

            callbacks.ForEach(c => c.OnEpochEnd(epoch, epochLogs));
            TrainingProgress?.Invoke(this, new TrainingProgressEventArgs(epoch, epochs, steps - 1, steps, true, new Dictionary<string, double>(epochLogs)));
        }

        callbacks.ForEach(c => c.OnTrainEnd(epochLogs));
        return history;
    }

    private Dictionary<string, double> RunEpoch(DataSet train, int batchSize, bool shuffle, int steps, int epoch, int epochs, List<ICallback> callbacks)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        var counts = new Dictionary<string, double>(StringComparer.Ordinal);
        using var order = shuffle ? randperm(train.Count, generator: ShuffleRandom) : arange(train.Count);
        for (var batch = 0; batch < steps && !StopTraining; batch++)
        {
            var start = (long)batch * batchSize;
            var size = Math.Min(batchSize, train.Count - start);
            var logs = new Dictionary<string, double> { ["batch"] = batch, ["size"] = size };
            callbacks.ForEach(c => c.OnBatchBegin(batch, logs));
            IReadOnlyDictionary<string, double> values, weights;
            using (var indices = order.narrow(0, start, size))
            using (var data = train.Take(indices))
            {
                (values, weights) = TrainStep(data);
            }

            foreach (var (key, value) in values)
            {
                logs[key] = value;
                sums[key] = sums.GetValueOrDefault(key) + (value * weights[key]);
                counts[key] = counts.GetValueOrDefault(key) + weights[key];
            }

            callbacks.ForEach(c => c.OnBatchEnd(batch, logs));
            TrainingProgress?.Invoke(this, new TrainingProgressEventArgs(epoch, epochs, batch, steps, false, new Dictionary<string, double>(logs)));
        }

        return sums.ToDictionary(kv => kv.Key, kv => counts[kv.Key] > 0 ? kv.Value / counts[kv.Key] : 0);
    }

    private (Dictionary<string, double> Values, Dictionary<string, double> Weights) TrainStep(DataSet batch)
    {
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
            var (total, values, weights) = LossAndMetrics(batch.Targets, outs, logits, masks);
            total.backward();
            Optimizer!.Step(trainable);
            return (values, weights);
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

    private Dictionary<string, double> EvaluateSet(DataSet data, int batchSize)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        var counts = new Dictionary<string, double>(StringComparer.Ordinal);
        using var noGrad = no_grad();
        for (long start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, data.Count - start);
            ThreadPolicy.Apply(size);
            using var batch = data.Slice(start, size);
            var (outs, logits, masks) = RunWithMasks(batch.Inputs, training: false, losses!.Select(l => l.LogitsActivation).ToArray());
            var (_, values, weights) = LossAndMetrics(batch.Targets, outs, logits, masks);
            foreach (var (key, value) in values)
            {
                sums[key] = sums.GetValueOrDefault(key) + (value * weights[key]);
                counts[key] = counts.GetValueOrDefault(key) + weights[key];
            }
        }

        return sums.ToDictionary(kv => kv.Key, kv => counts[kv.Key] > 0 ? kv.Value / counts[kv.Key] : 0);
    }

    /// <summary>
    /// The total loss (summed over outputs, as Keras), the logged values, and each value's weight in an epoch's mean:
    /// the batch size, or for a metric on a masked output its count of unmasked entries.
    /// </summary>
    private (Tensor Total, Dictionary<string, double> Values, Dictionary<string, double> Weights) LossAndMetrics(IReadOnlyList<Tensor> targets, IReadOnlyList<Tensor> outs, Tensor?[] logits, Tensor?[] masks)
    {
        var names = logNames;
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        double batch = targets[0].shape[0];
        Tensor? total = null;
        var perOutputLoss = new double[outs.Count];
        for (var o = 0; o < outs.Count; o++)
        {
            var loss = masks[o] is { } mask ? losses![o].ComputeMasked(targets[o], outs[o], logits[o], mask, outputs[o].Layer.Name) : losses![o].Compute(targets[o], outs[o], logits[o]);
            perOutputLoss[o] = loss.item<float>();
            total = total is null ? loss : total + loss;
        }

        values["loss"] = total!.item<float>();
        var index = 1;
        if (outs.Count > 1)
        {
            foreach (var value in perOutputLoss)
            {
                values[names[index++]] = value;
            }
        }

        using (no_grad())
        {
            for (var o = 0; o < outs.Count; o++)
            {
                foreach (var metric in metrics![o])
                {
                    var name = names[index++];
                    if (masks[o] is { } mask)
                    {
                        var (value, weight) = metric.ComputeMasked(targets[o], outs[o], mask, outputs[o].Layer.Name);
                        (values[name], weights[name]) = (value.item<float>(), weight.item<float>());
                    }
                    else
                    {
                        values[name] = metric.Compute(targets[o], outs[o]).item<float>();
                    }
                }
            }
        }

        foreach (var key in values.Keys.Where(k => !weights.ContainsKey(k)).ToList())
        {
            weights[key] = batch;
        }

        return (total, values, weights);
    }

    /// <summary>Converts and checks inputs and targets; throws before anything runs.</summary>
    private DataSet Prepare(ModelData x, ModelData y, string xName, string yName)
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

            return new DataSet(inputs, targets, owned);
        }
        catch
        {
            owned.ForEach(t => t.Dispose());
            throw;
        }
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

            if (target.numel() > 0 && Range(target) is var (min, max) && (min < 0 || max >= classes))
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
