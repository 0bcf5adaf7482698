using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// One step of a convolutional LSTM, as Keras' <c>ConvLSTMCell</c> (keras/src/layers/rnn/conv_lstm.py; Keras exports
/// no public cell, so neither does this library): the step input (batch, spatial..., channels) and the states h and c,
/// each (batch, output spatial..., filters). z = conv(x, kernel) + bias + conv_same(h, recurrent_kernel), split on the
/// last axis into the gates (i, f, c, o); c' = f c + i act(z_c); h' = o act(c'). The input convolution has the
/// layer's strides, padding and dilation; the recurrent one stride 1, 'same' padding and no dilation, as Keras'.
/// Weights in Keras order and layout: kernel (kernel..., channels, 4 filters) glorot_uniform, recurrent_kernel
/// (kernel..., filters, 4 filters) orthogonal, bias (4 filters) zeros with the forget block at 1.
/// The cell works channels-last; <see cref="ConvLSTM"/> turns a channels-first sequence around it.
/// </summary>
/// <remarks>
/// Dropout as Keras' ConvLSTMCell: with <c>dropout</c>, four masks the shape of a step's input (one per gate), and
/// with <c>recurrent_dropout</c> four the shape of h, drawn once per call of the layer while training and scaled by
/// 1 / (1 - rate); drawn from the layer's own generator, not Keras' seed. The convolutions are im2col (strided views
/// of the padded input) and one matrix product, like <see cref="Conv2D"/>'s, with no libtorch convolution kernel.
/// </remarks>
internal sealed class ConvLSTMCell : RecurrentCell
{
    private readonly Regularizers.Regularizer?[] regularizers = new Regularizers.Regularizer?[3];
    private readonly Constraints.Constraint?[] constraints = new Constraints.Constraint?[3];
    private readonly Initializers.Initializer[] initializers = { new Initializers.GlorotUniform(), new Initializers.Orthogonal(), new Initializers.Zeros() };
    private int inputDim;
    private int[] spatial = Array.Empty<int>();
    private LayerWeight? kernel;
    private LayerWeight? recurrentKernel;
    private LayerWeight? bias;

    internal ConvLSTMCell(string layerClass, bool channelsFirst, int rank, int filters, int[] kernelSize, int[] strides, string padding, int[] dilationRate,
        string activation, string recurrentActivation, bool useBias, bool unitForgetBias, double dropout, double recurrentDropout)
        : base("conv_lstm_cell")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(filters);
        foreach (var (sizes, argument) in new[] { (kernelSize, "kernelSize"), (strides, "strides"), (dilationRate, "dilationRate") })
        {
            if (sizes.Length != rank || sizes.Any(v => v <= 0))
            {
                throw new ArgumentOutOfRangeException(argument, $"{layerClass}: {argument} must be {rank} positive number(s), got ({string.Join(", ", sizes)}).");
            }
        }

        if (strides.Max() > 1 && dilationRate.Max() > 1)
        {
            throw new ArgumentException($"{layerClass}: specifying strides > 1 is not compatible with dilation_rate > 1 (Keras refuses it too); got strides ({string.Join(", ", strides)}) and dilation_rate ({string.Join(", ", dilationRate)}).", nameof(dilationRate));
        }

