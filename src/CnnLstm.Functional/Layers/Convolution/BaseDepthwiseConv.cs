using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What every depthwise convolution shares, as Keras' <c>BaseDepthwiseConv</c>
/// (keras/src/layers/convolutional/base_depthwise_conv.py), on <see cref="BaseConv"/>'s window arguments (no
/// <c>filters</c>, no <c>groups</c>, no <c>causal</c>): each input channel c is convolved on its own with
/// <c>depth_multiplier</c> kernels, output channel c × depth multiplier + m. Weights in Keras layout: kernel (named
/// <c>kernel</c> as in Keras 3; tf.keras 2 named it <c>depthwise_kernel</c>) (kernel..., channels, depth multiplier),
/// glorot-uniform; bias (channels × depth multiplier), zeros. Input (batch, spatial..., channels); output (batch,
/// output spatial..., channels × depth multiplier). Computed as a grouped convolution (one group per channel,
/// Engine/ConvKernels.cs); exported to ONNX as one <c>Conv</c> with <c>group</c> = channels. tf.keras 2.11 writes
/// <c>groups</c> 1 too (its <c>Conv</c> base's): read at 1, written in the tf.keras 2 form.
/// </summary>
public abstract class BaseDepthwiseConv : BaseConv
{
    /// <summary>Checks and keeps the arguments; see <see cref="BaseConv"/> for the shared ones.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="depthMultiplier"/> or a size is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    private protected BaseDepthwiseConv(int rank, int depthMultiplier, int[] kernelSize, int[] strides, string padding, int[] dilationRate,
        string? activation, bool useBias, string? name)
        : base(rank, depthMultiplier > 0 ? depthMultiplier : throw new ArgumentOutOfRangeException(nameof(depthMultiplier), $"depthMultiplier must be positive, got {depthMultiplier} (Keras refuses it too)."),
            kernelSize, strides, padding, dilationRate, activation, useBias, name, allowCausal: false)
    {
    }

    /// <summary>Kernels per input channel (Keras' <c>depth_multiplier</c>); <see cref="BaseConv.Filters"/> is this too.</summary>
    public int DepthMultiplier => Filters;

    /// <summary>The kernel's penalty (Keras' <c>depthwise_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? DepthwiseRegularizer { get; init; }

    /// <summary>The kernel's projection after each optimizer update (Keras' <c>depthwise_constraint</c>, default null), over
    /// Keras' layout (kernel size..., channels, depth multiplier): <c>new DepthwiseConv1D(3) { DepthwiseConstraint = new MaxNorm(1, new[] { 0, 1 }) }</c>.</summary>
    public Constraints.Constraint? DepthwiseConstraint { get; init; }

    /// <summary>(kernel size..., channels, depth multiplier), once built.</summary>
    private protected LayerWeight? Depthwise { get; private set; }

    private protected override bool HasFilters => false;

    private protected override bool HasGroups => false;

    private protected override int OutputChannels(int inputChannels) => inputChannels * DepthMultiplier;

    private protected override void AddLeadingConfig(JsonObject config) => config["depth_multiplier"] = DepthMultiplier;

    private protected override bool TakesKernelArguments => false;

    /// <summary>The depthwise kernel's initializer (Keras' <c>depthwise_initializer</c>, default <see cref="Initializers.GlorotUniform"/>).</summary>
    public Initializers.Initializer DepthwiseInitializer { get; init; } = new Initializers.GlorotUniform();

    private protected override void AddWeightConfig(JsonObject config)
    {
        config["depthwise_initializer"] = DepthwiseInitializer.Serialize();
        config["bias_initializer"] = BiasInitializer.Serialize();
        config["depthwise_regularizer"] = DepthwiseRegularizer?.Serialize();
        config["bias_regularizer"] = BiasRegularizer?.Serialize();
        config["activity_regularizer"] = ActivityRegularizer?.Serialize();
        config["depthwise_constraint"] = DepthwiseConstraint?.Serialize();
        config["bias_constraint"] = BiasConstraint?.Serialize();
    }

    /// <summary>Reads the keys <see cref="AddWeightConfig"/> and <see cref="BaseConv.GetConfig"/> write: the bias's
    /// regularizer and constraint in the arguments, the depthwise kernel's returned.</summary>
    private protected static (ConvArguments Arguments, int DepthMultiplier, Regularizers.Regularizer? Depthwise, Constraints.Constraint? DepthwiseConstraint) ReadDepthwiseConfig(LayerConfig config, int rank)
    {
        // tf.keras 2.11 writes its Conv base's groups (always 1 there); Keras 3 has none.
        config.RequireDefault("groups", 1);
        var arguments = ReadWindowConfig(config, rank, hasFilters: false) with
        {
            Regularizers = (null, config.GetRegularizer("bias_regularizer")),
            Constraints = (null, config.GetConstraint("bias_constraint")),
            InitialValues = (config.GetInitializer("depthwise_initializer", new Initializers.GlorotUniform()), config.GetInitializer("bias_initializer", new Initializers.Zeros()), null),
        };
        return (arguments, config.GetInt("depth_multiplier", 1), config.GetRegularizer("depthwise_regularizer"), config.GetConstraint("depthwise_constraint"));
    }

    private protected override void BuildWeights(int channels)
    {
        var shape = KernelSizes.Select(k => (long)k).Append(channels).Append(DepthMultiplier).ToArray();
        Depthwise = AddWeight("kernel", shape, Initial(DepthwiseInitializer, shape, "kernel"));
        Depthwise.Regularizer = DepthwiseRegularizer;
        Depthwise.Constraint = DepthwiseConstraint;
        AddBias((long)channels * DepthMultiplier);
    }

    /// <inheritdoc/>
    protected sealed override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        // (kernel..., channels, multiplier) → (kernel..., 1, channels × multiplier): group c makes outputs c × multiplier + m.
        var kernel = Depthwise!.Variable;
        var grouped = kernel.reshape(kernel.shape.Take(Rank).Append(1L).Append(-1L).ToArray());
        return Activations.Apply(Activation, ConvKernels.Conv(PadInput(input), grouped, Bias?.Variable, StridesPerAxis, DilationPerAxis, InputChannels));
    }

    /// <summary>ONNX: one Conv with a group per channel over (batch, channels, spatial...) between two Transposes, then the activation.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var channels = InputChannels;
        // Keras' (kernel..., channels, multiplier) to ONNX's (channels × multiplier, 1, kernel...).
        var toOnnx = new long[] { Rank, Rank + 1 }.Concat(Enumerable.Range(0, Rank).Select(a => (long)a)).ToArray();
        var onnxShape = new long[] { (long)channels * DepthMultiplier, 1 }.Concat(KernelSizes.Select(k => (long)k)).ToArray();
        var y = graph.ChannelsFirst(call.Input.Name, Rank, Name, x => graph.Conv(x, graph.Weight(Depthwise!, "onnx", t => t.permute(toOnnx).reshape(onnxShape)), Bias, Name,
            OnnxWindowAttributes(call).Append(OnnxGraph.Attr("group", (long)channels)).ToArray()));
        return new[] { graph.Activation(y, Activation, Name) };
    }
}
