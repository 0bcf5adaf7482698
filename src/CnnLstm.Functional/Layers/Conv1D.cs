using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// 1-D convolution over channels-last sequences (batch, steps, channels), as Keras' <c>Conv1D</c>.
/// Weights: kernel (kernelSize, in, filters) glorot_uniform, bias (filters) zeros. The engine keeps the kernel in
/// torch's (filters, in, kernelSize) layout.
/// </summary>
[KerasLayer("Conv1D")]
public sealed class Conv1D : Layer
{
    private readonly Padding padding;
    private LayerWeight? kernel;
    private LayerWeight? bias;
    private int inputChannels;

    /// <summary>Creates a 1-D convolution layer.</summary>
    /// <param name="filters">Number of output channels; must be positive.</param>
    /// <param name="kernelSize">Window length; must be positive.</param>
    /// <param name="strides">Step between windows; must be positive.</param>
    /// <param name="padding"><c>valid</c> (no padding), <c>same</c> (output length ceil(L / strides)) or
    /// <c>causal</c> (left padding of (kernelSize - 1) * dilationRate).</param>
    /// <param name="dilationRate">Spacing between kernel taps; must be positive.</param>
    /// <param name="activation">Keras activation name; null or <c>linear</c> for none.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="name">Layer name; defaults to <c>conv1d_N</c>.</param>
    public Conv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", int dilationRate = 1,
        string? activation = null, bool useBias = true, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(filters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(strides);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dilationRate);
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides;
        DilationRate = dilationRate;
        EffectiveKernel = PaddingRules.EffectiveWindow(kernelSize, dilationRate, nameof(Conv1D));
        this.padding = PaddingRules.Parse(padding, nameof(Conv1D), allowCausal: true);
        Activation = Activations.Validate(activation, nameof(Conv1D), nameof(activation));
        UseBias = useBias;
    }

    /// <summary>Number of output channels.</summary>
    public int Filters { get; }

    /// <summary>Window length.</summary>
    public int KernelSize { get; }

    /// <summary>Step between windows.</summary>
    public int Strides { get; }

    /// <summary>Spacing between kernel taps.</summary>
    public int DilationRate { get; }

    /// <summary>The padding mode: <c>valid</c>, <c>same</c> or <c>causal</c>.</summary>
    public string Padding => padding.Name();

    /// <summary>The activation name.</summary>
    public string Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    private int EffectiveKernel { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["filters"] = Filters;
        config["kernel_size"] = new JsonArray(KernelSize);
        config["strides"] = new JsonArray(Strides);
        config["padding"] = Padding;
        config["data_format"] = "channels_last";
        config["dilation_rate"] = new JsonArray(DilationRate);
        config["groups"] = 1;
        config["activation"] = Activations.Serialize(Activation);
        config["use_bias"] = UseBias;
        AddKernelAndBiasConfig(config);
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv1D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        ReadGroupsConfig(config);
        ReadKernelAndBiasConfig(config);
        return new Conv1D(config.GetInt("filters"), config.GetSize("kernel_size"), config.GetSize("strides", 1),
            config.GetString("padding", "valid"), config.GetSize("dilation_rate", 1), config.GetActivation("activation", "linear"),
            config.GetBool("use_bias", true), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, channels)");
        RequireFloat(input);
        var channels = RequireKnownLast(input, "channel");
        if (Built && channels != inputChannels)
        {
            throw InputError($"the kernel is ({KernelSize}, {inputChannels}, {Filters}), built for {inputChannels} channels, but {input.Label} has shape {input.Shape} with {channels} channels.");
        }

        int? steps = input.Shape[1];
        if (steps is int length)
        {
            CheckPaddedInput(input, length, channels, EffectiveKernel, padding);
            steps = PaddingRules.OutputLength(length, EffectiveKernel, Strides, padding);
            if (steps <= 0)
            {
                throw InputError($"kernel size {KernelSize} (dilation {DilationRate}, effective {EffectiveKernel}) is longer than the input sequence: {input.Label} has shape {input.Shape}, which gives output length {steps} with padding '{Padding}'. Expected at least {EffectiveKernel} steps, or padding 'same'/'causal'.");
            }
        }

        return new[] { (new Shape(null, steps, Filters), DType.Float32) };
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, long[] Shape)> PlannedWeights(KerasTensor input)
    {
        yield return ("kernel", new long[] { KernelSize, input.Shape.Last!.Value, Filters });
        if (UseBias)
        {
            yield return ("bias", new long[] { Filters });
        }
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        inputChannels = input.Shape.Last!.Value;
        var value = Initializers.GlorotUniform(new long[] { KernelSize, inputChannels, Filters }, KernelSize * inputChannels, KernelSize * Filters, Random);
        kernel = AddWeight("kernel", new[] { KernelSize, inputChannels, Filters }, value.permute(2, 1, 0).contiguous(), t => t.permute(2, 1, 0));
        if (UseBias)
        {
            bias = AddWeight("bias", new[] { Filters }, zeros(Filters));
        }
    }

    /// <inheritdoc/>
    protected internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training)
    {
        if (KernelSize == 1 && Strides == 1)
        {
            // A width-1 convolution is a dense map of each step's channels: one matrix product on the
            // channels-last input, no layout changes, no convolution set-up (the seed's regression model).
            using var matrix = kernel!.Variable.squeeze(-1);
            return new[] { Activations.Apply(Activation, nn.functional.linear(input, matrix, bias?.Variable)) };
        }

        var (left, right) = padding switch
        {
            Layers.Padding.Same => PaddingRules.SamePadding((int)input.shape[1], EffectiveKernel, Strides),
            Layers.Padding.Causal => (EffectiveKernel - 1L, 0L),
            _ => (0L, 0L),
        };
        var x = left + right > 0 ? nn.functional.pad(input, new[] { 0L, 0L, left, right }) : input;

        // The fastest libtorch path whose check passed on this CPU, or im2col (Engine/Conv1DKernels.cs).
        var y = Conv1DKernels.Run(x, kernel!.Variable, bias?.Variable, Strides, DilationRate);
        return new[] { Activations.Apply(Activation, y) };
    }

    /// <summary>ONNX: Conv over (batch, channels, steps) between two Transposes, then the activation.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Activation(graph.ChannelsFirst(call.Input.Name, 1, Name, x => graph.Conv(x, graph.Weight(kernel!, "onnx", t => t.permute(2, 1, 0)), bias, Name,
            OnnxGraph.Ints("kernel_shape", (long)KernelSize), OnnxGraph.Ints("strides", (long)Strides), OnnxGraph.Ints("dilations", (long)DilationRate),
            OnnxWindows.Pads(padding, new[] { call.Input.Shape[1] }, new[] { EffectiveKernel }, new[] { Strides }))), Activation, Name) };
}
