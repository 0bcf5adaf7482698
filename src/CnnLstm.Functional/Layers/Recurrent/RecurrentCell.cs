using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving.Onnx.Proto;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// One step of a recurrent layer, as a Keras RNN cell (keras/src/layers/rnn/rnn.py, the <c>cell</c> argument): from
/// the step's input (batch, features) and the states it returns the step's output (batch, <see cref="OutputSize"/>)
/// and the new states, one (batch, size) tensor per <see cref="StateSize"/>. <see cref="RNN"/> runs a cell over a
/// sequence; <see cref="LSTMCell"/>, <see cref="GRUCell"/>, <see cref="SimpleRNNCell"/> and
/// <see cref="StackedRNNCells"/> are the cells. A cell owns its weights; inside an <see cref="RNN"/> they are listed,
/// trained and saved as the RNN's (under <c>cell/vars</c>, as Keras 3 writes them).
/// </summary>
public abstract class RecurrentCell : Layer
{
    private protected RecurrentCell(string? name)
        : base(name)
    {
    }

    /// <summary>The size of each state, in order (Keras' <c>state_size</c> flattened: LSTMCell's h and c; a stack's cells' states one after the other).</summary>
    public abstract IReadOnlyList<int> StateSize { get; }

    /// <summary>The size of a step's output (Keras' <c>output_size</c>).</summary>
    public abstract int OutputSize { get; }

    /// <summary>The feature count the cell was built for (0 before it is built).</summary>
    internal abstract int InputDim { get; }

    /// <summary>The RNN or stack that runs this cell, once one took it (a cell runs in one place only).</summary>
    internal Layer? Owner { get; set; }

    /// <summary>The names of the states, for messages (LSTMCell: h and c).</summary>
    internal virtual IReadOnlyList<string> StateNames => StateSize.Select((_, i) => StateSize.Count == 1 ? "h" : $"state {i}").ToArray();

    /// <summary>
    /// Calls the cell on one step, eagerly, as Keras' <c>cell(inputs, states, training=...)</c>: builds the cell on its
    /// first call from the feature count. With <paramref name="training"/> the cell's dropout masks are drawn for this
    /// call. The returned tensors belong to the caller.
    /// </summary>
    /// <param name="inputs">The step's input, (batch, features), float32.</param>
    /// <param name="states">One tensor per <see cref="StateSize"/>, each (batch, size).</param>
    /// <param name="training">Whether dropout applies (default false).</param>
    /// <returns>The output (batch, <see cref="OutputSize"/>) and the new states.</returns>
    /// <exception cref="LayerInputException">An input that is not (batch, features) float32, features other than the
    /// cell was built for, or states of the wrong count or shapes (the message names every shape).</exception>
    /// <exception cref="ObjectDisposedException">The cell was disposed.</exception>
    public (Tensor Output, IReadOnlyList<Tensor> States) Call(Tensor inputs, IReadOnlyList<Tensor> states, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(states);
        ThrowIfDisposed();
        if (inputs.dim() != 2 || inputs.dtype != ScalarType.Float32)
        {
            throw InputError($"a step input is a float32 tensor (batch, features), but got {inputs.dtype} of shape ({string.Join(", ", inputs.shape)}).");
        }

        var batch = inputs.shape[0];
        if (states.Count != StateSize.Count || states.Select((s, i) => s is null || s.dim() != 2 || s.shape[0] != batch || s.shape[1] != StateSize[i]).Any(bad => bad))
        {
            throw InputError($"expects {StateSize.Count} state tensor(s) of shape {string.Join(", ", StateSize.Select(s => $"({batch}, {s})"))}, but got {(states.Any(s => s is null) ? "a null state" : string.Join(", ", states.Select(s => $"({string.Join(", ", s.shape)})")))}.");
        }

        BuildFor(new KerasTensor(new Shape(null, (int)inputs.shape[1]), DType.Float32, this, 0, 0));
        using var access = EnterWeights(LockSet(new[] { this }), write: false);
        using var scope = NewDisposeScope();
        var run = Start(inputs, training);
        var (output, next) = run.Step(run.Project(run.Drop(inputs)), states.ToArray());
        return (output.MoveToOuterDisposeScope(), next.Select(s => s.MoveToOuterDisposeScope()).ToArray());
    }