        LayerClass = layerClass;
        ChannelsFirst = channelsFirst;
        Rank = rank;
        Filters = filters;
        KernelSize = kernelSize.ToArray();
        Strides = strides.ToArray();
        DilationRate = dilationRate.ToArray();
        EffectiveKernel = kernelSize.Select((k, a) => PaddingRules.EffectiveWindow(k, dilationRate[a], layerClass)).ToArray();
        PaddingMode = PaddingRules.Parse(padding, layerClass, allowCausal: false);
        Activation = Activations.Validate(activation, layerClass, nameof(activation));
        RecurrentActivation = Activations.Validate(recurrentActivation, layerClass, nameof(recurrentActivation));
        UseBias = useBias;
        UnitForgetBias = unitForgetBias;
        Dropout = DropoutRNNCell.CheckRate(dropout, layerClass, nameof(dropout));
        RecurrentDropout = DropoutRNNCell.CheckRate(recurrentDropout, layerClass, "recurrentDropout");
    }

    public string LayerClass { get; }

    /// <summary>Whether the layer's data is channels-first (the cell itself always works channels-last).</summary>
    public bool ChannelsFirst { get; }

    public int Rank { get; }

    public int Filters { get; }

    public int[] KernelSize { get; }

    public int[] Strides { get; }

    public int[] DilationRate { get; }

    public int[] EffectiveKernel { get; }

    public Padding PaddingMode { get; }

    public string Activation { get; }

    public string RecurrentActivation { get; }

    public bool UseBias { get; }

    public bool UnitForgetBias { get; }

    public double Dropout { get; }

    public double RecurrentDropout { get; }

    public Initializers.Initializer KernelInitializer => initializers[0];

    public Initializers.Initializer RecurrentInitializer => initializers[1];

    public Initializers.Initializer BiasInitializer => initializers[2];

    /// <summary>Sets a weight initializer (0 kernel, 1 recurrent kernel, 2 bias); weights made later use it.</summary>
    internal void SetInitializer(int weight, Initializers.Initializer value) => initializers[weight] = value ?? throw new ArgumentNullException(nameof(value));

    public Regularizers.Regularizer? KernelRegularizer => regularizers[0];

    public Regularizers.Regularizer? RecurrentRegularizer => regularizers[1];

    public Regularizers.Regularizer? BiasRegularizer => regularizers[2];

    public Constraints.Constraint? KernelConstraint => constraints[0];

    public Constraints.Constraint? RecurrentConstraint => constraints[1];

    public Constraints.Constraint? BiasConstraint => constraints[2];

    /// <summary>The state sizes as channels: h and c have <see cref="Filters"/> channels each (their spatial axes follow the input).</summary>
    public override IReadOnlyList<int> StateSize => new[] { Filters, Filters };

    public override int OutputSize => Filters;

    internal override int InputDim => inputDim;

    internal override IReadOnlyList<string> StateNames => new[] { "h", "c" };

    /// <summary>Sets a weight regularizer (0 kernel, 1 recurrent kernel, 2 bias); weights made later get it.</summary>
    internal void SetRegularizer(int weight, Regularizers.Regularizer? value) => regularizers[weight] = value;

    /// <summary>Sets a weight constraint (0 kernel, 1 recurrent kernel, 2 bias); weights made later get it.</summary>
    internal void SetConstraint(int weight, Constraints.Constraint? value) => constraints[weight] = value;

    /// <summary>The output (and state) spatial sizes for input spatial sizes, Keras' <c>compute_conv_output_shape</c>; null where unknown.</summary>
    internal int?[] OutputSpatial(IReadOnlyList<int?> inputSpatial) =>
        inputSpatial.Select((s, a) => s is int length ? PaddingRules.OutputLength(length, EffectiveKernel[a], Strides[a], PaddingMode) : (int?)null).ToArray();

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, Rank + 2, $"(batch, {Rank} spatial axes, channels)");
        RequireFloat(input);
        var channels = RequireKnownLast(input, "channel");
        if (Built && channels != inputDim)
        {
            throw InputError($"it was built for {inputDim} channels, but {input.Label} has shape {input.Shape} with {channels} channels.");
        }

        return new[] { (Shape.WithBatch(OutputSpatial(input.Shape.Skip(1).Take(Rank).ToArray()).Append(Filters)), DType.Float32) };
    }

    /// <summary>Declares kernel, recurrent_kernel and bias in Keras' order and layout.</summary>
    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        inputDim = input.Shape.Last!.Value;
        spatial = input.Shape.Skip(1).Take(Rank).Select(d => d!.Value).ToArray();
        var window = KernelSize.Select(k => (long)k).ToArray();
        var kernelShape = window.Append(inputDim).Append(4L * Filters).ToArray();
        var recurrentShape = window.Append(Filters).Append(4L * Filters).ToArray();
        kernel = AddWeight("kernel", kernelShape, Initial(KernelInitializer, kernelShape, "kernel"));
        recurrentKernel = AddWeight("recurrent_kernel", recurrentShape, Initial(RecurrentInitializer, recurrentShape, "recurrent_kernel"));
        bias = UseBias ? AddWeight("bias", new[] { 4L * Filters }, InitialBias()) : null;
        kernel.Regularizer = KernelRegularizer;
        recurrentKernel.Regularizer = RecurrentRegularizer;
        bias?.Regularizer = BiasRegularizer;
        kernel.Constraint = KernelConstraint;
        recurrentKernel.Constraint = RecurrentConstraint;
        bias?.Constraint = BiasConstraint;
    }

    /// <summary>
    /// The bias's initial value: the bias initializer over (4 filters), or with <see cref="UnitForgetBias"/>, as Keras'
    /// ConvLSTMCell, the initializer over (filters), ones for the forget gate, and the initializer over (2 filters).
    /// </summary>
    private Func<Tensor> InitialBias()
    {
        if (!UnitForgetBias)
        {
            return Initial(BiasInitializer, new[] { 4L * Filters }, "bias");
        }

        var input = Initial(BiasInitializer, new long[] { Filters }, "bias");
        var rest = Initial(BiasInitializer, new[] { 2L * Filters }, "bias");
        return () =>
        {
            using var first = input();
            using var forget = ones(Filters);
            using var last = rest();
            return cat(new[] { first, forget, last });
        };
    }

    /// <summary>h and c start at zeros of the output's shape (batch, output spatial..., filters), as Keras' get_initial_state.</summary>
    internal override Tensor[] ZeroStates(Tensor sequence)
    {
        var sizes = OutputSpatial(sequence.shape.Skip(2).Take(Rank).Select(d => (int?)d).ToArray()).Select(s => (long)s!.Value);
        var shape = new[] { sequence.shape[0] }.Concat(sizes).Append(Filters).ToArray();
        return new[] { zeros(shape, dtype: sequence.dtype, device: sequence.device), zeros(shape, dtype: sequence.dtype, device: sequence.device) };
    }

    internal override CellRun Start(Tensor sequence, bool training)
    {
        if (!training || (Dropout == 0 && RecurrentDropout == 0))
        {
            return new Run(this, null, null);
        }

        // One step's input (batch, spatial..., channels) and h (batch, output spatial..., filters).
        var step = sequence.dim() == Rank + 3 ? sequence.select(1, 0) : sequence;
        var stateShape = ZeroStatesShape(step);
        return new Run(this, Masks(step.shape, Dropout, step), Masks(stateShape, RecurrentDropout, step));
    }

    private long[] ZeroStatesShape(Tensor step) =>
        new[] { step.shape[0] }.Concat(OutputSpatial(step.shape.Skip(1).Take(Rank).Select(d => (int?)d).ToArray()).Select(s => (long)s!.Value)).Append(Filters).ToArray();

    /// <summary>Four scaled keep masks of <paramref name="shape"/> (one per gate), or null when the rate is 0.</summary>
    private Tensor[]? Masks(long[] shape, double rate, Tensor like) =>
        rate > 0
            ? Enumerable.Range(0, 4).Select(_ => empty(shape, dtype: like.dtype, device: like.device).bernoulli_(1 - rate, generator: Random).div(Scalars.Of(1 - rate))).ToArray()
            : null;

    /// <summary>
    /// The input convolutions of every step at once: (batch, steps, spatial..., channels) to (batch, steps, output
    /// spatial..., 4 filters), the bias added; with dropout, each gate's block from its own masked input.
    /// </summary>
    private Tensor Project(Tensor sequence, Tensor[]? inputKeep)
    {
        var steps = sequence.dim() == Rank + 3;
        var flat = steps ? sequence.flatten(0, 1) : sequence;
        Tensor output;
        if (inputKeep is null)
        {
            output = Convolve(flat, kernel!.Variable, EffectiveKernel, Strides, DilationRate, PaddingMode == Padding.Same);
        }
        else
        {
            var blocks = new Tensor[4];
            for (var g = 0; g < 4; g++)
            {
                var keep = steps ? inputKeep[g].unsqueeze(1) : inputKeep[g];
                var masked = (steps ? (sequence * keep).flatten(0, 1) : sequence * keep).contiguous();
                blocks[g] = Convolve(masked, kernel!.Variable.narrow(-1, g * Filters, Filters), EffectiveKernel, Strides, DilationRate, PaddingMode == Padding.Same);
            }

            output = cat(blocks, -1);
        }

        if (bias is not null)
        {
            output = output.add(bias.Variable, Scalars.IntOne);
        }

        return steps ? output.unflatten(0, new[] { sequence.shape[0], sequence.shape[1] }) : output;
    }

    private (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states, Tensor[]? stateKeep)
    {
        var (h, c) = (states[0], states[1]);
        var ones = Enumerable.Repeat(1, Rank).ToArray();
        Tensor recurrent;
        if (stateKeep is null)
        {
            recurrent = Convolve(h, recurrentKernel!.Variable, KernelSize, ones, ones, same: true);
        }
        else
        {
            recurrent = cat(Enumerable.Range(0, 4).Select(g => Convolve(h * stateKeep[g], recurrentKernel!.Variable.narrow(-1, g * Filters, Filters), KernelSize, ones, ones, same: true)).ToArray(), -1);
        }

        var z = projected.add(recurrent, Scalars.IntOne);
        Tensor Gate(int g, string activation) => Activations.Apply(activation, z.narrow(-1, g * Filters, Filters));
        var newC = addcmul(Gate(1, RecurrentActivation) * c, Gate(0, RecurrentActivation), Gate(2, Activation), Scalars.IntOne);
        var newH = Gate(3, RecurrentActivation) * Activations.Apply(Activation, newC);
        return (newH, new[] { newH, newC });
    }

    /// <summary>
    /// A channels-last convolution of any rank as Keras' <c>ops.conv</c>: x (batch, spatial..., channels), kernel
    /// (kernel..., channels, filters); 'same' pads as TensorFlow (the extra pad after). The windows are strided views
    /// (unfold per axis, every dilation-th tap), gathered once and multiplied by the kernel as one matrix.
    /// </summary>
    /// <param name="x">The input, channels last.</param>
    /// <param name="weights">The kernel in Keras' layout.</param>
    /// <param name="span">The dilated window per axis.</param>
    /// <param name="strides">The stride per axis.</param>
    /// <param name="dilation">The dilation per axis.</param>
    /// <param name="same">Whether to pad as 'same'.</param>
    internal static Tensor Convolve(Tensor x, Tensor weights, int[] span, int[] strides, int[] dilation, bool same)
    {
        var rank = span.Length;
        var channels = x.shape[^1];
        var filters = weights.shape[^1];
        if (same)
        {
            // pad's list runs from the last axis: the channels (none), then the spatial axes from the last.
            var pads = new long[2 * (rank + 1)];
            for (var a = 0; a < rank; a++)
            {
                var (before, after) = PaddingRules.SamePadding((int)x.shape[a + 1], span[a], strides[a]);
                pads[2 * (rank - a)] = before;
                pads[(2 * (rank - a)) + 1] = after;
            }

            if (pads.Any(p => p != 0))
            {
                x = nn.functional.pad(x, pads);
            }
        }

        for (var a = 0; a < rank; a++)
        {
            x = x.unfold(a + 1, span[a], strides[a]);
            if (dilation[a] > 1)
            {
                x = x.slice(-1, 0, span[a], dilation[a]);
            }
        }

        // (batch, out spatial..., channels, kernel...): the rows are Keras' kernel flattened as (channels, kernel...).
        var outShape = x.shape.Take(rank + 1).Append(filters).ToArray();
        var taps = weights.shape.Take(rank).Aggregate(1L, (p, k) => p * k);
        var matrix = weights.permute(new long[] { rank }.Concat(Enumerable.Range(0, rank).Select(a => (long)a)).Append(rank + 1).ToArray()).reshape(channels * taps, filters);
        return x.reshape(-1, channels * taps).matmul(matrix).view(outShape);
    }

    internal override (string Output, string[] States) OnnxStep(OnnxGraph body, string x, string[] states, string scope) =>
        throw OnnxGraph.Unsupported(this, "has no ONNX form here.");

    private sealed class Run(ConvLSTMCell cell, Tensor[]? inputKeep, Tensor[]? stateKeep) : CellRun
    {
        public override bool DropsState => stateKeep is not null;

        // Keras' four input masks act inside the projection, one per gate.
        public override Tensor Drop(Tensor inputs) => inputs;

        public override Tensor Project(Tensor dropped) => cell.Project(dropped, inputKeep);

        public override (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states) => cell.Step(projected, states, stateKeep);
    }
}
