using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A depthwise-separable 1-D convolution, as Keras' <c>keras.layers.SeparableConv1D</c>
/// (keras/src/layers/convolutional/separable_conv1d.py): each input channel is convolved on its own with
/// <c>depthMultiplier</c> kernels (the depthwise step, output channel c × depthMultiplier + m), then a 1 × 1
/// convolution mixes them into <c>filters</c> channels (the pointwise step), then bias and activation. Input (batch,
/// steps, channels); output (batch, out steps, filters) with Keras' lengths for <c>valid</c> and <c>same</c>.
/// Weights in Keras layout: depthwise_kernel (kernel size, channels, depth multiplier), pointwise_kernel (1,
/// channels × depth multiplier, filters), bias (filters). Computed from the windows (unfold) and matrix products.
/// </summary>
[KerasLayer("SeparableConv1D")]
public sealed class SeparableConv1D : Layer
{
    private readonly Padding padding;
    private LayerWeight? depthwise;
    private LayerWeight? pointwise;
    private LayerWeight? bias;
    private int channels;

    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Steps per window; positive.</param>
    /// <param name="strides">Steps between windows (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="dilationRate">Dilation (default 1).</param>
    /// <param name="depthMultiplier">Depthwise kernels per input channel (default 1).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>separable_conv1d_N</c>.</param>
    public SeparableConv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", int dilationRate = 1, int depthMultiplier = 1,
        string? activation = null, bool useBias = true, string? name = null)
        : base(name)
    {
        foreach (var (value, argument) in new[] { (filters, nameof(filters)), (kernelSize, nameof(kernelSize)), (strides, nameof(strides)), (dilationRate, nameof(dilationRate)), (depthMultiplier, nameof(depthMultiplier)) })
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, argument);
        }

        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides;
        DilationRate = dilationRate;
        EffectiveKernel = PaddingRules.EffectiveWindow(kernelSize, dilationRate, nameof(SeparableConv1D));
        DepthMultiplier = depthMultiplier;
        this.padding = PaddingRules.Parse(padding, nameof(SeparableConv1D), allowCausal: false);
        Activation = Activations.Validate(activation ?? "linear", nameof(SeparableConv1D), nameof(activation));
        UseBias = useBias;
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>Steps per window.</summary>
    public int KernelSize { get; }

    /// <summary>Steps between windows.</summary>
    public int Strides { get; }

    /// <summary>Dilation.</summary>
    public int DilationRate { get; }

    /// <summary>Depthwise kernels per input channel (Keras' <c>depth_multiplier</c>).</summary>
    public int DepthMultiplier { get; }

    /// <summary><c>valid</c> or <c>same</c>.</summary>
    public string Padding => padding.Name();

    /// <summary>The activation.</summary>
    public string Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    private int EffectiveKernel { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["depth_multiplier"] = DepthMultiplier;
        config["filters"] = Filters;
        config["kernel_size"] = new JsonArray(KernelSize);
        config["strides"] = new JsonArray(Strides);
        config["padding"] = Padding;
        config["data_format"] = "channels_last";
        config["dilation_rate"] = new JsonArray(DilationRate);
        config["activation"] = Activations.Serialize(Activation);
        config["use_bias"] = UseBias;
        config["depthwise_initializer"] = GlorotUniformConfig();
        config["pointwise_initializer"] = GlorotUniformConfig();
        config["bias_initializer"] = KerasInitializer("Zeros", new JsonObject());
        foreach (var key in new[] { "depthwise_regularizer", "pointwise_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_constraint", "pointwise_constraint", "bias_constraint" })
        {
            config[key] = null;
        }

        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static SeparableConv1D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        config.ReadInitializer("depthwise_initializer", "glorot_uniform");
        config.ReadInitializer("pointwise_initializer", "glorot_uniform");
        config.ReadInitializer("bias_initializer", "zeros");
        foreach (var key in new[] { "depthwise_regularizer", "pointwise_regularizer", "bias_regularizer", "depthwise_constraint", "pointwise_constraint", "bias_constraint" })
        {
            config.RequireDefault(key, null);
        }

        return new SeparableConv1D(config.GetInt("filters"), config.GetSize("kernel_size"), config.GetSize("strides", 1), config.GetString("padding", "valid"),
            config.GetSize("dilation_rate", 1), config.GetInt("depth_multiplier", 1), config.GetActivation("activation", "linear"), config.GetBool("use_bias", true), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, channels)");
        RequireFloat(input);
        var features = RequireKnownLast(input, "channel");
        if (Built && features != channels)
        {
            throw InputError($"the kernels were built for {channels} channels, but {input.Label} has shape {input.Shape}.");
        }

        if (input.Shape[1] is int known)
        {
            CheckPaddedInput(input, known, input.Shape.Last!.Value, EffectiveKernel, padding);
        }

        int? steps = input.Shape[1] is int length ? PaddingRules.OutputLength(length, EffectiveKernel, Strides, padding) : null;
        if (steps <= 0)
        {
            throw InputError($"kernel size {KernelSize} (dilation {DilationRate}) is longer than the input sequence: {input.Label} has shape {input.Shape}, which gives output length {steps} with padding '{Padding}'.");
        }

        return new[] { (new Shape(null, steps, Filters), DType.Float32) };
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, long[] Shape)> PlannedWeights(KerasTensor input)
    {
        var c = input.Shape.Last!.Value;
        yield return ("depthwise_kernel", new long[] { KernelSize, c, DepthMultiplier });
        yield return ("pointwise_kernel", new long[] { 1, (long)c * DepthMultiplier, Filters });
        if (UseBias)
        {
            yield return ("bias", new long[] { Filters });
        }
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        channels = input.Shape.Last!.Value;
        depthwise = AddWeight("depthwise_kernel", new[] { KernelSize, channels, DepthMultiplier },
            Initializers.GlorotUniform(new long[] { KernelSize, channels, DepthMultiplier }, KernelSize * channels, KernelSize * DepthMultiplier, Random));
        pointwise = AddWeight("pointwise_kernel", new[] { 1, channels * DepthMultiplier, Filters },
            Initializers.GlorotUniform(new long[] { 1, channels * DepthMultiplier, Filters }, channels * DepthMultiplier, Filters, Random));
        if (UseBias)
        {
            bias = AddWeight("bias", new[] { Filters }, zeros(Filters));
        }
    }

    /// <inheritdoc/>
    protected internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training)
    {
        // The sequence as a one-row image: windows (N, C, k, steps out).
        var (windows, _, steps) = Windows2D.Cut(input.unsqueeze(1), (1, KernelSize), (1, Strides), (1, DilationRate), padding, 0);
        // Depthwise: out[n, t, c, m] = Σ_k window[n, c, k, t] × depthwise[k, c, m]; channel c × multiplier + m.
        var separated = einsum("nckt,kcm->ntcm", windows, depthwise!.Variable).reshape(input.shape[0], steps, -1);
        var output = separated.matmul(pointwise!.Variable[0]);
        if (bias is not null)
        {
            output = output + bias.Variable;
        }

        return new[] { Activations.Apply(Activation, output) };
    }

    /// <summary>
    /// ONNX: a grouped Conv (one group per channel, the depthwise step) and a 1-wide Conv (the pointwise step with the
    /// bias) over (batch, channels, steps) between two Transposes, then the activation.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var channels = depthwise!.Shape[1];
        // Keras' (k, channels, multiplier) to ONNX's (channels × multiplier, 1, k): output channel c × multiplier + m.
        var depthwiseKernel = graph.Weight(depthwise, "onnx", t => t.permute(1, 2, 0).reshape(channels * DepthMultiplier, 1, KernelSize));
        var y = graph.ChannelsFirst(call.Input.Name, 1, Name, x =>
        {
            var spread = graph.Conv(x, depthwiseKernel, null, Name,
                OnnxGraph.Ints("kernel_shape", (long)KernelSize), OnnxGraph.Ints("strides", (long)Strides), OnnxGraph.Ints("dilations", (long)DilationRate),
                OnnxGraph.Attr("group", (long)channels), OnnxWindows.Pads(padding, new[] { call.Input.Shape[1] }, new[] { EffectiveKernel }, new[] { Strides }));
            return graph.Conv(spread, graph.Weight(pointwise!, "onnx", t => t.permute(2, 1, 0)), bias, Name, OnnxGraph.Ints("kernel_shape", 1L));
        });
        return new[] { graph.Activation(y, Activation, Name) };
    }
}
