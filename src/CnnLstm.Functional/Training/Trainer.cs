using KerasStyle.Distributed;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Regularizers;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>
/// The loops behind a model's <c>Fit</c>, <c>Evaluate</c>, <c>TrainOnBatch</c> and <c>Predict</c>, as Keras 3's
/// <c>Trainer</c> and <c>TorchTrainer</c> (keras/src/trainers/trainer.py, keras/src/backend/torch/trainer.py):
/// <see cref="TrainStep"/>, <see cref="TestStep"/> and <see cref="PredictStep"/> run one batch; the fit, evaluate and
/// predict loops run the batches of a <see cref="BatchIterator"/> (arrays, tensors and a <see cref="DataSource"/>
/// alike), with the callbacks through one <see cref="CallbackList"/>. Data reaches the loops checked by
/// <see cref="Adapter"/>. One per model; it also holds what <c>Compile</c> set (losses, metrics, logged names).
/// </summary>
internal sealed class Trainer
{
    private readonly Model model;

    /// <summary>Whether the current Fit or TrainOnBatch has warned that the model has no trainable weights (once per call).</summary>
    private bool warnedNoTrainableWeights;

    /// <summary>Every compiled metric in Keras' log order (unweighted ones for every output, then weighted ones), with its output and logged name.</summary>
    private (int Output, Metric Metric, bool Weighted, string Name)[] metricSlots = Array.Empty<(int, Metric, bool, string)>();

    /// <summary>Per output, the activation whose input the loss takes as logits, or null (read once per Compile, not per batch).</summary>
    private string?[] logitsFor = Array.Empty<string?>();

    /// <summary>The distribution the running Fit or Evaluate spans, or null in one process.</summary>
    private DataParallel? parallel;

    /// <summary>The distribution whose ranks hold rank 0's weights since a TrainOnBatch or Fit broadcast them, or null.</summary>
    private DataParallel? broadcastFor;

    /// <summary>Creates the trainer of <paramref name="model"/>.</summary>
    public Trainer(Model model)
    {
        this.model = model;
        Adapter = new InputAdapter(model);
    }

    /// <summary>Whether a distributed Fit, Evaluate, TrainOnBatch or TestOnBatch runs (its callbacks may run on rank 0 only).</summary>
    public bool InDistributedLoop => parallel is not null;

    /// <summary>Converts and checks the data of every call.</summary>
    public InputAdapter Adapter { get; }

    /// <summary>The compiled loss of each output, or null before <c>Compile</c>.</summary>
    public Loss[]? Losses { get; private set; }

    /// <summary>The names of the logged values, <c>loss</c> first (Keras' <c>metrics_names</c>).</summary>
    public IReadOnlyList<string> LogNames { get; private set; } = new[] { "loss" };

    /// <summary>The metrics as Compile was given them (names or objects), which a saved compile config holds.</summary>
    public (Metric[] Metrics, Metric[] Weighted) MetricSpecs { get; private set; } = (Array.Empty<Metric>(), Array.Empty<Metric>());

    /// <summary>Sets the loss of every output and the metrics, checked against the outputs; nothing changes when a check fails.</summary>
    public void Compile(Loss loss, Metric[] metrics, Metric[] weightedMetrics)
    {
        var outputs = model.Outputs;
        foreach (var output in outputs)
        {
            loss.CheckOutput(output.Shape, output.Label);
        }

        var resolved = outputs.Select(o => metrics.Select(m => m.ForOutput(loss, o.Shape, o.Label)).ToArray()).ToArray();
        var resolvedWeighted = outputs.Select(o => weightedMetrics.Select(m => m.ForOutput(loss, o.Shape, o.Label)).ToArray()).ToArray();
        RefuseClassIdMetricsOffTheClassAxis(loss, outputs, resolved.Concat(resolvedWeighted));
        MetricSpecs = (metrics, weightedMetrics);
        Losses = outputs.Select(_ => loss).ToArray();
        logitsFor = Losses.Select(l => l.LogitsActivation).ToArray();
        metricSlots = MetricSlots(resolved, resolvedWeighted);
        var names = new List<string> { "loss" };
        if (outputs.Count > 1)
        {
            names.AddRange(outputs.Select(o => $"{o.Layer.Name}_loss"));
        }

        names.AddRange(metricSlots.Select(slot => slot.Name));
        LogNames = names;
    }

