using System.Globalization;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What every convolution shares, as Keras' <c>BaseConv</c> (keras/src/layers/convolutional/base_conv.py), for any
/// rank (1 for sequences, 2 for images, ...): <c>filters</c>, per-axis <c>kernel_size</c>, <c>strides</c> and
/// <c>dilation_rate</c> (tuples of length rank), <c>padding</c>, channels-last <c>data_format</c>, <c>groups</c> (1),
/// <c>activation</c> and <c>use_bias</c>; their checks, their config keys, Keras' output sizes, and by default a
/// glorot-uniform kernel (kernel size..., input channels, filters) and a zeros bias (filters), exported to ONNX as
/// one <c>Conv</c>. Input (batch, spatial..., channels); output (batch, output spatial..., filters). A subclass
/// computes <c>Call</c> and gives its typed view of the sizes.
/// </summary>
public abstract class BaseConv : Layer
{
    private readonly Padding padding;
    private int inputChannels;

    /// <summary>Checks and keeps the arguments every convolution takes.</summary>
    /// <param name="rank">Spatial axes: 1 (steps) or 2 (height, width).</param>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Window per spatial axis; positive.</param>
    /// <param name="strides">Step per spatial axis; positive.</param>
    /// <param name="padding"><c>valid</c>, <c>same</c>, or (when <paramref name="allowCausal"/>) <c>causal</c>.</param>
    /// <param name="dilationRate">Spacing of kernel taps per spatial axis; positive.</param>
    /// <param name="activation">Keras activation name; null for linear.</param>
    /// <param name="useBias">Whether a bias is added.</param>
    /// <param name="name">Layer name, or null for the default.</param>
    /// <param name="allowCausal">Whether <c>causal</c> padding is allowed (Keras: Conv1D only).</param>
    /// <param name="groups">Channel groups (Keras' <c>groups</c>, default 1): positive and dividing
    /// <paramref name="filters"/>; the input channels must be divisible by it too (checked when built).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or <paramref name="groups"/> is not positive, or a dilated
    /// window spans more than <see cref="int.MaxValue"/>.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation, or <paramref name="groups"/> does not divide
    /// <paramref name="filters"/>.</exception>
    private protected BaseConv(int rank, int filters, int[] kernelSize, int[] strides, string padding, int[] dilationRate,
        string? activation, bool useBias, string? name, bool allowCausal, int groups = 1)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(filters);
        if (groups <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(groups), $"{GetType().Name}: the number of groups must be a positive integer, got {groups} (Keras refuses it too).");
        }

        if (filters % groups != 0)
        {
            throw new ArgumentException($"{GetType().Name}: filters ({filters}) must be evenly divisible by groups ({groups}) (Keras refuses it too).", nameof(groups));
        }

        foreach (var (sizes, argument) in new[] { (kernelSize, nameof(kernelSize)), (strides, nameof(strides)), (dilationRate, nameof(dilationRate)) })
        {
            if (sizes.Length != rank || sizes.Any(v => v <= 0))
            {
                throw new ArgumentOutOfRangeException(argument, $"{GetType().Name}: {argument} must be {rank} positive number(s), got {Tuple(sizes)}.");
            }
        }

        Rank = rank;
        Filters = filters;
        KernelSizes = kernelSize.ToArray();
        StridesPerAxis = strides.ToArray();
        DilationPerAxis = dilationRate.ToArray();
        EffectiveKernel = kernelSize.Select((k, axis) => PaddingRules.EffectiveWindow(k, dilationRate[axis], GetType().Name)).ToArray();
        this.padding = PaddingRules.Parse(padding, GetType().Name, allowCausal);
        Activation = Activations.Validate(activation, GetType().Name, nameof(activation));
        UseBias = useBias;
        Groups = groups;
    }

    /// <summary>Channel groups (Keras' <c>groups</c>): input channels and filters are split into this many groups,
    /// each convolved with its own filters / groups kernels; 1 (the default) is a plain convolution.</summary>
    public int Groups { get; }

    /// <summary>Spatial axes of the input (1 for sequences, 2 for images).</summary>
    public int Rank { get; }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary><c>valid</c>, <c>same</c> or <c>causal</c>.</summary>
    public string Padding => padding.Name();

    /// <summary>The activation name (<c>linear</c> for none).</summary>
    public string Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>
    /// The kernel's initializer (Keras' <c>kernel_initializer</c>, default <see cref="Initializers.GlorotUniform"/>,
    /// over the Keras kernel layout); depthwise and separable convolutions take <c>DepthwiseInitializer</c> (and
    /// <c>PointwiseInitializer</c>) instead, and refuse this one when built.
    /// </summary>
    public Initializers.Initializer KernelInitializer { get => kernelInitializer ?? DefaultKernelInitializer; init => kernelInitializer = value; }

    /// <summary>The bias's initializer (Keras' <c>bias_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer BiasInitializer { get; init; } = new Initializers.Zeros();

    private static readonly Initializers.Initializer DefaultKernelInitializer = new Initializers.GlorotUniform();

    private readonly Initializers.Initializer? kernelInitializer;

    /// <summary>The kernel's penalty (Keras' <c>kernel_regularizer</c>, default null; not an argument of depthwise and separable convolutions, which take <c>DepthwiseRegularizer</c> and <c>PointwiseRegularizer</c>: building one with a kernel regularizer throws <see cref="NotSupportedException"/>).</summary>
    public Regularizers.Regularizer? KernelRegularizer { get; init; }

    /// <summary>The bias's penalty (Keras' <c>bias_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? BiasRegularizer { get; init; }

    /// <summary>
    /// The kernel's projection after each optimizer update (Keras' <c>kernel_constraint</c>, default null), over the
    /// Keras kernel layout (kernel size..., input channels, filters): <c>new MaxNorm(2, new[] { 0, 1 })</c> bounds
    /// each filter of a Conv1D. Not an argument of depthwise and separable convolutions, which take
    /// <c>DepthwiseConstraint</c> (and <c>PointwiseConstraint</c>), Keras' <c>depthwise_constraint</c> and
    /// <c>pointwise_constraint</c>: building one with a kernel constraint throws <see cref="NotSupportedException"/>.
    /// </summary>
    public Constraints.Constraint? KernelConstraint { get; init; }

    /// <summary>The bias's projection after each optimizer update (Keras' <c>bias_constraint</c>, default null).</summary>
    public Constraints.Constraint? BiasConstraint { get; init; }

    /// <summary>Whether <see cref="KernelConstraint"/>, <see cref="KernelRegularizer"/> and <see cref="KernelInitializer"/> are arguments (not on depthwise and separable convolutions, whose kernels have their own).</summary>
    private protected virtual bool TakesKernelArguments => true;

    private protected int[] KernelSizes { get; }

    private protected int[] StridesPerAxis { get; }

    private protected int[] DilationPerAxis { get; }

    /// <summary>Span of the dilated window per axis, (kernel - 1) × dilation + 1.</summary>
    private protected int[] EffectiveKernel { get; }

    private protected Padding PaddingMode => padding;

    /// <summary>Input channels, known once built.</summary>
    private protected int InputChannels => inputChannels;

    /// <summary>The kernel created by the default <see cref="Build(KerasTensor)"/>.</summary>
    private protected LayerWeight? Kernel { get; set; }

    /// <summary>The bias, or null without one.</summary>
    private protected LayerWeight? Bias { get; set; }

    /// <summary>
    /// A self-inverse change from Keras' kernel layout to the one <c>Call</c> keeps,
    /// or null to keep Keras' (see <see cref="Layer.AddWeight(string, long[], Func{Tensor}, Func{Tensor, Tensor}, Func{TorchSharp.Modules.Parameter})"/>).
    /// </summary>
    private protected virtual Func<Tensor, Tensor>? KernelLayout => null;

    /// <summary>Whether the config has <c>groups</c> (Keras' <c>BaseSeparableConv</c> has none).</summary>
    private protected virtual bool HasGroups => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        AddLeadingConfig(config);
        if (HasFilters)
        {
            config["filters"] = Filters;
        }

        config["kernel_size"] = Json(KernelSizes);
        config["strides"] = Json(StridesPerAxis);
        config["padding"] = Padding;
        AddAfterPadding(config);
        config["data_format"] = "channels_last";
        config["dilation_rate"] = Json(DilationPerAxis);
        if (HasGroups)
        {
            config["groups"] = Groups;
        }

        config["activation"] = Activations.Serialize(Activation);
        config["use_bias"] = UseBias;
        AddWeightConfig(config);
        return config;
    }

    /// <summary>Whether the config has <c>filters</c> (Keras' depthwise convolutions have none).</summary>
    private protected virtual bool HasFilters => true;

    /// <summary>Config keys Keras writes between <c>padding</c> and <c>data_format</c> (none here).</summary>
    private protected virtual void AddAfterPadding(JsonObject config)
    {
    }

    /// <summary>Output channels for <paramref name="inputChannels"/> input channels (<see cref="Filters"/> here).</summary>
    private protected virtual int OutputChannels(int inputChannels) => Filters;

    /// <summary>An output size for an input <paramref name="length"/> on <paramref name="axis"/> (Keras' convolution
    /// sizes here).</summary>
    private protected virtual int OutputLength(int axis, int length) => PaddingRules.OutputLength(length, EffectiveKernel[axis], StridesPerAxis[axis], padding);

    /// <summary>Whether <c>Call</c> pads its input for <c>same</c> or <c>causal</c> (a transposed convolution does not).</summary>
    private protected virtual bool PadsInput => true;

    /// <summary>Config keys Keras writes before <c>filters</c> (none here).</summary>
    private protected virtual void AddLeadingConfig(JsonObject config)
    {
    }

    /// <summary>The initializer, regularizer and constraint keys (a glorot-uniform kernel, a zeros bias, no others).</summary>
    private protected virtual void AddWeightConfig(JsonObject config) => AddKernelAndBiasConfig(config, KernelInitializer, BiasInitializer, KernelRegularizer, BiasRegularizer, kernelConstraint: KernelConstraint, biasConstraint: BiasConstraint);

    /// <summary>The arguments <see cref="BaseConv"/> takes, read from a Keras 2 or Keras 3 config.</summary>
    private protected readonly record struct ConvArguments(int Filters, int[] KernelSize, int[] Strides, string Padding, int[] DilationRate, string Activation, bool UseBias, string Name)
    {
        /// <summary>The kernel_regularizer and bias_regularizer read from the config.</summary>
        public (Regularizers.Regularizer? Kernel, Regularizers.Regularizer? Bias) Regularizers { get; init; }

        /// <summary>The kernel_constraint and bias_constraint read from the config.</summary>
        public (Constraints.Constraint? Kernel, Constraints.Constraint? Bias) Constraints { get; init; }

        /// <summary>The kernel (or depthwise), bias and pointwise initializers read from the config.</summary>
        public (Initializers.Initializer Kernel, Initializers.Initializer Bias, Initializers.Initializer? Pointwise) InitialValues { get; init; }

        /// <summary>Keras' <c>groups</c> (1 when the config has none).</summary>
        public int Groups { get; init; }
    }

    /// <summary>
    /// Reads the keys <see cref="GetConfig"/> writes for a rank-<paramref name="rank"/> convolution with a kernel and
    /// a bias: the window sizes (a number or a tuple of length rank), <c>channels_last</c>, <c>groups</c> (a positive
    /// number dividing filters, else a config error naming it), and the kernel and bias initializers.
    /// </summary>
    private protected static ConvArguments ReadConvConfig(LayerConfig config, int rank)
    {
        var groups = config.GetInt("groups", 1);
        var filters = config.GetNullableInt("filters");
        if (groups <= 0 || (filters > 0 && filters % groups != 0))
        {
            throw config.Error($"'groups' must be a positive integer that divides filters ({filters?.ToString(CultureInfo.InvariantCulture) ?? "absent"}), got {groups}.");
        }

        var (regularizers, constraints) = ReadKernelAndBiasConfigWithConstraints(config);
        return ReadWindowConfig(config, rank) with { Regularizers = regularizers, Constraints = constraints, Groups = groups, InitialValues = ReadKernelAndBiasInitializers(config) };
    }

    /// <summary>kernel_initializer (default glorot_uniform) and bias_initializer (default zeros).</summary>
    private protected static (Initializers.Initializer Kernel, Initializers.Initializer Bias, Initializers.Initializer? Pointwise) ReadKernelAndBiasInitializers(LayerConfig config) =>
        (config.GetInitializer("kernel_initializer", new Initializers.GlorotUniform()), config.GetInitializer("bias_initializer", new Initializers.Zeros()), null);

    /// <summary>The keys every convolution has: filters, window sizes, padding, data format, activation, use_bias
    /// (a depthwise convolution, without filters, gets 0).</summary>
    private protected static ConvArguments ReadWindowConfig(LayerConfig config, int rank, bool hasFilters = true)
    {
        config.RequireDefault("data_format", "channels_last");
        return new ConvArguments(hasFilters ? config.GetInt("filters") : 0, ReadTuple(config, "kernel_size", rank, null), ReadTuple(config, "strides", rank, 1),
            config.GetString("padding", "valid"), ReadTuple(config, "dilation_rate", rank, 1), config.GetActivation("activation", "linear"),
            config.GetBool("use_bias", true), config.Name);
    }

    /// <summary>Keras' <c>standardize_tuple</c>: a number for every axis, or a tuple of length rank.</summary>
    private static int[] ReadTuple(LayerConfig config, string key, int rank, int? defaultValue)
    {
        if (rank == 1)
        {
            return new[] { defaultValue is int value ? config.GetSize(key, value) : config.GetSize(key) };
        }

        if (config.GetRaw(key) is null)
        {
            return Enumerable.Repeat(defaultValue ?? throw config.Error($"the argument '{key}' is required."), rank).ToArray();
        }

        if (rank == 2)
        {
            var (first, second) = config.GetPair(key, (0, 0));
            return new[] { first, second };
        }

        var sizes = config.GetRaw(key) is JsonArray ? config.GetIntList(key) : Enumerable.Repeat(config.GetInt(key), rank).ToArray();
        return sizes.Length == rank ? sizes : throw config.Error($"'{key}' must be a number or {rank} numbers, got {config.GetRaw(key)!.ToJsonString()}.");
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, Rank + 2, Rank == 1 ? "(batch, steps, channels)" : $"(batch, {Rank} spatial axes, channels)");
        RequireFloat(input);
        var channels = RequireKnownLast(input, "channel");
        if (Built && channels != inputChannels)
        {
            throw InputError($"the weights were built for {inputChannels} channels, but {input.Label} has shape {input.Shape} with {channels} channels.");
        }

        if (channels % Groups != 0)
        {
            throw InputError($"the input channels ({channels}) must be evenly divisible by groups ({Groups}), but {input.Label} has shape {input.Shape} (Keras refuses it too).");
        }

        var sizes = new int?[Rank];
        for (var axis = 0; axis < Rank; axis++)
        {
            if (input.Shape[axis + 1] is int length)
            {
                if (PadsInput)
                {
                    CheckPaddedInput(input, axis, length, channels);
                }

                sizes[axis] = OutputLength(axis, length);
            }
        }

        if (sizes.Any(size => size <= 0))
        {
            throw InputError($"kernel size {Tuple(KernelSizes)} (dilation {Tuple(DilationPerAxis)}, effective {Tuple(EffectiveKernel)}) does not fit {input.Label} with shape {input.Shape} with padding '{Padding}': the output would be ({string.Join(", ", sizes)}). Expected at least the effective kernel on each axis, or padding 'same'.");
        }

        return new[] { (new Shape(new int?[] { null }.Concat(sizes).Append(OutputChannels(channels)).ToArray()), DType.Float32) };
    }

    /// <summary>Keeps the input channels and creates the weights (<see cref="BuildWeights"/>).</summary>
    protected sealed override void Build(KerasTensor input)
    {
        if (!TakesKernelArguments && KernelConstraint is not null)
        {
            throw new NotSupportedException($"{ClassName} '{Name}': KernelConstraint is not an argument of depthwise and separable convolutions; set DepthwiseConstraint (and PointwiseConstraint), Keras' depthwise_constraint and pointwise_constraint.");
        }

        if (!TakesKernelArguments && KernelRegularizer is not null)
        {
            throw new NotSupportedException($"{ClassName} '{Name}': KernelRegularizer is not an argument of depthwise and separable convolutions; set DepthwiseRegularizer (and PointwiseRegularizer), Keras' depthwise_regularizer and pointwise_regularizer.");
        }

        if (!TakesKernelArguments && kernelInitializer is not null)
        {
            throw new NotSupportedException($"{ClassName} '{Name}': KernelInitializer is not an argument of depthwise and separable convolutions; set DepthwiseInitializer (and PointwiseInitializer), Keras' depthwise_initializer and pointwise_initializer.");
        }

        inputChannels = input.Shape.Last!.Value;
        BuildWeights(inputChannels);
        Kernel?.Regularizer = KernelRegularizer;
        Bias?.Regularizer = BiasRegularizer;
        Kernel?.Constraint = KernelConstraint;
        Bias?.Constraint = BiasConstraint;
    }

    /// <summary>Creates the kernel (kernel size..., channels / groups, filters) and the bias from their initializers.</summary>
    private protected virtual void BuildWeights(int channels)
    {
        var shape = KernelSizes.Select(k => (long)k).Append(channels / Groups).Append(Filters).ToArray();
        var initial = Initial(KernelInitializer, shape, "kernel");
        Kernel = KernelLayout is { } layout ? AddWeight("kernel", shape, initial, layout) : AddWeight("kernel", shape, initial);
        AddBias(Filters);
    }

    /// <summary>Adds the bias (when <see cref="UseBias"/>) of <paramref name="size"/> values, from <see cref="BiasInitializer"/>.</summary>
    private protected void AddBias(long size)
    {
        if (UseBias)
        {
            var shape = new[] { size };
            Bias = AddWeight("bias", shape, Initial(BiasInitializer, shape, "bias"));
        }
    }

    /// <summary>ONNX: Conv (with <c>group</c> when <see cref="Groups"/> is above 1) over (batch, channels, spatial...)
    /// between two Transposes, then the activation.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        // Keras' (kernel..., in / groups, filters) to ONNX's (filters, in / groups, kernel...).
        var toOnnx = new long[] { Rank + 1, Rank }.Concat(Enumerable.Range(0, Rank).Select(a => (long)a)).ToArray();
        var attributes = Groups > 1 ? OnnxWindowAttributes(call).Append(OnnxGraph.Attr("group", (long)Groups)).ToArray() : OnnxWindowAttributes(call);
        var y = graph.ChannelsFirst(call.Input.Name, Rank, Name, x => graph.Conv(x, graph.Weight(Kernel!, "onnx", t => t.permute(toOnnx)), Bias, Name, attributes));
        return new[] { graph.Activation(y, Activation, Name) };
    }

    /// <summary>ONNX's <c>kernel_shape</c>, <c>strides</c>, <c>dilations</c> and <c>pads</c> of this layer's windows.</summary>
    private protected Saving.Onnx.Proto.AttributeProto[] OnnxWindowAttributes(OnnxCall call) => new[]
    {
        OnnxGraph.Ints("kernel_shape", KernelSizes.Select(k => (long)k).ToArray()),
        OnnxGraph.Ints("strides", StridesPerAxis.Select(s => (long)s).ToArray()),
        OnnxGraph.Ints("dilations", DilationPerAxis.Select(d => (long)d).ToArray()),
        OnnxWindows.Pads(padding, Enumerable.Range(1, Rank).Select(a => call.Input.Shape[a]).ToArray(), EffectiveKernel, StridesPerAxis),
    };

    /// <summary>The input padded as <c>same</c> (TensorFlow's split, the extra cell after) or <c>causal</c> (all
    /// before) asks on every spatial axis of a channels-last batch; unchanged for <c>valid</c>.</summary>
    private protected Tensor PadInput(Tensor input)
    {
        if (padding == Layers.Padding.Valid)
        {
            return input;
        }

        var pads = new long[2 * (Rank + 1)];
        for (var axis = 0; axis < Rank; axis++)
        {
            var (before, after) = padding == Layers.Padding.Causal
                ? (EffectiveKernel[axis] - 1L, 0L)
                : PaddingRules.SamePadding((int)input.shape[axis + 1], EffectiveKernel[axis], StridesPerAxis[axis]);
            pads[2 * (Rank - axis)] = before;
            pads[(2 * (Rank - axis)) + 1] = after;
        }

        return nn.functional.pad(input, pads);
    }

    /// <summary>Keras' refusal of strides and dilation both above 1 (keras/src/layers/convolutional/base_conv.py).</summary>
    /// <exception cref="ArgumentException">Some stride and some dilation exceed 1.</exception>
    private protected void RefuseStridedDilation()
    {
        if (StridesPerAxis.Max() > 1 && DilationPerAxis.Max() > 1)
        {
            throw new ArgumentException($"{GetType().Name}: strides {Tuple(StridesPerAxis)} and dilation {Tuple(DilationPerAxis)} cannot both exceed 1 (Keras refuses it too).", "dilationRate");
        }
    }

    /// <summary>A size for messages: <c>3</c> on one axis, <c>(3, 3)</c> on several.</summary>
    private protected static string Tuple(IReadOnlyList<int> sizes) =>
        sizes.Count == 1 ? sizes[0].ToString(CultureInfo.InvariantCulture) : $"({string.Join(", ", sizes)})";

    private static JsonArray Json(int[] sizes) => new(sizes.Select(s => (JsonNode?)s).ToArray());

    /// <summary>
    /// Refuses a convolution whose 'same' or 'causal' padding would make a padded input (up to length + window - 1
    /// on the axis) that could not be allocated: a dilation of 1e9 padded every sample with billions of zeros.
    /// </summary>
    private void CheckPaddedInput(KerasTensor input, int axis, int length, int channels)
    {
        if (padding != Layers.Padding.Valid)
        {
            var padded = input.Shape.With(axis + 1, DerivedDim((long)length + EffectiveKernel[axis] - 1, input, $"the steps padded for a window of {EffectiveKernel[axis]}"));
            CheckSampleSize("the padded input", padded.With(Rank + 1, channels), input);
        }
    }
}
