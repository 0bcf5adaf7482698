using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving.Onnx.Proto;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Runs a recurrent cell over a sequence, as Keras' <c>keras.layers.RNN</c> (keras/src/layers/rnn/rnn.py): the one
/// time loop of every recurrent layer (<see cref="LSTM"/>, <see cref="GRU"/> and <see cref="SimpleRNN"/> are RNNs of
/// their cells). Input (batch, steps, features); output (batch, output size), or (batch, steps, output size) with
/// <c>returnSequences</c>; with <c>returnState</c> also the last states, one (batch, size) per state of the cell. The
/// loop owns what Keras' RNN owns: <c>goBackwards</c> (outputs in processing order, as Keras), masks (a masked step
/// keeps the states and repeats the previous output, or outputs zeros with <c>zeroOutputForMask</c>), initial states
/// (<see cref="Call(KerasTensor, IReadOnlyList{KerasTensor})"/>), and the cell's dropout masks (one per call). The
/// cell's weights are the RNN's, under <c>cell/vars</c> in a Keras 3 weights file.
/// </summary>
[KerasLayer("RNN"), TfKeras2OnlyArgument("time_major", false)]
public class RNN : Layer
{
    /// <summary>Wraps a cell, as Keras' <c>RNN(cell, ...)</c>.</summary>
    /// <param name="cell">The cell (<see cref="LSTMCell"/>, <see cref="GRUCell"/>, <see cref="SimpleRNNCell"/>,
    /// <see cref="StackedRNNCells"/>); not used by another RNN or stack.</param>
    /// <param name="returnSequences">Return every step's output instead of the last (default false).</param>
    /// <param name="returnState">Also return the last states (default false; use <see cref="Layer.CallMulti(KerasTensor)"/>).</param>
    /// <param name="goBackwards">Process the sequence last step first (default false).</param>
    /// <param name="stateful">Keras' <c>stateful</c> (default false): each sample's last states start the same sample
    /// of the next batch, across calls, until <see cref="ResetState"/>; needs a fixed batch size.</param>
    /// <param name="unroll">Keras' <c>unroll</c>: only false (the default) is supported.</param>
    /// <param name="zeroOutputForMask">Masked steps output zeros instead of the previous output (default false).</param>
    /// <param name="name">Layer name; defaults to <c>rnn_N</c>.</param>
    /// <exception cref="ArgumentException">A cell already in an RNN or a stack.</exception>
    /// <exception cref="NotSupportedException"><paramref name="unroll"/> true.</exception>
    public RNN(RecurrentCell cell, bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        bool unroll = false, bool zeroOutputForMask = false, string? name = null)
        : this(CheckSupported(cell, unroll), returnSequences, returnState, goBackwards, zeroOutputForMask, name, stateful)
    {
    }

    /// <summary>Stacks cells, as Keras' <c>RNN([cell1, cell2], ...)</c>: <c>RNN(new StackedRNNCells(cells), ...)</c>.</summary>
    /// <param name="cells">The cells, first to last.</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last states of every cell, in order.</param>
    /// <param name="goBackwards">Process the sequence last step first.</param>
    /// <param name="zeroOutputForMask">Masked steps output zeros instead of the previous output.</param>
    /// <param name="name">Layer name; defaults to <c>rnn_N</c>.</param>
    public RNN(IReadOnlyList<RecurrentCell> cells, bool returnSequences = false, bool returnState = false, bool goBackwards = false,
        bool zeroOutputForMask = false, string? name = null)
        : this(new StackedRNNCells(cells), returnSequences, returnState, goBackwards, zeroOutputForMask, name)
    {
    }

    private protected RNN(RecurrentCell cell, bool returnSequences, bool returnState, bool goBackwards, bool zeroOutputForMask, string? name, bool stateful = false)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(cell);
        if (cell.Owner is not null)
        {
            throw new ArgumentException($"{GetType().Name}: {cell.ClassName} '{cell.Name}' already runs in {cell.Owner.ClassName} '{cell.Owner.Name}'; a cell runs in one place only.", nameof(cell));
        }

