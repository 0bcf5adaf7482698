using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Models;

/// <summary>
/// A functional model, as Keras' <c>Model(inputs, outputs)</c>: the graph of layer calls between the given input
/// tensors and output tensors, run in depth order.
/// </summary>
public partial class Model : IDisposable
{
    private GraphTopology? topology;
    private IReadOnlyList<KerasTensor> inputs = Array.Empty<KerasTensor>();
    private IReadOnlyList<KerasTensor> outputs = Array.Empty<KerasTensor>();
    /// <summary>Set by <see cref="Dispose()"/>: from then on every call throws; the release itself may come later (see <see cref="FinishDispose"/>).</summary>
    private volatile bool disposeRequested;
    private Generator? shuffleRandom;

    /// <summary>The layers this model holds a share of (see <c>Layer.ReleaseByModel</c>).</summary>
    private readonly HashSet<Layer> retained = new(ReferenceEqualityComparer.Instance);

    /// <summary>The weight locks of every layer this model runs, inner models' and wrappers' layers included, in lock order.</summary>
    private Layer[] weightLocks = Array.Empty<Layer>();

    /// <summary>The managed thread id running Fit, Evaluate, TrainOnBatch or a weights load or save; 0 when none.</summary>
    private int training;

    /// <summary>The value of <see cref="training"/> once the model's resources are released.</summary>
    private const int DisposedOwner = -1;

    /// <summary>
    /// The layers each input reaches as it is (directly, inside wrappers or inside models used as layers) that check
    /// the range of its integer values (an Embedding's token ids), which every batch is checked against.
    /// </summary>
    private Dictionary<KerasTensor, IReadOnlyList<Layer>> idCheckersByInput = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates a model with one input and one output.</summary>
    /// <param name="inputs">The input tensor, made by <see cref="Input"/>.</param>
    /// <param name="outputs">The output tensor.</param>
    /// <param name="name">Model name; defaults to <c>model_N</c>.</param>
    public Model(KerasTensor inputs, KerasTensor outputs, string? name = null)
        : this(new[] { inputs ?? throw new ArgumentNullException(nameof(inputs)) }, new[] { outputs ?? throw new ArgumentNullException(nameof(outputs)) }, name)
    {
    }

    /// <summary>Creates a model with several inputs and one output, as Keras' <c>Model([a, b], y)</c>.</summary>
    /// <param name="inputs">The input tensors, each made by <see cref="Input"/>, in the order Predict and Fit take data.</param>
    /// <param name="outputs">The output tensor.</param>
    /// <param name="name">Model name; defaults to <c>model_N</c>.</param>
    public Model(IEnumerable<KerasTensor> inputs, KerasTensor outputs, string? name = null)
        : this(inputs, new[] { outputs ?? throw new ArgumentNullException(nameof(outputs)) }, name)
    {
    }

