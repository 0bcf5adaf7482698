using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// A 2-D convolution over channels-last images, as Keras' <c>keras.layers.Conv2D</c>
/// (keras/src/layers/convolutional/conv2d.py): input (batch, height, width, channels), output (batch, out height,
/// out width, filters) with Keras' sizes for <c>valid</c> and <c>same</c> (TensorFlow's split: the extra pad after).
/// Weights in Keras layout: kernel (kernel height, kernel width, channels, filters), glorot-uniform; bias (filters),
/// zeros. Computed as im2col and a matrix product (see <see cref="Windows2D"/>).
/// </summary>
[KerasLayer("Conv2D")]
public sealed class Conv2D : Layer
{
    private readonly Padding padding;
    private readonly (int H, int W) effectiveKernel;
    private LayerWeight? kernel;
    private LayerWeight? bias;
    private int channels;

    /// <summary>Creates the layer with a square kernel.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    /// <param name="strides">Stride on both axes (default 1).</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias (default true).</param>
    /// <param name="name">Layer name; defaults to <c>conv2d_N</c>.</param>
    public Conv2D(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null, bool useBias = true, string? name = null)
        : this(filters, (kernelSize, kernelSize), (strides, strides), padding, (1, 1), activation, useBias, name)
    {
    }

    /// <summary>Creates the layer.</summary>
    /// <param name="filters">Output channels; positive.</param>
    /// <param name="kernelSize">Kernel (height, width).</param>
    /// <param name="strides">Strides (height, width).</param>
    /// <param name="padding"><c>valid</c> or <c>same</c>.</param>
    /// <param name="dilationRate">Dilation (height, width).</param>
    /// <param name="activation">Keras activation name, or null for linear.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="name">Layer name; defaults to <c>conv2d_N</c>.</param>
    public Conv2D(int filters, (int H, int W) kernelSize, (int H, int W) strides, string padding = "valid", (int H, int W)? dilationRate = null,
        string? activation = null, bool useBias = true, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(filters);
        var dilation = dilationRate ?? (1, 1);
        if (new[] { kernelSize.H, kernelSize.W, strides.H, strides.W, dilation.H, dilation.W }.Any(v => v <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"Conv2D: kernel size {kernelSize}, strides {strides} and dilation {dilation} must be positive.");
        }

        if ((strides.H > 1 || strides.W > 1) && (dilation.H > 1 || dilation.W > 1))
        {
            throw new ArgumentException($"Conv2D: strides {strides} and dilation {dilation} cannot both exceed 1 (Keras refuses it too).", nameof(dilationRate));
        }

        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides;
        DilationRate = dilation;
        effectiveKernel = (PaddingRules.EffectiveWindow(kernelSize.H, dilation.H, nameof(Conv2D)), PaddingRules.EffectiveWindow(kernelSize.W, dilation.W, nameof(Conv2D)));
        this.padding = PaddingRules.Parse(padding, nameof(Conv2D), allowCausal: false);
        Activation = Activations.Validate(activation ?? "linear", nameof(Conv2D), nameof(activation));
        UseBias = useBias;
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>Kernel (height, width).</summary>
    public (int H, int W) KernelSize { get; }

    /// <summary>Strides (height, width).</summary>
    public (int H, int W) Strides { get; }

    /// <summary>Dilation (height, width).</summary>
    public (int H, int W) DilationRate { get; }

    /// <summary><c>valid</c> or <c>same</c>.</summary>
    public string Padding => padding.Name();

    /// <summary>The activation.</summary>
    public string Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["filters"] = Filters;
        config["kernel_size"] = new JsonArray(KernelSize.H, KernelSize.W);
        config["strides"] = new JsonArray(Strides.H, Strides.W);
        config["padding"] = Padding;
        config["data_format"] = "channels_last";
        config["dilation_rate"] = new JsonArray(DilationRate.H, DilationRate.W);
        config["groups"] = 1;
        config["activation"] = Activations.Serialize(Activation);
        config["use_bias"] = UseBias;
        AddKernelAndBiasConfig(config);
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Conv2D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        ReadGroupsConfig(config);
        ReadKernelAndBiasConfig(config);
        return new Conv2D(config.GetInt("filters"), config.GetPair("kernel_size", (1, 1)), config.GetPair("strides", (1, 1)), config.GetString("padding", "valid"),
            config.GetPair("dilation_rate", (1, 1)), config.GetActivation("activation", "linear"), config.GetBool("use_bias", true), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 4, "(batch, height, width, channels)");
        RequireFloat(input);
        var features = RequireKnownLast(input, "channel");
        if (Built && features != channels)
        {
            throw InputError($"the kernel was built for {channels} channels, but {input.Label} has shape {input.Shape}.");
        }

        var (height, width) = Windows2D.OutputSize(input.Shape, effectiveKernel, Strides, padding);
        if (height <= 0 || width <= 0)
        {
            throw InputError($"kernel {KernelSize} (dilation {DilationRate}) does not fit {input.Label} with shape {input.Shape} with padding '{Padding}'; the output would be ({height}, {width}).");
        }

        return new[] { (new Shape(null, height, width, Filters), DType.Float32) };
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, long[] Shape)> PlannedWeights(KerasTensor input)
    {
        yield return ("kernel", new long[] { KernelSize.H, KernelSize.W, input.Shape.Last!.Value, Filters });
        if (UseBias)
        {
            yield return ("bias", new long[] { Filters });
        }
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        channels = input.Shape.Last!.Value;
        var area = KernelSize.H * KernelSize.W;
        kernel = AddWeight("kernel", new[] { KernelSize.H, KernelSize.W, channels, Filters },
            Initializers.GlorotUniform(new long[] { KernelSize.H, KernelSize.W, channels, Filters }, area * channels, area * Filters, Random));
        if (UseBias)
        {
            bias = AddWeight("bias", new[] { Filters }, zeros(Filters));
        }
    }

    /// <inheritdoc/>
    protected internal override IReadOnlyList<Tensor> Forward(Tensor input, bool training)
    {
        var (patches, height, width) = Windows2D.Cut(input, KernelSize, Strides, DilationRate, padding, 0);
        // Patches come channel-major (C, kh, kw); the kernel is (kh, kw, C, filters) in Keras' layout.
        var weights = kernel!.Variable.permute(2, 0, 1, 3).reshape(-1, Filters);
        var output = patches.reshape(patches.shape[0], -1, patches.shape[3]).transpose(1, 2).matmul(weights);
        if (bias is not null)
        {
            output = output + bias.Variable;
        }

        return new[] { Activations.Apply(Activation, output.view(input.shape[0], height, width, Filters)) };
    }

    /// <summary>ONNX: Conv over (batch, channels, height, width) between two Transposes, then the activation.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var windows = new[] { effectiveKernel.H, effectiveKernel.W };
        var y = graph.ChannelsFirst(call.Input.Name, 2, Name, x => graph.Conv(x, graph.Weight(kernel!, "onnx", t => t.permute(3, 2, 0, 1)), bias, Name,
            OnnxGraph.Ints("kernel_shape", KernelSize.H, KernelSize.W), OnnxGraph.Ints("strides", Strides.H, Strides.W),
            OnnxGraph.Ints("dilations", DilationRate.H, DilationRate.W),
            OnnxWindows.Pads(padding, new[] { call.Input.Shape[1], call.Input.Shape[2] }, windows, new[] { Strides.H, Strides.W })));
        return new[] { graph.Activation(y, Activation, Name) };
    }
}