    /// <summary>
    /// Refuses class-id metrics (sparse categorical accuracy, sparse top-k...) when the sparse loss's class axis is not
    /// the output's last: Keras 3.16 computes them over the last axis whatever the loss's axis (a shape error, or the
    /// wrong axis when the two sizes happen to agree).
    /// </summary>
    private static void RefuseClassIdMetricsOffTheClassAxis(Loss loss, IReadOnlyList<Graph.KerasTensor> outputs, IEnumerable<Metric[]> resolved)
    {
        foreach (var (output, metrics) in outputs.Concat(outputs).Zip(resolved))
        {
            var rank = output.Shape.Rank;
            if (!loss.SparseTargets || (loss.ClassAxis + rank) % rank == rank - 1)
            {
                continue;
            }

            foreach (var metric in metrics.Where(m => m.SparseTargets))
            {
                throw new ArgumentException($"Compile: the metric '{metric.Name}' ({metric.GetType().Name}) reads class ids against the last axis of output {output.Label} {output.Shape}, but {loss.ClassName} '{loss.Name}' has its classes on axis {loss.ClassAxis}; Keras 3.16 computes such metrics over the last axis anyway (a shape error, or the wrong axis). Put the classes last (e.g. a Permute before the output) or use a metric of your own.", "metrics");
            }
        }
    }

    /// <summary>
    /// Refuses a model with a stateful recurrent layer under a <see cref="DataParallel"/> distribution, before anything
    /// runs or changes: each rank would carry the states of its own shard of every batch, so the states (and the next
    /// batches' results) would differ from rank to rank and from one process's.
    /// </summary>
    /// <exception cref="NotSupportedException">A distribution is set and the model (or a nested model) has a stateful layer; the message names it.</exception>
    private void RefuseStatefulUnderDistribution(string operation)
    {
        if (Distribution.Current is not null && model.FirstStatefulLayer() is { } layer)
        {
            throw new NotSupportedException($"{operation}: {layer.ClassName} '{layer.Name}' is stateful (stateful=true), which a DataParallel distribution does not support: each rank would carry the states of its own shard of every batch, so the states would differ between ranks and from one process's. Train the model in one process (Distribution.SetDistribution(null)), or with stateful=false.");
        }
    }

    /// <summary>Fit on arrays or tensors; see <see cref="Model.Fit(ModelData, ModelData, int, int, int, ValueTuple{ModelData, ModelData}?, double, bool, IEnumerable{ICallback}?, int, Array, IReadOnlyDictionary{int, double}?, CancellationToken)"/>.</summary>
    public History Fit(ModelData x, ModelData y, int batchSize, int epochs, int verbose, (ModelData X, ModelData Y)? validationData, double validationSplit, bool shuffle,
        IEnumerable<ICallback>? callbacks, int initialEpoch, Array? sampleWeight, IReadOnlyDictionary<int, double>? classWeight, CancellationToken cancellationToken)
    {
        model.RequireCompiled(nameof(Model.Fit));
        RefuseStatefulUnderDistribution(nameof(Model.Fit));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        CheckEpochArguments(epochs, initialEpoch, verbose);
        if (!(validationSplit >= 0 && validationSplit < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationSplit), validationSplit, "Fit: validationSplit must be in [0, 1).");
        }

        var userCallbacks = UserCallbacks(callbacks);
        InputAdapter.CheckOneKindOfWeights(sampleWeight, classWeight);
        using var exclusive = model.EnterTraining(nameof(Model.Fit));
        using var threads = ThreadPolicy.Begin();
        using var all = Adapter.Prepare(x, y, nameof(x), nameof(y), Losses!, sampleWeight, null);
        InputAdapter.RequireSamples(all, nameof(x));
        var givenValidation = validationData is { } v ? Adapter.Prepare(v.X, v.Y, "validationData.X", "validationData.Y", Losses!) : null;
        using var validationOwner = givenValidation;
        if (givenValidation is not null)
        {
            InputAdapter.RequireSamples(givenValidation, "validationData.X");
        }

        var splitAt = givenValidation is null && validationSplit > 0 ? (long)(all.Count * (1 - validationSplit)) : all.Count;
        if (splitAt == 0)
        {
            throw new ArgumentException($"Fit: validationSplit {validationSplit} of {all.Count} samples leaves no training samples.", nameof(validationSplit));
        }

        // Class weights weigh the training samples only (Keras splits off validation data first).
        using var sliced = all.Slice(0, splitAt);
        using var train = classWeight is null ? sliced : sliced.WithSampleWeights(Adapter.SampleWeights(null, classWeight, sliced.Targets, sliced.Count, Losses!));
        using var split = splitAt < all.Count ? all.Slice(splitAt, all.Count - splitAt) : null;
        var validation = givenValidation ?? split;
        if (Distribution.Current is { } distribution)
        {
            return DistributedFit(distribution, train, validation, batchSize, shuffle, epochs, verbose, userCallbacks, initialEpoch, cancellationToken);
        }