    /// <summary>Creates a model with several inputs and outputs, in the given order.</summary>
    /// <param name="inputs">The input tensors, each made by <see cref="Input"/>.</param>
    /// <param name="outputs">The output tensors.</param>
    /// <param name="name">Model name; defaults to <c>model_N</c>.</param>
    public Model(IEnumerable<KerasTensor> inputs, IEnumerable<KerasTensor> outputs, string? name = null)
        : this(name, "model")
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        SetGraph(inputs.ToArray(), outputs.ToArray());
    }

    /// <summary>Creates a model whose graph is set later (used by <see cref="Sequential"/>).</summary>
    /// <param name="name">Model name, or null for the default.</param>
    /// <param name="defaultPrefix">Prefix of the default name.</param>
    private protected Model(string? name, string defaultPrefix)
    {
        Name = name ?? NameScope.UniqueName(defaultPrefix);
    }

    /// <summary>The model's own generator for shuffling in Fit, made on first use (see <c>Engine/RandomStreams.cs</c>).</summary>
    internal Generator ShuffleRandom => shuffleRandom ??= RandomStreams.NewGenerator();

    /// <summary>The model name.</summary>
    public string Name { get; }

    /// <summary>The input tensors, in order.</summary>
    public IReadOnlyList<KerasTensor> Inputs => inputs;

    /// <summary>The output tensors, in order.</summary>
    public IReadOnlyList<KerasTensor> Outputs => outputs;

    /// <summary>The layers, deepest first as Keras lists them (functional models include their input layers).</summary>
    public virtual IReadOnlyList<Layer> Layers => Topology.Layers;

    /// <summary>
    /// The weights an optimizer updates, layer by layer as <see cref="Layers"/>, each once (Keras'
    /// <c>trainable_weights</c>, the order of its <c>trainable_variables</c>): a custom training loop takes the gradient
    /// of each and gives them to <see cref="Training.Optimizers.Optimizer.ApplyGradients(IEnumerable{ValueTuple{Tensor, LayerWeight}})"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no graph yet (a <see cref="Sequential"/> without an input).</exception>
    public IReadOnlyList<LayerWeight> TrainableWeights => Layers.SelectMany(l => l.TrainableWeights).Distinct().ToArray();

    /// <summary>The weights an optimizer leaves alone (Keras' <c>non_trainable_weights</c>): those of layers that are not trainable, and statistics such as BatchNormalization's moving mean and variance.</summary>
    /// <exception cref="InvalidOperationException">The model has no graph yet.</exception>
    public IReadOnlyList<LayerWeight> NonTrainableWeights => Layers.SelectMany(l => l.NonTrainableWeights).Distinct().ToArray();

    /// <summary>Whether the graph is known (a <see cref="Sequential"/> model without an input is not).</summary>
    public bool Built => topology is not null;

    private protected GraphTopology Topology => topology
        ?? throw new InvalidOperationException($"Model '{Name}' has no input yet, so it has no graph: add an Input first (or give the first layer an input shape).");

    /// <summary>Looks up a layer by name.</summary>
    /// <param name="name">The layer name.</param>
    public Layer GetLayer(string name)
    {
        ThrowIfDisposed();
        return Layers.FirstOrDefault(l => l.Name == name)
            ?? throw new ArgumentException($"Model '{Name}' has no layer named '{name}'; its layers are {string.Join(", ", Layers.Select(l => l.Name))}.", nameof(name));
    }

    /// <summary>
    /// This model as a layer of other models (made on first use; one per model, so calls share weights), made again
    /// once the models that used it were disposed: the model the user holds stays usable as a layer.
    /// </summary>
    internal ModelLayer AsLayer => asLayer is { IsDisposed: false } ? asLayer : asLayer = new ModelLayer(this, ownsModel: false);

    /// <summary>This model as a layer that owns it: disposing the layer disposes the model (nested models read from a config).</summary>
    internal ModelLayer AsOwnedLayer() => asLayer ??= new ModelLayer(this, ownsModel: true);

    private ModelLayer? asLayer;

    /// <summary>The model's nodes, for writing its config.</summary>
    internal IReadOnlyCollection<Node> TopologyNodes => Topology.Nodes;

    /// <summary>
    /// Calls the model on a new symbolic tensor, as Keras' <c>model(x)</c>: the model becomes one layer of the graph
    /// being built (shown as one row in summaries), and calling it again shares its weights. The model must be built.
    /// </summary>
    /// <param name="input">A tensor of the shape and dtype of the model's input.</param>
    /// <returns>The model's output for this call.</returns>
    /// <exception cref="LayerInputException">The input does not fit the model's input (the message names both shapes).</exception>
    public KerasTensor Call(KerasTensor input)
    {
        ThrowIfDisposed();
        _ = Topology;
        return AsLayer.Call(input);
    }

    /// <summary>Calls a model with several inputs (<c>model([a, b])</c>); see <see cref="Call(KerasTensor)"/>.</summary>
    /// <param name="inputs">One tensor per model input, in order.</param>
    /// <returns>The model's output for this call (use <see cref="CallMulti"/> for a model with several outputs).</returns>
    public KerasTensor Call(params KerasTensor[] inputs)
    {
        ThrowIfDisposed();
        _ = Topology;
        return AsLayer.Call(inputs);
    }

    /// <summary>Calls the model and returns all of its outputs, in order.</summary>
    /// <param name="inputs">One tensor per model input, in order.</param>
    public IReadOnlyList<KerasTensor> CallMulti(params KerasTensor[] inputs)
    {
        ThrowIfDisposed();
        _ = Topology;
        return AsLayer.CallMulti(inputs);
    }

    /// <summary>
    /// Calls the model on concrete data, as Keras' <c>model(x)</c> on tensors: the graph runs once on the batch, with
    /// the same input checks as a symbolic call and no node recorded; see <see cref="Layer.Invoke(Tensor, bool, Tensor)"/>
    /// (the result is the caller's to dispose). Unlike <see cref="Predict(Array, int, CancellationToken)"/> it runs in
    /// one batch and leaves autograd as the caller set it.
    /// </summary>
    /// <param name="input">One batch for the model's single input.</param>
    /// <param name="training">True to run as in training (dropout on).</param>
    /// <param name="mask">The input's mask, or null.</param>
    /// <returns>The model's single output.</returns>
    /// <exception cref="LayerInputException">The input does not fit the model's input (the message names both shapes).</exception>
    public Tensor Invoke(Tensor input, bool training = false, Tensor? mask = null)
    {
        ThrowIfDisposed();
        _ = Topology;
        return AsLayer.Invoke(input, training, mask);
    }

    /// <summary>Calls a model with several inputs on concrete tensors (<c>model([a, b])</c>); see <see cref="Invoke(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="inputs">One tensor per model input, in order.</param>
    /// <returns>The model's single output.</returns>
    public Tensor Invoke(params Tensor[] inputs)
    {
        ThrowIfDisposed();
        _ = Topology;
        return AsLayer.Invoke(inputs);
    }

    /// <summary>Calls the model on concrete tensors and returns all of its outputs; see <see cref="Invoke(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="inputs">One tensor per model input, in order.</param>
    /// <param name="training">True to run as in training.</param>
    /// <param name="masks">One mask per input (null where it has none), or null.</param>
    /// <returns>One tensor per model output, each owned by the caller.</returns>
    public IReadOnlyList<Tensor> InvokeMulti(IReadOnlyList<Tensor> inputs, bool training = false, IReadOnlyList<Tensor?>? masks = null)
    {
        ThrowIfDisposed();
        _ = Topology;
        return AsLayer.InvokeMulti(inputs, training, masks);
    }

    /// <summary>The layers an input feeds as it is that check its integer values (see <see cref="Layer.IdCheckersFedBy"/>).</summary>
    internal IReadOnlyList<Layer> IdCheckersFedBy(KerasTensor input) => idCheckersByInput[input];

    /// <summary>The number of scalars in all weights.</summary>
    public long CountParams()
    {
        ThrowIfDisposed();
        return Layers.Sum(l => l.CountParams());
    }

    /// <summary>
    /// Prints the Keras 2 summary table to standard output, exactly as Keras' <c>model.summary()</c> prints it, so
    /// that <c>model.Summary();</c> shows it; also returns the text. <see cref="SummaryText"/> returns it without
    /// printing.
    /// </summary>
    /// <returns>The printed table.</returns>
    public string Summary()
    {
        var text = SummaryText();
        Console.Out.Write(text);
        return text;
    }

    /// <summary>The Keras 2 summary table as text, without printing it.</summary>
    public string SummaryText()
    {
        ThrowIfDisposed();
        return SummaryFormatter.FormatForStyle(this, Layers, Topology.Nodes.ToHashSet(), IsChainLike);
    }

    /// <summary>Writes <see cref="SummaryText"/> to <paramref name="writer"/> (standard output by default).</summary>
    /// <param name="writer">Where to write.</param>
    public void PrintSummary(TextWriter? writer = null) => (writer ?? Console.Out).Write(SummaryText());

    /// <summary>
    /// Sets the carried states of every stateful layer to zeros, nested models included: tf.keras 2's
    /// <c>model.reset_states()</c> (Keras 3 has no model-level call; there it is <c>layer.reset_state()</c> on each
    /// layer, here <see cref="RNN.ResetState"/> and <see cref="Bidirectional.ResetState"/>). Layers that are not
    /// stateful are left alone.
    /// </summary>
    public void ResetStates()
    {
        foreach (var layer in Layers)
        {
            switch (layer)
            {
                case RNN rnn:
                    rnn.ResetState();
                    break;
                case Bidirectional { Stateful: true } bidirectional:
                    bidirectional.ResetState();
                    break;
                case ModelLayer nested:
                    nested.Model.ResetStates();
                    break;
            }
        }
    }

    /// <summary>The first stateful layer (<see cref="RNN.Stateful"/>, <see cref="Bidirectional.Stateful"/>), nested models included, or null.</summary>
    internal Layer? FirstStatefulLayer() => Layers.Select(layer => layer switch
    {
        RNN { Stateful: true } or Bidirectional { Stateful: true } => layer,
        ModelLayer nested => nested.Model.FirstStatefulLayer(),
        _ => null,
    }).FirstOrDefault(layer => layer is not null);

    /// <summary>Runs the model on one input array in inference mode (dropout off), in batches.</summary>
    /// <param name="x">Samples along the first dimension: float[,,] for sequences, int[,] or long[,] for token ids.</param>
    /// <param name="batchSize">Samples per batch; must be positive.</param>
    /// <param name="cancellationToken">Ends the prediction between batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The single output as a float array of the output's rank, e.g. float[,] for (None, 1).</returns>
    public Array Predict(Array x, int batchSize = 32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        var result = Predict((IReadOnlyList<Array>)new[] { x }, batchSize, cancellationToken);
        if (result.Count != 1)
        {
            throw new InvalidOperationException($"Model '{Name}' has {result.Count} outputs; use the Predict overload that takes a list.");
        }

        return result[0];
    }

    /// <summary>
    /// Runs the model on one input array in inference mode and returns its single output typed, without a cast:
    /// <c>float[,] y = model.Predict&lt;float[,]&gt;(x)</c> for an output of shape (batch, units).
    /// </summary>
    /// <typeparam name="T">The output's array type: float[] for (batch,), float[,] for (batch, n), float[,,] for
    /// (batch, steps, n).</typeparam>
    /// <param name="x">Samples along the first dimension, as for <see cref="Predict(Array, int, CancellationToken)"/>.</param>
    /// <param name="batchSize">Samples per batch; must be positive.</param>
    /// <param name="cancellationToken">Ends the prediction between batches with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="InvalidCastException">The output has another rank (the message names the type to ask for).</exception>
    public T Predict<T>(Array x, int batchSize = 32, CancellationToken cancellationToken = default)
        where T : class
    {
        var result = Predict(x, batchSize, cancellationToken);
        return result as T ?? throw new InvalidCastException(
            $"Model '{Name}': the output {outputs[0].Shape} comes back as {TensorData.TypeName(result)}, not {TensorData.TypeName(typeof(T))}; call Predict<{TensorData.TypeName(result)}>(x).");
    }

    /// <summary>Runs a model with several inputs in inference mode and returns its single output typed (see <see cref="Predict{T}(Array, int, CancellationToken)"/>).</summary>
    /// <typeparam name="T">The output's array type.</typeparam>
    /// <param name="x">One array per model input, in order.</param>
    /// <param name="batchSize">Samples per batch; must be positive.</param>
    /// <param name="cancellationToken">Ends the prediction between batches with <see cref="OperationCanceledException"/>.</param>
    public T Predict<T>(Array[] x, int batchSize = 32, CancellationToken cancellationToken = default)
        where T : class
    {
        var results = Predict(x, batchSize, cancellationToken);
        if (results.Count != 1)
        {
            throw new InvalidOperationException($"Model '{Name}' has {results.Count} outputs; use Predict(x), which returns one array per output.");
        }

        return results[0] as T ?? throw new InvalidCastException(
            $"Model '{Name}': the output {outputs[0].Shape} comes back as {TensorData.TypeName(results[0])}, not {TensorData.TypeName(typeof(T))}; call Predict<{TensorData.TypeName(results[0])}>(x).");
    }

    /// <summary>Runs a model with several inputs in inference mode, in batches.</summary>
    /// <param name="x">One array per model input, in order.</param>
    /// <param name="batchSize">Samples per batch; must be positive.</param>
    /// <param name="cancellationToken">Ends the prediction between batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>One float array per model output, in order.</returns>
    public IReadOnlyList<Array> Predict(Array[] x, int batchSize = 32, CancellationToken cancellationToken = default) => Predict((IReadOnlyList<Array>)x, batchSize, cancellationToken);

    /// <summary>Runs a model with several inputs in inference mode, in batches.</summary>
    /// <param name="x">One array per model input, in order.</param>
    /// <param name="batchSize">Samples per batch; must be positive.</param>
    /// <param name="cancellationToken">Ends the prediction between batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>One float array per model output, in order.</returns>
    public IReadOnlyList<Array> Predict(IReadOnlyList<Array> x, int batchSize = 32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ThrowIfDisposed();
        _ = Topology;
        return Trainer.Predict(x, batchSize, cancellationToken);
    }

    /// <summary>Runs the model on TorchSharp tensors in inference mode (dropout off), in batches.</summary>
    /// <param name="x">One tensor per model input, samples along dimension 0.</param>
    /// <param name="batchSize">Samples per batch; must be positive.</param>
    /// <param name="cancellationToken">Ends the prediction between batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>One new tensor per output, owned by the caller. They are made under torch's inference mode, so they
    /// cannot take part in autograd.</returns>
    public List<Tensor> PredictTensors(IReadOnlyList<Tensor> x, int batchSize = 32, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ThrowIfDisposed();
        _ = Topology;
        // The same conversions and checks as Fit: dtypes (a float input takes any number type as float32, token ids
        // must be integers), finite values, shapes and token-id ranges.
        return Trainer.PredictTensors(x, batchSize, cancellationToken);
    }

    /// <summary>Releases every layer's weights.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Disposes the layers, and the optimizer when the model created it (compiled by name or loaded from a file);
    /// an optimizer object passed to <c>Compile</c> stays the caller's. Every call after it throws
    /// <see cref="ObjectDisposedException"/>. Predictions running on other threads finish first. A <c>Fit</c>,
    /// <c>Evaluate</c>, <c>TrainOnBatch</c> or weights load or save that is running (on any thread, e.g. from a
    /// callback) throws <see cref="ObjectDisposedException"/> at its next batch, and the release happens when it ends.
    /// </summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        disposeRequested = true;
        FinishDispose();
    }

    /// <summary>
    /// Releases the model once disposal was asked for and no call that marks it busy runs: called by
    /// <see cref="Dispose(bool)"/> and by the end of such a call; the first to find the model free does it.
    /// </summary>
    private void FinishDispose()
    {
        if (!disposeRequested || Interlocked.CompareExchange(ref training, DisposedOwner, 0) != 0)
        {
            return;
        }

        // Waits for the predictions running on these weights; later ones see the model disposed.
        using (Layer.EnterWeights(weightLocks, write: true))
        {
            // A layer shared with another model lives until that model is disposed too.
            foreach (var layer in retained)
            {
                layer.ReleaseByModel();
            }

            retained.Clear();
            // The layer made for eager calls (Invoke) that no other model's graph uses holds the layers too.
            if (asLayer is { InboundNodes.Count: 0 } unused)
            {
                unused.Dispose();
            }

            shuffleRandom?.Dispose();
            if (ownsOptimizer)
            {
                Optimizer?.Dispose();
            }
        }
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> naming the model once it was disposed.</summary>
    private protected void ThrowIfDisposed()
    {
        if (disposeRequested)
        {
            throw new ObjectDisposedException($"Model '{Name}'", $"Model '{Name}' has been disposed; its weights are released. Build or load the model again.");
        }
    }

    /// <summary>Shares the model's weights with other readers (predictions, evaluation, saving) until disposed; waits for a running training step or weight write.</summary>
    /// <exception cref="ObjectDisposedException">The model, or one of its layers, was disposed.</exception>
    internal Layer.WeightAccess ReadWeights() => EnterWeights(write: false);

    /// <summary>Holds the model's weights alone (a training step, a weight write) until disposed; waits for running predictions.</summary>
    /// <exception cref="ObjectDisposedException">The model, or one of its layers, was disposed.</exception>
    internal Layer.WeightAccess WriteWeights() => EnterWeights(write: true);

    private Layer.WeightAccess EnterWeights(bool write)
    {
        var access = Layer.EnterWeights(weightLocks, write);
        var released = Array.Find(weightLocks, l => l.IsDisposed);
        if (disposeRequested || released is not null)
        {
            access.Dispose();
            ThrowIfDisposed();
            throw new ObjectDisposedException($"{released!.ClassName} '{released.Name}'",
                $"Model '{Name}': its layer {released.ClassName} '{released.Name}' has been disposed, so its weights are released; the model cannot run.");
        }

        return access;
    }

    /// <summary>Whether <see cref="Summary"/> uses the 65-column chain form.</summary>
    private protected virtual bool IsChainLike => SummaryFormatter.IsChainLike(Topology.NodesByDepth, Layers);

    /// <summary>Sets (or replaces) the graph, checking it is connected and its layer names unique.</summary>
    private protected void SetGraph(IReadOnlyList<KerasTensor> newInputs, IReadOnlyList<KerasTensor> newOutputs)
    {
        if (newInputs.Count == 0 || newOutputs.Count == 0)
        {
            throw new ArgumentException($"Model '{Name}': a model needs at least one input and one output, got {newInputs.Count} inputs and {newOutputs.Count} outputs.");
        }

        foreach (var input in newInputs)
        {
            ArgumentNullException.ThrowIfNull(input, nameof(inputs));
            if (input.Layer is not InputLayer)
            {
                throw new ArgumentException($"Model '{Name}': every input must be a tensor made by Input(...), but {input.Label} with shape {input.Shape} comes from {input.Layer.ClassName} '{input.Layer.Name}'.", nameof(inputs));
            }
        }

        if (newInputs.Distinct(ReferenceEqualityComparer.Instance).Count() != newInputs.Count)
        {
            throw new ArgumentException($"Model '{Name}': the same input tensor is given twice in [{string.Join(", ", newInputs.Select(t => t.Label))}].", nameof(inputs));
        }

        topology = GraphTopology.Build(Name, newInputs, newOutputs);
        foreach (var layer in topology.Layers.Where(retained.Add))
        {
            layer.RetainByModel();
        }

        weightLocks = Layer.LockSet(retained);

        inputs = newInputs;
        outputs = newOutputs;
        idCheckersByInput = newInputs.ToDictionary<KerasTensor, KerasTensor, IReadOnlyList<Layer>>(input => input, input => topology.Nodes
            .SelectMany(n => n.Inputs.Select((t, i) => (t, i)).Where(p => ReferenceEquals(p.t, input)).SelectMany(p => n.Layer.IdCheckersFedBy(p.i)))
            .Distinct().ToArray(), ReferenceEqualityComparer.Instance);
    }

    /// <summary>Runs the graph once on a batch; <paramref name="training"/> enables dropout.</summary>
    internal IReadOnlyList<Tensor> Run(IReadOnlyList<Tensor> batch, bool training) => Run(batch, training, null).Outputs;

    /// <summary>
    /// Runs the graph once; for each output whose layer ends in the activation named in <paramref name="logitsFor"/>,
    /// also returns the values before that activation.
    /// </summary>
    internal (IReadOnlyList<Tensor> Outputs, Tensor?[] Logits) Run(IReadOnlyList<Tensor> batch, bool training, IReadOnlyList<string?>? logitsFor)
    {
        var (results, logits, _) = RunWithMasks(batch, training, logitsFor);
        return (results, logits);
    }

    /// <summary>
    /// Runs the graph once, also returning each output's mask (null where it has none), as Keras'
    /// <c>Function._run_through_graph</c>: every node, a model used as a layer included, by depth through its layer's
    /// <c>Forward(inputs, masks, training)</c>, which returns the outputs and their masks.
    /// </summary>
    /// <param name="batch">One tensor per model input.</param>
    /// <param name="training">Whether dropout is on.</param>
    /// <param name="logitsFor">Per output, the activation whose input to return as logits, or null.</param>
    /// <param name="inputMasks">Masks of the inputs (a model used as a layer gets its caller's), or null.</param>
    internal (IReadOnlyList<Tensor> Outputs, Tensor?[] Logits, Tensor?[] Masks) RunWithMasks(IReadOnlyList<Tensor> batch, bool training, IReadOnlyList<string?>? logitsFor,
        IReadOnlyList<Tensor?>? inputMasks = null)
    {
        var logits = new Tensor?[outputs.Count];
        var masks = new Dictionary<KerasTensor, Tensor>(ReferenceEqualityComparer.Instance);
        var values = new Dictionary<KerasTensor, Tensor>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < inputs.Count && inputMasks is not null; i++)
        {
            if (inputMasks[i] is { } mask)
            {
                masks[inputs[i]] = mask;
            }
        }

        for (var i = 0; i < inputs.Count; i++)
        {
            values[inputs[i]] = batch[i];
        }

        foreach (var node in Topology.Nodes)
        {
            if (node.Layer is InputLayer)
            {
                continue;
            }

            var inputValues = new Tensor[node.Inputs.Count];
            var nodeMasks = new Tensor?[inputValues.Length];
            for (var i = 0; i < inputValues.Length; i++)
            {
                inputValues[i] = values[node.Inputs[i]];
                // A recurrent layer's initial states (the last inputs) carry no mask into the call.
                nodeMasks[i] = i < inputValues.Length - node.InitialStates ? masks.GetValueOrDefault(node.Inputs[i]) : null;
            }

            IReadOnlyList<Tensor> results;
            Tensor?[]? resultMasks;
            var wanted = logitsFor is null ? -1 : IndexOfLogitsOutput(node, logitsFor);
            if (wanted >= 0)
            {
                // The output of a from_logits loss: its values before the final activation are kept as the logits.
                var pre = node.Layer.ForwardPreActivation(inputValues[0], training);
                logits[wanted] = pre;
                results = new[] { Activations.Apply(node.Layer.FinalActivation!, pre) };
                Regularizers.RegularizationLosses.RecordActivity(node.Layer, results);
                resultMasks = node.Layer.OutputMaskValues(inputValues, nodeMasks);
            }
            else
            {
                (results, resultMasks) = node.Layer.Forward(inputValues, nodeMasks, training, node.InputDTypes);
            }

            for (var o = 0; o < results.Count; o++)
            {
                values[node.Outputs[o]] = results[o];
                if (resultMasks?[o] is { } mask)
                {
                    masks[node.Outputs[o]] = mask;
                }
            }
        }

        return (outputs.Select(o => values[o]).ToArray(), logits, outputs.Select(o => masks.GetValueOrDefault(o)).ToArray());
    }

    /// <summary>Which outputs carry a mask when the inputs flagged in <paramref name="inputMasked"/> do, by each layer's <c>OutputMasks</c> rule along the graph.</summary>
    internal bool[] OutputMaskFlags(IReadOnlyList<bool> inputMasked)
    {
        var flags = new Dictionary<KerasTensor, bool>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < inputs.Count; i++)
        {
            flags[inputs[i]] = inputMasked[i];
        }

        foreach (var node in Topology.Nodes.Where(n => n.Layer is not InputLayer))
        {
            var outputFlags = node.Layer.OutputMasks(node.Inputs.Take(node.Inputs.Count - node.InitialStates).Select(t => flags.GetValueOrDefault(t)).ToArray());
            for (var o = 0; o < node.Outputs.Count; o++)
            {
                flags[node.Outputs[o]] = outputFlags[o];
            }
        }

        return outputs.Select(o => flags[o]).ToArray();
    }

    private int IndexOfLogitsOutput(Node node, IReadOnlyList<string?> logitsFor)
    {
        for (var i = 0; i < outputs.Count; i++)
        {
            if (ReferenceEquals(outputs[i], node.Outputs[0]) && logitsFor[i] is string activation && node.Layer.FinalActivation == activation)
            {
                return i;
            }
        }

        return -1;
    }
}