    /// <summary>
    /// Starts one call over a sequence (batch, steps, features) or one step (batch, features): draws the dropout
    /// masks of this call (one per sequence, kept for every step, as Keras' DropoutRNNCell) when training.
    /// </summary>
    internal abstract CellRun Start(Tensor sequence, bool training);

    /// <summary>
    /// A fused kernel over a whole sequence without mask or recurrent dropout, where the cell has a checked one
    /// (LSTMCell's libtorch LSTM); null to run the step loop.
    /// </summary>
    /// <param name="sequence">The sequence, input dropout applied.</param>
    /// <param name="initial">The initial states, or null for zeros.</param>
    /// <param name="everyStep">Whether every step's output is wanted; when false a kernel may return the last output as the sequence.</param>
    internal virtual (Tensor Sequence, Tensor[] States)? RunFused(Tensor sequence, Tensor[]? initial, bool everyStep = true) => null;

    /// <summary>The zero states a sequence (batch, steps, ...) starts from without initial states: one (batch, size) per <see cref="StateSize"/>.</summary>
    internal virtual Tensor[] ZeroStates(Tensor sequence) =>
        StateSize.Select(s => zeros(sequence.shape[0], s, dtype: sequence.dtype, device: sequence.device)).ToArray();

    /// <summary>Which state is the output (the first; a stack's: its last cell's first), for a call over no steps.</summary>
    internal virtual int OutputState => 0;

    /// <summary>The output spec of a step: (batch, features) float32, the features the cell was built for.</summary>
    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 2, "(batch, features)");
        RequireFloat(input);
        var features = RequireKnownLast(input, "feature");
        if (Built && features != InputDim)
        {
            throw InputError($"it was built for {InputDim} features, but {input.Label} has shape {input.Shape} with {features} features.");
        }

        return new[] { (new Shape(null, OutputSize), DType.Float32) };
    }

    /// <summary>
    /// The ONNX recurrent operator with the weights in its layout (W, R, B, ONNX gate order), its activations and
    /// extra attributes; null when the cell has none or its activations are not among the operator's.
    /// </summary>
    internal virtual (string Op, string W, string R, string? B, string[] Activations, AttributeProto[] Attributes)? OnnxOperator(OnnxGraph graph) => null;

    /// <summary>One step of the cell in a Scan body: the step's output and the new states from the input and the previous states.</summary>
    /// <param name="body">The Scan body.</param>
    /// <param name="x">The step's input.</param>
    /// <param name="states">The previous states.</param>
    /// <param name="scope">The RNN's name, for node names.</param>
    internal abstract (string Output, string[] States) OnnxStep(OnnxGraph body, string x, string[] states, string scope);

    /// <summary>A cell has no ONNX node of its own: its RNN writes it (one Scan step, or the ONNX recurrent operator).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        throw OnnxGraph.Unsupported(this, "is a recurrent cell; it is exported inside the RNN that runs it.");

    /// <summary>A cell is not called on symbolic tensors alone: it runs inside an <see cref="RNN"/>, or eagerly with <see cref="Call(Tensor, IReadOnlyList{Tensor}, bool)"/>.</summary>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        throw new NotSupportedException($"{ClassName} '{Name}' runs inside an RNN (new RNN(cell)), or eagerly with Call(inputs, states); it takes no graph call of its own.");
}

/// <summary>One call of a cell: its dropout masks, and the weights its steps read, fixed for every step.</summary>
internal abstract class CellRun
{
    /// <summary>Whether the state is dropped before the recurrent products (no fused kernel then).</summary>
    public abstract bool DropsState { get; }

    /// <summary>The input with this call's input dropout applied (a sequence, or one step).</summary>
    public abstract Tensor Drop(Tensor inputs);

    /// <summary>The input part of every step at once (a sequence, or one step), from the dropped input.</summary>
    public abstract Tensor Project(Tensor dropped);

    /// <summary>One step from its projected input and the previous states: the output and the new states.</summary>
    public abstract (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states);
}