        cell.Owner = this;
        Cell = cell;
        ReturnSequences = returnSequences;
        ReturnState = returnState;
        GoBackwards = goBackwards;
        ZeroOutputForMask = zeroOutputForMask;
        Stateful = stateful;
    }

    /// <summary>The arguments of Keras' RNN base that every recurrent layer's config carries.</summary>
    private protected readonly record struct RnnOptions(bool ReturnSequences, bool ReturnState, bool GoBackwards, bool ZeroOutputForMask, bool Stateful);

    /// <summary>
    /// Whether the states are carried between calls (Keras' <c>stateful</c>): the last states of sample i of a batch
    /// start sample i of the next batch, within one Predict/Fit and across Predict, TrainOnBatch and TestOnBatch
    /// calls, until <see cref="ResetState"/>. The batch size is fixed by the input (<c>new Input(..., batchSize: n)</c>)
    /// and every batch must have it. As Keras 3, the states are not weights: no file holds them.
    /// </summary>
    public bool Stateful { get; }

    // The carried states (Keras' self.states), made on the first stateful call; null until then and after a reset.
    private Tensor[]? carried;

    // The batch size the states are for (Keras' _expected_batch_size), set when the layer is first built.
    private int? expectedBatch;

    // The fixed batch size of the input the layer was built on, if any (the cell's build_config records it, as Keras).
    private int? builtBatch;

    private readonly object carriedLock = new();

    /// <summary>
    /// Sets the carried states back to zeros (Keras 3's <c>reset_state()</c>); does nothing for a layer that is not
    /// stateful or has not run, as Keras.
    /// </summary>
    public void ResetState()
    {
        lock (carriedLock)
        {
            DisposeCarried();
        }
    }

    /// <summary>Keras 3's compatibility alias of <see cref="ResetState"/> (<c>reset_states()</c>, tf.keras 2's name).</summary>
    public void ResetStates() => ResetState();

    /// <summary>
    /// A copy of the carried states, one (batch, size) array per state of the cell (LSTM: h then c); zeros before the
    /// first call and after <see cref="ResetState"/> (Keras' <c>layer.states</c>); null for a layer that is not
    /// stateful or not built.
    /// </summary>
    /// <exception cref="NotSupportedException">A ConvLSTM layer (its states have spatial axes; call it with <c>returnState</c> to read them).</exception>
    public IReadOnlyList<float[,]>? States
    {
        get
        {
            if (Cell is ConvLSTMCell)
            {
                throw new NotSupportedException($"{ClassName} '{Name}': States returns (batch, size) arrays, but a ConvLSTM's states have spatial axes; build the layer with returnState: true to read them.");
            }

            if (!Stateful || expectedBatch is not int batch)
            {
                return null;
            }

            lock (carriedLock)
            {
                return Cell.StateSize.Select((size, i) =>
                {
                    var values = new float[batch, size];
                    if (carried is { } held)
                    {
                        var data = held[i].data<float>().ToArray();
                        Buffer.BlockCopy(data, 0, values, 0, data.Length * sizeof(float));
                    }

                    return values;
                }).ToArray();
            }
        }
    }

    private void DisposeCarried()
    {
        foreach (var state in carried ?? Array.Empty<Tensor>())
        {
            state.Dispose();
        }

        carried = null;
    }

    /// <summary>The cell run at each step.</summary>
    public RecurrentCell Cell { get; }

    /// <summary>Whether every step's output is returned.</summary>
    public bool ReturnSequences { get; }

    /// <summary>Whether the last states are returned too.</summary>
    public bool ReturnState { get; }

    /// <summary>
    /// Whether the sequence is processed last step first (Keras' <c>go_backwards</c>); with <c>returnSequences</c> the
    /// outputs come in that processing order, as in Keras.
    /// </summary>
    public bool GoBackwards { get; }

    /// <summary>
    /// Whether masked steps output zeros instead of repeating the previous output (Keras' <c>zero_output_for_mask</c>,
    /// default false; <see cref="Bidirectional"/> sets it on its copies when they return sequences, as Keras does).
    /// </summary>
    public bool ZeroOutputForMask { get; }

    /// <inheritdoc/>
    public override int OutputCount => ReturnState ? 1 + Cell.StateSize.Count : 1;

    /// <summary>The cell's groups below <c>cell/</c> (<c>cell/vars</c>; a stack's <c>cell/cells/lstm_cell/vars</c>...).</summary>
    internal override IEnumerable<(string Path, IReadOnlyList<LayerWeight> Weights)> KerasVarGroups =>
        Cell.KerasVarGroups.Select(g => ($"cell/{g.Path}", g.Weights));

    /// <summary>Skips masked steps, as Keras' RNN does with the mask of its input.</summary>
    internal override bool UsesMask => true;

    /// <summary>The cell's lock guards the variables this layer runs on.</summary>
    internal override IEnumerable<Layer> WeightOwners => Cell.WeightOwners.Prepend(this);

    /// <summary>
    /// Whether the cell's weights are named with the cell's path in legacy files (<c>rnn/lstm_cell/kernel</c>, as Keras
    /// 3); LSTM, GRU and SimpleRNN keep the names this library always wrote (<c>lstm/kernel</c>).
    /// </summary>
    private protected virtual bool NamesCellWeights => true;

    /// <summary>
    /// Calls the layer on a sequence whose first states are given, as Keras' <c>layer(x, initial_state=[...])</c> (the
    /// encoder-decoder pattern: an encoder's <c>returnState</c> outputs start a decoder). Returns the single output;
    /// use <see cref="CallMulti(KerasTensor, IReadOnlyList{KerasTensor})"/> with <c>returnState</c>.
    /// </summary>
    /// <param name="input">The sequence, (batch, steps, features).</param>
    /// <param name="initialState">One tensor per state of the cell (LSTM: h and c), each (batch, size).</param>
    /// <exception cref="LayerInputException">States of the wrong count or shapes (the message names every shape).</exception>
    /// <exception cref="InvalidOperationException">The layer returns several outputs (<c>returnState</c>).</exception>
    public KerasTensor Call(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(initialState);
        if (OutputCount != 1)
        {
            throw new InvalidOperationException($"{ClassName} '{Name}' returns {OutputCount} tensors for this call; use CallMulti to get all of them.");
        }

        return CallWithInitialState(input, initialState.ToArray())[0];
    }

    /// <summary>Calls the layer with initial states and returns every output (output, then the states with <c>returnState</c>).</summary>
    /// <param name="input">The sequence, (batch, steps, features).</param>
    /// <param name="initialState">One tensor per state of the cell, each (batch, size).</param>
    public IReadOnlyList<KerasTensor> CallMulti(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(initialState);
        return CallWithInitialState(input, initialState.ToArray());
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = RnnConfig();
        config["cell"] = ModelConfig.SerializeLayer(Cell, Cell.Built ? new Shape(builtBatch, Cell.InputDim) : null);
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config, its cell from the nested <c>cell</c> entry.</summary>
    internal static RNN FromConfig(LayerConfig config)
    {
        var options = ReadOptions(config);
        var layer = ModelConfig.DeserializeLayer(config.GetRaw("cell"), $"{config.Describe()}: 'cell'", config.Keras2);
        if (layer is not RecurrentCell cell)
        {
            layer.Dispose();
            throw config.Error($"'cell' holds {layer.ClassName} '{layer.Name}', which is not a recurrent cell (LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells).");
        }

        return new RNN(cell, options.ReturnSequences, options.ReturnState, options.GoBackwards, options.ZeroOutputForMask, config.Name, options.Stateful);
    }

    /// <summary>The arguments every Keras RNN config carries, before the cell's (Keras' RNN.get_config).</summary>
    private protected JsonObject RnnConfig()
    {
        var config = base.GetConfig();
        config["return_sequences"] = ReturnSequences;
        config["return_state"] = ReturnState;
        config["go_backwards"] = GoBackwards;
        config["stateful"] = Stateful;
        config["unroll"] = false;
        config["zero_output_for_mask"] = ZeroOutputForMask;
        return config;
    }

    /// <summary>Reads the RNN arguments of a config; <c>unroll</c> and the kernel choice change no number.</summary>
    private protected static RnnOptions ReadOptions(LayerConfig config)
    {
        config.RequireDefault("time_major", false);
        config.Ignore("unroll", "use_cudnn");
        return new(config.GetBool("return_sequences", false), config.GetBool("return_state", false), config.GetBool("go_backwards", false),
            config.GetBool("zero_output_for_mask", false), config.GetBool("stateful", false));
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        RequireFloat(input);
        CheckStatefulInput(input);
        var features = RequireKnownLast(input, "feature");
        if (Cell.Built && features != Cell.InputDim)
        {
            throw InputError($"its {Cell.ClassName} was built for {Cell.InputDim} features, but {input.Label} has shape {input.Shape} with {features} features.");
        }

        var output = Cell.OutputSize;
        var outputSpec = (ReturnSequences ? new Shape(null, input.Shape[1], output) : new Shape(null, output), DType.Float32);
        return ReturnState ? new[] { outputSpec }.Concat(Cell.StateSize.Select(s => (new Shape(null, s), DType.Float32))).ToArray() : new[] { outputSpec };
    }

    /// <summary>Keras' RNN.build checks of a stateful layer's input: a fixed batch size, the one the states are for.</summary>
    /// <exception cref="LayerInputException">A stateful layer's input without a fixed batch size or with another one.</exception>
    private protected void CheckStatefulInput(KerasTensor input)
    {
        if (Stateful)
        {
            // Keras' RNN.build: a stateful RNN needs a static batch size, and its states are made for that size.
            if (input.BatchSize is not int batch)
            {
                throw InputError($"stateful=true needs a fixed batch size, but {input.Label} has shape {input.Shape} with any batch size; give the model's input one (new Input(..., batchSize: n), Keras' batch_size/batch_shape, tf.keras 2's batch_input_shape).");
            }

            if (expectedBatch is int expected && expected != batch)
            {
                throw InputError($"it is stateful with states for a batch of {expected}, but {input.Label} has a batch of {batch}.");
            }
        }
    }

    private protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input, IReadOnlyList<KerasTensor> initialState)
    {
        var sizes = Cell.StateSize;
        if (initialState.Count != sizes.Count || initialState.Select((s, i) => s is null || s.Shape.Rank != 2 || s.Shape[1] != sizes[i] || s.DType != DType.Float32).Any(bad => bad))
        {
            var shapes = sizes.Distinct().Count() == 1 ? $"of shape (None, {sizes[0]})" : $"of shapes {string.Join(", ", sizes.Select(s => $"(None, {s})"))}";
            var names = Cell.StateNames;
            throw InputError($"an initial state is {Count(sizes.Count)} float32 tensor{(sizes.Count == 1 ? string.Empty : "s")} {(names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}")} {shapes}, but got {(initialState.Any(s => s is null) ? "a null state" : initialState.Count == 0 ? "none" : Describe(initialState))}.");
        }

        return ComputeOutputSpecs(input);
    }

    /// <summary>
    /// Builds the cell on one step's shape (Keras' RNN.build); its weights become this layer's, named as this library
    /// names them (see <see cref="NamesCellWeights"/>).
    /// </summary>
    protected override void Build(KerasTensor input)
    {
        builtBatch = input.BatchSize;
        expectedBatch = Stateful ? builtBatch : null;
        Cell.BuildInside(this, StepInput(input));
        Take(Cell, Cell.Name);
        AdoptWeights(Cell.Weights);

        void Take(RecurrentCell cell, string path)
        {
            if (cell is StackedRNNCells stack)
            {
                foreach (var inner in stack.Cells)
                {
                    Take(inner, $"{path}/{inner.Name}");
                }

                return;
            }

            foreach (var weight in cell.Weights)
            {
                weight.MoveInto(this, NamesCellWeights ? path : null);
            }
        }
    }

    /// <summary>One step's input of a sequence: the sequence without its steps axis, (batch, features) or a ConvLSTM's (batch, spatial..., channels).</summary>
    private KerasTensor StepInput(KerasTensor sequence) => new(Shape.WithBatch(sequence.Shape.Skip(2)), DType.Float32, this, InboundNodes.Count, 0);

    /// <summary>
    /// Releases the cell's weights, which moved into this RNN (the base releases the weights whose layer is this one),
    /// and the cell (its generator, LSTMCell's fused module).
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            DisposeCarried();
            Cell.Dispose();
        }
    }

    /// <summary>A sequence can come with the states it starts from (Keras' <c>initial_state</c>).</summary>
    internal override bool TakesInitialState => true;

    /// <summary>
    /// The loop: the sequence (reversed for <see cref="GoBackwards"/>, with its mask), the cell's dropout masks drawn
    /// once for the call, the initial states (given, else the carried ones of a <see cref="Stateful"/> layer, else
    /// zeros), then the cell's fused kernel where it has one (no mask, no recurrent dropout) or the cell step by step.
    /// A stateful layer refuses a batch of another size before anything runs, and keeps the last states.
    /// </summary>
    protected override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks)
    {
        if (!Stateful)
        {
            return Run(inputs, masks, training, InitialStates(inputs)).Outputs;
        }

        CheckStatefulBatch(inputs[0].shape[0], inputs[0].shape);

        lock (carriedLock)
        {
            // As Keras: given initial states win over the carried ones; the last states are carried on either way,
            // as values (no gradient flows from one batch into the next).
            var (outputs, last) = Run(inputs, masks, training, InitialStates(inputs) ?? carried?.Select(s => s.alias()).ToArray());
            var next = last.Select(s => s.detach().clone().DetachFromDisposeScope()).ToArray();
            DisposeCarried();
            carried = next;
            return outputs;
        }
    }

    /// <summary>Keras' RNN.call check of a stateful layer's batch size, before any state changes.</summary>
    /// <exception cref="LayerInputException">A batch of another size than the states'.</exception>
    internal void CheckStatefulBatch(long batch, long[] shape)
    {
        if (batch != expectedBatch)
        {
            throw InputError($"it is stateful with states for a batch of {expectedBatch}, but was given a batch of {batch} (input of shape ({string.Join(", ", shape)})); every batch must have the batch size of the model's input ({expectedBatch}).");
        }
    }

    private (IReadOnlyList<Tensor> Outputs, Tensor[] States) Run(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, bool training, Tensor[]? initial)
    {
        var sequence = GoBackwards ? inputs[0].flip(1) : inputs[0];
        var mask = GoBackwards ? masks[0]?.flip(1) : masks[0];
        var run = sequence.size(1) == 0 ? null : Cell.Start(sequence, training);
        var dropped = run?.Drop(sequence) ?? sequence;
        var (all, last, states) = mask is null && run?.DropsState != true && Cell.RunFused(dropped, initial, ReturnSequences) is { } fused
            ? (fused.Sequence, fused.States[0], fused.States)
            : Loop(run, dropped, mask, initial);
        var output = ReturnSequences ? all : last;
        return (ReturnState ? states.Prepend(output).ToArray() : new[] { output }, states);
    }

    /// <summary>
    /// The states the sequence starts from: those given with the call (Keras' <c>initial_state</c>), else null for
    /// zeros (or, for a stateful layer, the carried states).
    /// </summary>
    private static Tensor[]? InitialStates(IReadOnlyList<Tensor> inputs) => inputs.Count > 1 ? inputs.Skip(1).ToArray() : null;

    /// <summary>
    /// The step loop (Keras' backend rnn): every step's input part projected at once, then the cell step by step. With
    /// a mask (batch, steps), true for real steps, a masked step keeps the states and outputs the previous output
    /// (zeros before the first real step) or zeros (<see cref="ZeroOutputForMask"/>).
    /// </summary>
    private (Tensor Sequence, Tensor Last, Tensor[] States) Loop(CellRun? run, Tensor input, Tensor? mask, Tensor[]? initial)
    {
        var (batch, steps) = (input.shape[0], input.shape[1]);
        var states = initial ?? Cell.ZeroStates(input);
        if (run is null)
        {
            var outputShape = states[Cell.OutputState].shape;
            return (zeros(new[] { batch, 0L }.Concat(outputShape.Skip(1)).ToArray(), dtype: input.dtype, device: input.device), states[Cell.OutputState], states);
        }

        var projected = run.Project(input);
        var outputs = new Tensor[steps];
        for (long t = 0; t < steps; t++)
        {
            var (output, next) = run.Step(projected.select(1, t), states);
            if (mask is null)
            {
                states = next;
                outputs[t] = output;
                continue;
            }

            // (batch, 1, ...) to the rank of the states and the output (a ConvLSTM's carry spatial axes).
            var step = mask.select(1, t);
            Tensor Real(Tensor like) => step.view(new[] { batch }.Concat(Enumerable.Repeat(1L, (int)like.dim() - 1)).ToArray());
            for (var i = 0; i < states.Length; i++)
            {
                states[i] = where(Real(states[i]), next[i], states[i]);
            }

            outputs[t] = where(Real(output), output, t == 0 || ZeroOutputForMask ? zeros_like(output) : outputs[t - 1]);
        }

        return (stack(outputs, 1), outputs[^1], states);
    }

    /// <summary>
    /// ONNX: the cell's own operator (LSTM, GRU, RNN; <see cref="RecurrentCell.OnnxOperator"/>) when it computes what
    /// Keras does, that is without a mask and with activations the operator knows; otherwise a <c>Scan</c> whose body
    /// is one step of the cell (<see cref="RecurrentCell.OnnxStep"/>), which carries states and output across masked
    /// steps as <c>Predict</c> does. <see cref="GoBackwards"/> reverses the steps first (Slice), so outputs come in
    /// Keras' order. A <see cref="Stateful"/> layer is refused: its carried states live outside the graph (a model
    /// whose RNN takes its states as inputs and returns them, <c>returnState</c> with initial states, exports).
    /// </summary>
    /// <exception cref="NotSupportedException">A stateful layer.</exception>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        if (Stateful)
        {
            throw new NotSupportedException($"{ClassName} '{Name}': a stateful layer (stateful=true) has no ONNX form here, as its states are carried between calls outside the graph; export a copy built with stateful=false, returnState=true and its states as inputs (Call with initialState), and carry the states yourself.");
        }

        var (x, mask) = (call.Input.Name, call.Input.Mask);
        if (GoBackwards)
        {
            x = graph.ReverseSteps(x, Name);
            mask = mask is null ? null : graph.ReverseSteps(mask, Name);
        }

        var given = call.States.Select(s => s.Name).ToArray();
        var native = mask is null ? Cell.OnnxOperator(graph) : null;
        var (sequence, last, states) = native is { } op ? OnnxNative(graph, x, given, op) : OnnxScan(graph, x, mask, given, call.Input.Name);
        var outputs = new List<string> { ReturnSequences ? sequence() : last };
        if (ReturnState)
        {
            outputs.AddRange(states);
        }

        return outputs;
    }

    /// <summary>The ONNX activation names the recurrent operators take, for the Keras activations they compute alike.</summary>
    internal static string? OnnxRecurrentActivation(string keras) => keras switch
    {
        "sigmoid" => "Sigmoid",
        "tanh" => "Tanh",
        "relu" => "Relu",
        // The operators' HardSigmoid defaults (alpha 0.2, beta 0.5) are Keras 2's; Keras 3's runs in the Scan form.
        Activations.Keras2HardSigmoid => "HardSigmoid",
        "elu" => "Elu",
        "softsign" => "Softsign",
        "softplus" => "Softplus",
        _ => null,
    };

    /// <summary>Kernel columns reordered as blocks of <paramref name="units"/> (Keras' gate order to ONNX's), transposed to (gates × units, features), with ONNX's direction axis.</summary>
    internal static Tensor OnnxGates(Tensor kerasKernel, int units, params long[] order) =>
        cat(order.Select(g => kerasKernel.narrow(1, g * units, units)).ToArray(), 1).t().unsqueeze(0);

    private static string Count(int n) => n switch { 1 => "one", 2 => "two", 3 => "three", 4 => "four", _ => n.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private (Func<string> Sequence, string Last, string[] States) OnnxNative(OnnxGraph graph, string x,
        string[] given, (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes) op)
    {
        var inputs = new List<string> { graph.Transpose(x, Name, 1, 0, 2), op.W, op.R, op.B ?? string.Empty, string.Empty };
        inputs.AddRange(given.Select(s => graph.Unsqueeze(s, Name, 0)));
        var attributes = new[] { OnnxGraph.Attr("hidden_size", (long)Cell.OutputSize), OnnxGraph.Strings("activations", op.Activations) }.Concat(op.Attributes).ToArray();
        var outputs = graph.AddMulti(op.Op, Name, inputs, 1 + Cell.StateSize.Count, attributes);
        var states = outputs.Skip(1).Select(s => graph.Squeeze(s, Name, 0)).ToArray();
        return (() => graph.Transpose(graph.Squeeze(outputs[0], Name, 1), Name, 1, 0, 2), states[0], states);
    }

    private (Func<string> Sequence, string Last, string[] States) OnnxScan(OnnxGraph graph, string x, string? mask, string[] given, string original)
    {
        var stateCount = Cell.StateSize.Count;
        var body = graph.Subgraph($"{Name}_step");
        var previous = Enumerable.Range(0, stateCount).Select(i => body.Unique($"{Name}/step/state{i}")).ToArray();
        var previousOutput = mask is null ? null : body.Unique($"{Name}/step/output");
        var step = body.Unique($"{Name}/step/x");
        var stepMask = mask is null ? null : body.Unique($"{Name}/step/mask");
        foreach (var name in previous.Append(previousOutput).Append(step).OfType<string>())
        {
            body.DeclareOpen(name, OnnxGraph.Float, 2, input: true);
        }

        if (stepMask is not null)
        {
            body.DeclareOpen(stepMask, OnnxGraph.Bool, 1, input: true);
        }

        var (output, next) = Cell.OnnxStep(body, step, previous, Name);
        var carried = next;
        if (stepMask is not null)
        {
            // As the step loop: a masked step keeps the states, and outputs the previous output (zeros at first) or zeros.
            var real = body.Unsqueeze(stepMask, Name, 1);
            carried = next.Select((s, i) => body.Add("Where", Name, new[] { real, s, previous[i] })).ToArray();
            output = body.Add("Where", Name, new[] { real, output, ZeroOutputForMask ? body.Scalar(0f) : previousOutput! });
            carried = carried.Append(output).ToArray();
        }

        var emitted = body.Add("Identity", Name, new[] { output });
        foreach (var name in carried.Append(emitted))
        {
            body.DeclareOpen(name, OnnxGraph.Float, 2, input: false);
        }

        var initial = given.Length > 0 ? given : Cell.StateSize.Select(s => graph.ZerosState(original, s, Name)).ToArray();
        var inputs = initial.ToList();
        if (mask is not null)
        {
            inputs.Add(graph.ZerosState(original, Cell.OutputSize, Name));
        }

        inputs.Add(x);
        var scanned = mask is null ? 1 : 2;
        if (mask is not null)
        {
            inputs.Add(mask);
        }

        var outputs = graph.AddMulti("Scan", Name, inputs, carried.Length + 1, OnnxGraph.Attr("body", body.Proto), OnnxGraph.Attr("num_scan_inputs", (long)scanned),
            OnnxGraph.Ints("scan_input_axes", Enumerable.Repeat(1L, scanned).ToArray()), OnnxGraph.Ints("scan_output_axes", 1L));
        var states = outputs.Take(stateCount).ToArray();
        return (() => outputs[^1], mask is null ? states[Cell.OutputState] : outputs[stateCount], states);
    }

    private static RecurrentCell CheckSupported(RecurrentCell cell, bool unroll) =>
        unroll ? throw new NotSupportedException("RNN: unroll=true is not supported (the loop is never unrolled here); pass false.")
        : cell;
}