        return RunFit(ArrayBatches.ForTraining(train, batchSize, shuffle ? () => model.ShuffleRandom : (Func<Generator>?)null),
            validation is null ? null : ArrayBatches.InOrder(validation, batchSize), epochs, verbose, userCallbacks, initialEpoch, cancellationToken);
    }

    /// <summary>Fit on a <see cref="DataSource"/>; see <see cref="Model.Fit(DataSource, int, int, DataSource?, bool, IEnumerable{ICallback}?, int, int?, int?, IReadOnlyDictionary{int, double}?, CancellationToken)"/>.</summary>
    public History Fit(DataSource x, int epochs, int verbose, DataSource? validationData, bool shuffle, IEnumerable<ICallback>? callbacks, int initialEpoch,
        int? stepsPerEpoch, int? validationSteps, IReadOnlyDictionary<int, double>? classWeight, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(x);
        model.RequireCompiled(nameof(Model.Fit));
        RefuseStatefulUnderDistribution(nameof(Model.Fit));
        CheckEpochArguments(epochs, initialEpoch, verbose);
        var distribution = Distribution.Current;
        var (steps, count) = distribution is null
            ? SourceBatches.StepsFor(x, stepsPerEpoch, nameof(stepsPerEpoch), toTheEnd: false)
            : ShardedSource.StepsFor(x, stepsPerEpoch, nameof(stepsPerEpoch), distribution.Size, toTheEnd: false);
        var (validation, validationCount) = validationData is null ? (0, null)
            : distribution is null ? SourceBatches.StepsFor(validationData, validationSteps, nameof(validationSteps), toTheEnd: false)
            : ShardedSource.StepsFor(validationData, validationSteps, nameof(validationSteps), distribution.Size, toTheEnd: false);
        var userCallbacks = UserCallbacks(callbacks);

        using var exclusive = model.EnterTraining(nameof(Model.Fit));
        using var threads = ThreadPolicy.Begin();
        if (distribution is not null)
        {
            ShardedSource.RequireSameCount(count, nameof(x));
            if (validationData is not null)
            {
                ShardedSource.RequireSameCount(validationCount, nameof(validationData));
            }

            using (model.WriteWeights())
            {
                DataParallelTraining.BroadcastModel(model);
            }

            // As for arrays: one shuffle on every rank, from rank 0's seed.
            var shared = new Random((int)(DataParallelTraining.SharedSeed(model.ShuffleRandom) & int.MaxValue));
            return RunDistributed(distribution, nameof(Model.Fit), () => RunFit(
                ShardedSource.ForTraining(model, x, steps, count, shuffle, shared, Losses, classWeight, distribution, cancellationToken),
                validationData is null ? null : ShardedSource.ForEvaluation(model, validationData, validation, validationCount, validationSteps, nameof(validationData), nameof(Model.Fit), Losses, distribution, cancellationToken),
                epochs, verbose, userCallbacks, initialEpoch, cancellationToken));
        }

        using var seed = randint(0, int.MaxValue, new long[] { 1 }, generator: model.ShuffleRandom);
        var random = new Random((int)seed.item<long>());
        var train = new SourceBatches(model, x, () => x.Order(steps, shuffle, random, count, carryOn: true), steps, "x", Losses, classWeight,
            SourceBatches.RanOutInTraining(model), cancellationToken, training: true);
        var validate = validationData is null ? null : new SourceBatches(model, validationData, () => validationData.Order(validation, false, random, validationCount), validation,
            nameof(validationData), Losses, null, SourceBatches.RanOut(validation, nameof(validationData)), cancellationToken);
        return RunFit(train, validate, epochs, verbose, userCallbacks, initialEpoch, cancellationToken);
    }

    /// <summary>Evaluate on arrays or tensors, as Keras' <c>evaluate</c>.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(ModelData x, ModelData y, int batchSize, Array? sampleWeight, CancellationToken cancellationToken)
    {
        model.RequireCompiled(nameof(Model.Evaluate));
        RefuseStatefulUnderDistribution(nameof(Model.Evaluate));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var exclusive = model.EnterTraining(nameof(Model.Evaluate));
        using var threads = ThreadPolicy.Begin();
        using var data = Adapter.Prepare(x, y, nameof(x), nameof(y), Losses!, sampleWeight, null);
        InputAdapter.RequireSamples(data, nameof(x));
        if (Distribution.Current is { } distribution)
        {
            var previous = parallel;
            parallel = distribution;
            try
            {
                return Evaluate(ShardedBatches.InOrder(data, batchSize, distribution), cancellationToken);
            }
            catch (Exception e) when (DataParallelTraining.AbortJob("Evaluate", e))
            {
                throw;
            }
            finally
            {
                parallel = previous;
            }
        }

        return Evaluate(ArrayBatches.InOrder(data, batchSize), cancellationToken);
    }

    /// <summary>Evaluate on a <see cref="DataSource"/>.</summary>
    public IReadOnlyDictionary<string, double> Evaluate(DataSource x, int? steps, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(x);
        model.RequireCompiled(nameof(Model.Evaluate));
        RefuseStatefulUnderDistribution(nameof(Model.Evaluate));
        var distribution = Distribution.Current;
        var (batches, count) = distribution is null
            ? SourceBatches.StepsFor(x, steps, nameof(steps), toTheEnd: true)
            : ShardedSource.StepsFor(x, steps, nameof(steps), distribution.Size, toTheEnd: true);
        using var exclusive = model.EnterTraining(nameof(Model.Evaluate));
        using var threads = ThreadPolicy.Begin();
        if (distribution is not null)
        {
            ShardedSource.RequireSameCount(count, nameof(x));
            // Every rank ends with the same (global) result, so an empty one is refused on every rank alike.
            var global = RunDistributed(distribution, nameof(Model.Evaluate), () => Evaluate(
                ShardedSource.ForEvaluation(model, x, batches, count, steps, nameof(x), nameof(Model.Evaluate), Losses, distribution, cancellationToken), cancellationToken));
            return global.Count > 0 ? global : throw new ArgumentException("Evaluate: the data source gave no batches on any rank.", nameof(x));
        }

        var result = Evaluate(new SourceBatches(model, x, () => x.Order(batches, false, new Random(0), count), batches, nameof(x), Losses, null,
            SourceBatches.RanOut(steps, nameof(Model.Evaluate)), cancellationToken), cancellationToken);
        return result.Count > 0 ? result : throw new ArgumentException("Evaluate: the data source gave no batches.", nameof(x));
    }

    /// <summary>One gradient update on one batch, as Keras' <c>train_on_batch</c>.</summary>
    public IReadOnlyDictionary<string, double> TrainOnBatch(ModelData x, ModelData y, Array? sampleWeight, IReadOnlyDictionary<int, double>? classWeight)
    {
        model.RequireCompiled(nameof(Model.TrainOnBatch));
        RefuseStatefulUnderDistribution(nameof(Model.TrainOnBatch));
        InputAdapter.CheckOneKindOfWeights(sampleWeight, classWeight, nameof(Model.TrainOnBatch));
        using var exclusive = model.EnterTraining(nameof(Model.TrainOnBatch));
        using var threads = ThreadPolicy.Begin();
        var distribution = Distribution.Current;
        using var data = PrepareOnEveryRank(distribution, nameof(Model.TrainOnBatch), x, y, sampleWeight, classWeight);
        warnedNoTrainableWeights = false;
        if (distribution is null)
        {
            return TrainStep(data).ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);
        }

        return RunDistributed(distribution, nameof(Model.TrainOnBatch), () =>
        {
            if (!ReferenceEquals(broadcastFor, distribution))
            {
                // The first call under this distribution starts every rank from rank 0's weights and optimizer state, as Fit does.
                using (model.WriteWeights())
                {
                    DataParallelTraining.BroadcastModel(model);
                }

                broadcastFor = distribution;
            }

            return TrainStep(data).ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);
        });
    }

    /// <summary>The loss and metrics of one batch in inference mode, as Keras' <c>test_on_batch</c>; global values under a distribution.</summary>
    public IReadOnlyDictionary<string, double> TestOnBatch(ModelData x, ModelData y, Array? sampleWeight)
    {
        model.RequireCompiled(nameof(Model.TestOnBatch));
        RefuseStatefulUnderDistribution(nameof(Model.TestOnBatch));
        using var exclusive = model.EnterTraining(nameof(Model.TestOnBatch));
        using var threads = ThreadPolicy.Begin();
        var distribution = Distribution.Current;
        using var data = PrepareOnEveryRank(distribution, nameof(Model.TestOnBatch), x, y, sampleWeight, null);
        Dictionary<string, LoggedValue> Test()
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            using var weights = model.ReadWeights();
            ThreadPolicy.Apply(data.Count);
            var values = TestStep(data);
            return distribution is null ? values : DataParallelTraining.ReduceValues(data, values);
        }

        var result = distribution is null ? Test() : RunDistributed(distribution, nameof(Model.TestOnBatch), Test);
        return result.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal);
    }

    /// <summary>Predict on C# arrays (checked on the arrays), one array per output.</summary>
    public IReadOnlyList<Array> Predict(IReadOnlyList<Array> x, int batchSize, CancellationToken cancellationToken)
    {
        var tensors = Adapter.PredictInputs(x, batchSize, nameof(x));
        try
        {
            // The outputs are read into new arrays below, so a single batch's outputs need no copy of their own.
            var predicted = Predict(tensors, batchSize, cancellationToken, copyOneBatch: false);
            try
            {
                // A string output (StringLookup with invert) comes back as strings.
                return predicted.Select((t, o) => model.Outputs[o].DType == DType.String ? StringTensors.ToArray(StringTensors.Read(t), t.shape) : TensorData.ToArray(t)).ToArray();
            }
            finally
            {
                predicted.ForEach(t => t.Dispose());
            }
        }
        finally
        {
            tensors.ForEach(t => t.Dispose());
        }
    }

    /// <summary>Predict on tensors, converted and checked as Fit converts them; one new tensor per output.</summary>
    public List<Tensor> PredictTensors(IReadOnlyList<Tensor> x, int batchSize, CancellationToken cancellationToken)
    {
        using var data = Adapter.PrepareInputs(ModelData.FromTensors(x), nameof(x));
        return Predict(data.Inputs, batchSize, cancellationToken);
    }

    /// <summary>Predict on a <see cref="DataSource"/>'s batches (targets ignored), the outputs concatenated.</summary>
    public IReadOnlyList<Array> Predict(DataSource x, int? steps, CancellationToken cancellationToken)
    {
        var (batches, count) = SourceBatches.StepsFor(x, steps, nameof(steps), toTheEnd: true);
        var source = new SourceBatches(model, x, () => x.Order(batches, false, new Random(0), count), batches, nameof(x), null, null,
            SourceBatches.RanOut(steps, nameof(Model.Predict)), cancellationToken);
        var parts = model.Outputs.Select(_ => new List<Tensor>()).ToArray();
        try
        {
            foreach (var batch in source.Batches(0))
            {
                using (batch)
                {
                    var predicted = Predict(batch.Inputs, (int)Math.Max(1, batch.Count), cancellationToken);
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

    /// <summary>
    /// Keras' fit loop over the batches of <paramref name="train"/> (a new pass per epoch; each batch is disposed after
    /// its step), with callbacks, validation after each epoch and the iterator's <see cref="BatchIterator.EndEpoch"/>.
    /// A cancellation ends it between batches by <see cref="OperationCanceledException"/>, as any exception does:
    /// without the interrupted epoch's <c>OnEpochEnd</c> or <c>OnTrainEnd</c>, as Keras on an interrupt.
    /// </summary>
    private History RunFit(BatchIterator train, BatchIterator? validation, int epochs, int verbose, List<ICallback> userCallbacks, int initialEpoch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var steps = train.Steps;
        var names = LogNames.ToList();
        var parameters = new Dictionary<string, object>
        {
            ["epochs"] = epochs,
            ["steps"] = steps,
            ["verbose"] = verbose,
            ["do_validation"] = validation is not null,
            ["metrics"] = validation is null ? names : names.Concat(names.Select(n => "val_" + n)).ToList(),
        };
        if (train.BatchSize is int size)
        {
            parameters["batch_size"] = size;
        }

        if (train.Samples is long count)
        {
            parameters["samples"] = count;
        }

        if (parallel is not null)
        {
            // The batch size is per rank; a step trains on the global batch of batch_size x ranks samples.
            parameters["ranks"] = parallel.Size;
            if (train.BatchSize is int perRank)
            {
                parameters["global_batch_size"] = perRank * parallel.Size;
            }
        }

        // Under a distribution only rank 0 prints the progress bar and runs the callbacks that print or write files.
        var callbacks = new CallbackList(parallel is { Rank: not 0 } ? userCallbacks.Where(c => !DataParallelTraining.RankZeroOnly(c)).ToList() : userCallbacks,
            addHistory: true, addProgbar: verbose > 0 && (parallel?.Rank ?? 0) == 0, model, parameters);
        model.StopTraining = false;
        model.ResumeEpoch = null;
        warnedNoTrainableWeights = false;
        var epochLogs = new Dictionary<string, double>();
        callbacks.OnTrainBegin(new Dictionary<string, double>());
        if (parallel is not null)
        {
            // A backup rank 0 restored (BackupAndRestore) reaches every rank: its epoch, weights and optimizer state.
            using (model.WriteWeights())
            {
                DataParallelTraining.ShareRestore(model);
            }
        }

        // A callback that restored a backup (BackupAndRestore) says where training picks up.
        var first = Math.Max(initialEpoch, model.ResumeEpoch ?? initialEpoch);
        model.ResumeEpoch = null;
        for (var epoch = first; epoch < epochs && !model.StopTraining; epoch++)
        {
            callbacks.OnEpochBegin(epoch, new Dictionary<string, double>());
            epochLogs = RunEpoch(train.Batches(epoch), steps, epoch, epochs, callbacks, cancellationToken);
            // As Keras: an epoch stopped by a callback (or by data that ran out) is still validated.
            if (validation is not null)
            {
                foreach (var (key, value) in Evaluate(validation, cancellationToken, epoch))
                {
                    epochLogs["val_" + key] = value;
                }
            }

            train.EndEpoch();
            callbacks.OnEpochEnd(epoch, epochLogs);
            model.RaiseTrainingProgress(epoch, epochs, steps - 1, steps, true, epochLogs);
        }

        if (epochs > 0)
        {
            // Keras' fit: with use_ema, the weights become their moving averages (optimizer.finalize_variable_values).
            using (model.WriteWeights())
            {
                model.Optimizer!.FinalizeVariableValues(model.TrainableWeights);
            }
        }

        callbacks.OnTrainEnd(epochLogs);
        return callbacks.History!;
    }

    private Dictionary<string, double> RunEpoch(IEnumerable<DataSet> batches, int steps, int epoch, int epochs, CallbackList callbacks, CancellationToken cancellationToken)
    {
        var totals = new MetricTotals();
        var batch = 0;
        using var enumerator = batches.GetEnumerator();
        while (batch < steps && !model.StopTraining)
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
                callbacks.OnBatchBegin(batch, logs);
                values = TrainStep(data);
            }

            totals.Add(values);
            foreach (var (key, value) in values)
            {
                logs[key] = value.Value;
            }

            callbacks.OnBatchEnd(batch, logs);
            model.RaiseTrainingProgress(epoch, epochs, batch, steps, false, logs);
            batch++;
        }

        return totals.Results();
    }

    /// <summary>Keras' evaluate loop: every batch of one pass through <see cref="TestStep"/>, the values summed as Keras' metric states.</summary>
    private Dictionary<string, double> Evaluate(BatchIterator batches, CancellationToken cancellationToken, int epoch = 0)
    {
        var totals = new MetricTotals();
        using var noGrad = no_grad();
        foreach (var batch in batches.Batches(epoch))
        {
            if (cancellationToken.IsCancellationRequested)
            {
                batch.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
            }

            using var scope = NewDisposeScope();
            using var owned = batch;
            // Per batch, not while waiting for a DataSource's next batch, whose GetBatch may itself predict.
            using var weights = model.ReadWeights();
            ThreadPolicy.Apply(batch.Count);
            var values = TestStep(batch);
            totals.Add(parallel is null ? values : DataParallelTraining.ReduceValues(batch, values));
        }

        return totals.Results();
    }

    /// <summary>
    /// Keras' predict loop on inputs that passed the adapter's checks, in batches of <paramref name="batchSize"/>, in
    /// inference mode; one new tensor per output, the caller's. With <paramref name="copyOneBatch"/> false (a caller that
    /// only reads the outputs and disposes them, as Predict on arrays), a single batch's outputs come back as new
    /// handles on the graph's results instead of copies.
    /// </summary>
    private List<Tensor> Predict(IReadOnlyList<Tensor> x, int batchSize, CancellationToken cancellationToken, bool copyOneBatch = true)
    {
        // All batches of one call see one state of the weights: no training step or weight write runs meanwhile.
        using var weights = model.ReadWeights();
        using var threads = ThreadPolicy.Begin();
        var outputs = model.Outputs;
        var samples = x[0].size(0);
        if (samples == 0)
        {
            // As Keras: no samples give empty outputs of the output shapes (a dimension the graph leaves open is 0).
            return outputs.Select(o => empty(new long[] { 0 }.Concat(Enumerable.Range(1, o.Shape.Rank - 1).Select(d => (long)(o.Shape[d] ?? 0))).ToArray())).ToList();
        }

        var batches = new List<Tensor>[outputs.Count];
        for (var o = 0; o < outputs.Count; o++)
        {
            batches[o] = new List<Tensor>();
        }

        // Inference mode skips autograd's view and version tracking, which no_grad still does.
        using var inference = inference_mode(true);
        try
        {
            for (long start = 0; start < samples; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var length = Math.Min(batchSize, samples - start);
                ThreadPolicy.Apply(length);
                var results = PredictStep(length == samples ? x : x.Select(t => t.narrow(0, start, length)).ToArray());
                for (var o = 0; o < results.Count; o++)
                {
                    // A new handle per output: a result may be the caller's input tensor, or another output's handle,
                    // and the finally below disposes every handle it holds.
                    batches[o].Add(results[o].alias().MoveToOuterDisposeScope());
                }
            }

            // Always a copy, even of one batch (TorchSharp's cat returns a single tensor itself): an output may be an
            // input, a view of one (Dropout's inference alias, a reshape) or the same tensor as another output, and
            // each result is the caller's own.
            var result = new List<Tensor>(batches.Length);
            for (var o = 0; o < batches.Length; o++)
            {
                var list = batches[o];
                if (list.Count == 1 && !copyOneBatch)
                {
                    // Handed over as it is: the finally below no longer disposes it.
                    result.Add(list[0]);
                    list.Clear();
                }
                else
                {
                    result.Add(list.Count == 1 ? list[0].clone() : cat(list, 0));
                }
            }

            return result;
        }
        finally
        {
            foreach (var list in batches)
            {
                list.ForEach(t => t.Dispose());
            }
        }
    }

    /// <summary>Keras' <c>train_step</c>: the forward pass in training mode, the loss and metrics, the gradients and one optimizer update.</summary>
    private Dictionary<string, LoggedValue> TrainStep(DataSet batch)
    {
        // The step reads and writes the weights alone: predictions on other threads see them before or after it.
        using var weights = model.WriteWeights();
        using var scope = NewDisposeScope();
        ThreadPolicy.Apply(batch.Count);
        var trainable = model.TrainableWeights;
        foreach (var weight in trainable)
        {
            weight.ClearGradient();
        }

        try
        {
            // Embedding lookups give their gradient by rows, which Step applies and ClearGradient forgets.
            using var rows = LayerWeight.CollectRowGradients();
            using var activity = RegularizationLosses.Collect();
            var (outs, logits, masks) = Forward(batch.Inputs, training: true, logitsFor);
            var (total, values) = LossAndMetrics(batch.Targets, outs, logits, masks, batch.SampleWeights, activity.Losses);
            if (trainable.Count == 0)
            {
                // As Keras' train_step: no gradient and no optimizer update (its iterations stay), a warning instead.
                WarnNoTrainableWeights();
                return parallel is null ? values : DataParallelTraining.ReduceStep(parallel, model, trainable, batch, values);
            }

            // Keras' train_step: the loss times the optimizer's loss_scale_factor; the optimizer divides the gradients back.
            model.Optimizer!.ScaleLoss(total).backward();
            if (parallel is not null)
            {
                // The gradients of the global batch, averaged over the ranks, replace this rank's.
                values = DataParallelTraining.ReduceStep(parallel, model, trainable, batch, values);
            }

            model.Optimizer!.Step(trainable);
            // As Keras' optimizer.apply: each constraint is assigned after the updates.
            foreach (var weight in trainable)
            {
                weight.ApplyConstraint();
            }

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

    /// <summary>Keras' <c>test_step</c>: the forward pass in inference mode, the loss and metrics (run under no_grad, in the caller's dispose scope).</summary>
    private Dictionary<string, LoggedValue> TestStep(DataSet batch)
    {
        using var activity = RegularizationLosses.Collect();
        var (outs, logits, masks) = Forward(batch.Inputs, training: false, logitsFor);
        return LossAndMetrics(batch.Targets, outs, logits, masks, batch.SampleWeights, activity.Losses).Values;
    }

    /// <summary>Keras' <c>predict_step</c>: the outputs in inference mode (run under inference mode, in the caller's dispose scope).</summary>
    private IReadOnlyList<Tensor> PredictStep(IReadOnlyList<Tensor> batch) => Forward(batch, training: false, logitsFor: null).Outputs;

    /// <summary>
    /// Fit across the ranks of <paramref name="distribution"/>: rank 0's weights and optimizer state broadcast first,
    /// then the loop over this rank's shards (<see cref="ShardedBatches"/>), every step's gradients averaged. An
    /// exception (a callback's, a cancellation) ends the whole job with <c>MPI_Abort</c>, as the other ranks would
    /// otherwise wait for this one forever.
    /// </summary>
    private History DistributedFit(DataParallel distribution, DataSet train, DataSet? validation, int batchSize, bool shuffle, int epochs, int verbose,
        List<ICallback> userCallbacks, int initialEpoch, CancellationToken cancellationToken)
    {
        using (model.WriteWeights())
        {
            DataParallelTraining.BroadcastModel(model);
        }

        broadcastFor = distribution;
        using var shuffleRandom = shuffle ? new Generator(DataParallelTraining.SharedSeed(model.ShuffleRandom)) : null;
        var previous = parallel;
        parallel = distribution;
        try
        {
            return RunFit(ShardedBatches.ForTraining(train, batchSize, distribution, shuffleRandom), validation is null ? null : ShardedBatches.InOrder(validation, batchSize, distribution),
                epochs, verbose, userCallbacks, initialEpoch, cancellationToken);
        }
        catch (Exception e) when (DataParallelTraining.AbortJob("Fit", e))
        {
            throw;
        }
        finally
        {
            parallel = previous;
        }
    }

    /// <summary>
    /// Runs <paramref name="run"/> as a distributed loop of <paramref name="distribution"/> (the steps average their
    /// gradients and sum their logged statistics over the ranks). An exception ends the whole job with <c>MPI_Abort</c>,
    /// as the other ranks would otherwise wait for this one forever.
    /// </summary>
    private T RunDistributed<T>(DataParallel distribution, string what, Func<T> run)
    {
        var previous = parallel;
        parallel = distribution;
        try
        {
            return run();
        }
        catch (Exception e) when (DataParallelTraining.AbortJob(what, e))
        {
            throw;
        }
        finally
        {
            parallel = previous;
        }
    }

    /// <summary>
    /// The checked batch of TrainOnBatch or TestOnBatch. Under a distribution each rank passes its own batch, so the
    /// ranks agree (one <c>MPI_Allreduce</c> of a flag per rank) before anything else is exchanged: when any rank's batch
    /// is refused, that rank throws its own exception and the others an <see cref="ArgumentException"/> naming it.
    /// </summary>
    private DataSet PrepareOnEveryRank(DataParallel? distribution, string what, ModelData x, ModelData y, Array? sampleWeight, IReadOnlyDictionary<int, double>? classWeight)
    {
        DataSet Prepare()
        {
            var data = Adapter.Prepare(x, y, nameof(x), nameof(y), Losses!, sampleWeight, classWeight, what);
            try
            {
                InputAdapter.RequireSamples(data, nameof(x));
                return data;
            }
            catch
            {
                data.Dispose();
                throw;
            }
        }

        if (distribution is null)
        {
            return Prepare();
        }

        DataSet? prepared = null;
        Exception? error = null;
        try
        {
            prepared = Prepare();
        }
        catch (Exception e)
        {
            error = e;
        }

        var refused = new double[distribution.Size];
        refused[distribution.Rank] = error is null ? 0 : 1;
        distribution.AllreduceSum(refused);
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        if (refused.Any(r => r > 0))
        {
            prepared!.Dispose();
            var ranks = string.Join(", ", refused.Select((r, i) => (r, i)).Where(p => p.r > 0).Select(p => p.i));
            throw new ArgumentException($"{what}: the batch of rank {ranks} was refused (that rank threw why); under a DataParallel distribution every rank passes a valid batch of at least one sample, and no rank's step runs.", nameof(x));
        }

        return prepared!;
    }

    /// <summary>The one place the loops run the model's graph.</summary>
    private (IReadOnlyList<Tensor> Outputs, Tensor?[] Logits, Tensor?[] Masks) Forward(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<string?>? logitsFor) =>
        model.RunWithMasks(inputs, training, logitsFor);

    /// <summary>Keras' warning for a step without trainable weights, once per Fit or TrainOnBatch (Python shows a repeated warning once).</summary>
    private void WarnNoTrainableWeights()
    {
        if (!warnedNoTrainableWeights)
        {
            warnedNoTrainableWeights = true;
            Warnings.Warn($"Model '{model.Name}' does not have any trainable weights: training computes the loss and metrics but updates no weight, and the optimizer's iterations stay at {model.Optimizer!.Iterations} (as Keras' \"The model does not have any trainable weights.\").");
        }
    }

    /// <summary>
    /// The total loss (summed over outputs, as Keras) and the logged values: each loss weighted in an epoch's mean by
    /// the batch size (Keras' loss tracker), each metric by its own statistics (see <see cref="Metric"/>), with the
    /// sample weights and masks applied. As Keras 3.16's <c>compute_loss</c>, the total and the logged <c>loss</c> include
    /// the regularization losses: <paramref name="activityLosses"/> (the forward pass's activity penalties) and the
    /// penalties of the trainable weights that have a regularizer; each output's own logged loss does not.
    /// </summary>
    private (Tensor Total, Dictionary<string, LoggedValue> Values) LossAndMetrics(IReadOnlyList<Tensor> targets, IReadOnlyList<Tensor> outs, Tensor?[] logits, Tensor?[] masks, Tensor? sampleWeights,
        IReadOnlyList<Tensor> activityLosses)
    {
        var names = LogNames;
        var outputs = model.Outputs;
        var values = new Dictionary<string, LoggedValue>(StringComparer.Ordinal);
        double batch = targets[0].shape[0];
        LoggedValue Mean(double value) => new(value, new[] { value * batch, batch }, s => s[1] > 0 ? s[0] / s[1] : 0);
        Tensor? total = null;
        var perOutputLoss = new double[outs.Count];
        for (var o = 0; o < outs.Count; o++)
        {
            var loss = Losses![o].ComputeWeighted(targets[o], outs[o], logits[o], sampleWeights, masks[o], outputs[o].Layer.Name);
            perOutputLoss[o] = loss.item<float>();
            total = total is null ? loss : total.add(loss, Scalars.One);
        }

        foreach (var extra in activityLosses.Concat(RegularizationLosses.WeightPenalties(model.TrainableWeights)))
        {
            total = total!.add(extra, Scalars.IntOne);
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
                var weights = masks[o] is { } mask ? (given is null ? mask : mask.to_type(ScalarType.Float32) * (given.dim() < mask.dim() ? given.unsqueeze(-1) : given)) : given;
                var statistics = metric.Statistics(targets[o], outs[o], weights).data<double>().ToArray();
                values[name] = new LoggedValue(metric.Result(statistics), statistics, metric.Result);
            }
        }

        return (total, values);
    }

    /// <summary>
    /// The logged metrics, as Keras 3's <c>CompileMetrics.result</c>: every output's metrics (prefixed with the
    /// output's layer name for several outputs), then the weighted metrics, a taken name becoming
    /// <c>weighted_</c> + name.
    /// </summary>
    private (int, Metric, bool, string)[] MetricSlots(Metric[][] metrics, Metric[][] weightedMetrics)
    {
        var outputs = model.Outputs;
        var slots = new List<(int, Metric, bool, string)>();
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

        return slots.ToArray();
    }
}
