using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What every depthwise-separable convolution shares, as Keras' <c>BaseSeparableConv</c>
/// (keras/src/layers/convolutional/base_separable_conv.py), for any rank: the window arguments of
/// <see cref="BaseConv"/> (no <c>groups</c>, no <c>causal</c> padding), <c>depth_multiplier</c>, and the weights
/// depthwise_kernel (kernel size..., channels, depth multiplier) and pointwise_kernel (1..., channels × depth
/// multiplier, filters), both glorot-uniform, and bias (filters), zeros; their config keys; ONNX as a grouped Conv
/// (one group per channel) then a 1-wide Conv.
/// </summary>
public abstract class BaseSeparableConv : BaseConv
{
    /// <summary>Checks and keeps the arguments; see <see cref="BaseConv"/> for the shared ones.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="depthMultiplier"/> or a size is not positive.</exception>
    /// <exception cref="ArgumentException">Unknown padding or activation.</exception>
    private protected BaseSeparableConv(int rank, int filters, int[] kernelSize, int[] strides, string padding, int[] dilationRate, int depthMultiplier,
        string? activation, bool useBias, string? name)
        : base(rank, filters, kernelSize, strides, padding, dilationRate, activation, useBias, name, allowCausal: false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(depthMultiplier);
        DepthMultiplier = depthMultiplier;
    }

    /// <summary>Depthwise kernels per input channel (Keras' <c>depth_multiplier</c>).</summary>
    public int DepthMultiplier { get; }

    /// <summary>The depthwise kernel's penalty (Keras' <c>depthwise_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? DepthwiseRegularizer { get; init; }

    /// <summary>The pointwise kernel's penalty (Keras' <c>pointwise_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? PointwiseRegularizer { get; init; }

    /// <summary>The depthwise kernel's projection after each optimizer update (Keras' <c>depthwise_constraint</c>, default null), over (kernel size..., channels, depth multiplier).</summary>
    public Constraints.Constraint? DepthwiseConstraint { get; init; }

    /// <summary>The pointwise kernel's projection after each optimizer update (Keras' <c>pointwise_constraint</c>, default null), over
    /// (1..., channels × depth multiplier, filters): <c>new SeparableConv1D(4, 3) { PointwiseConstraint = new UnitNorm(new[] { 0, 1 }) }</c>.</summary>
    public Constraints.Constraint? PointwiseConstraint { get; init; }

    /// <summary>(kernel size..., channels, depth multiplier), once built.</summary>
    private protected LayerWeight? Depthwise { get; private set; }

    /// <summary>(1..., channels × depth multiplier, filters), once built.</summary>
    private protected LayerWeight? Pointwise { get; private set; }

    private protected override bool HasGroups => false;

    private protected override void AddLeadingConfig(JsonObject config) => config["depth_multiplier"] = DepthMultiplier;

    private protected override bool TakesKernelArguments => false;

    /// <summary>The depthwise kernel's initializer (Keras' <c>depthwise_initializer</c>, default <see cref="Initializers.GlorotUniform"/>).</summary>
    public Initializers.Initializer DepthwiseInitializer { get; init; } = new Initializers.GlorotUniform();

    /// <summary>The pointwise kernel's initializer (Keras' <c>pointwise_initializer</c>, default <see cref="Initializers.GlorotUniform"/>).</summary>
    public Initializers.Initializer PointwiseInitializer { get; init; } = new Initializers.GlorotUniform();

    private protected override void AddWeightConfig(JsonObject config)
    {
        config["depthwise_initializer"] = DepthwiseInitializer.Serialize();
        config["pointwise_initializer"] = PointwiseInitializer.Serialize();
        config["bias_initializer"] = BiasInitializer.Serialize();
        config["depthwise_regularizer"] = DepthwiseRegularizer?.Serialize();
        config["pointwise_regularizer"] = PointwiseRegularizer?.Serialize();
        config["bias_regularizer"] = BiasRegularizer?.Serialize();
        config["activity_regularizer"] = ActivityRegularizer?.Serialize();
        config["depthwise_constraint"] = DepthwiseConstraint?.Serialize();
        config["pointwise_constraint"] = PointwiseConstraint?.Serialize();
        config["bias_constraint"] = BiasConstraint?.Serialize();
    }

    /// <summary>
    /// Reads the keys <see cref="AddWeightConfig"/> and <see cref="BaseConv.GetConfig"/> write; the regularizers
    /// and constraints (depthwise, pointwise, and the bias's in the arguments' <c>Regularizers</c> and <c>Constraints</c>).
    /// </summary>
    private protected static (ConvArguments Arguments, int DepthMultiplier, Regularizers.Regularizer? Depthwise, Regularizers.Regularizer? Pointwise,
        Constraints.Constraint? DepthwiseConstraint, Constraints.Constraint? PointwiseConstraint) ReadSeparableConfig(LayerConfig config, int rank)
    {
        // tf.keras 2.11 writes its Conv base's groups (always 1 there); Keras 3 has none.
        config.RequireDefault("groups", 1);
        var arguments = ReadWindowConfig(config, rank) with
        {
            Regularizers = (null, config.GetRegularizer("bias_regularizer")),
            Constraints = (null, config.GetConstraint("bias_constraint")),
            InitialValues = (config.GetInitializer("depthwise_initializer", new Initializers.GlorotUniform()), config.GetInitializer("bias_initializer", new Initializers.Zeros()),
                config.GetInitializer("pointwise_initializer", new Initializers.GlorotUniform())),
        };
        return (arguments, config.GetInt("depth_multiplier", 1), config.GetRegularizer("depthwise_regularizer"), config.GetRegularizer("pointwise_regularizer"),
            config.GetConstraint("depthwise_constraint"), config.GetConstraint("pointwise_constraint"));
    }

    private protected override void BuildWeights(int channels)
    {
        var depthwiseShape = KernelSizes.Select(k => (long)k).Append(channels).Append(DepthMultiplier).ToArray();
        Depthwise = AddWeight("depthwise_kernel", depthwiseShape, Initial(DepthwiseInitializer, depthwiseShape, "depthwise_kernel"));
        var pointwiseShape = Enumerable.Repeat(1L, Rank).Append((long)channels * DepthMultiplier).Append(Filters).ToArray();
        Pointwise = AddWeight("pointwise_kernel", pointwiseShape, Initial(PointwiseInitializer, pointwiseShape, "pointwise_kernel"));
        Depthwise.Regularizer = DepthwiseRegularizer;
        Pointwise.Regularizer = PointwiseRegularizer;
        Depthwise.Constraint = DepthwiseConstraint;
        Pointwise.Constraint = PointwiseConstraint;
        AddBias(Filters);
    }

    /// <summary>
    /// ONNX: a grouped Conv (one group per channel, the depthwise step) and a 1-wide Conv (the pointwise step with the
    /// bias) over (batch, channels, spatial...) between two Transposes, then the activation.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var channels = InputChannels;
        // Keras' (kernel..., channels, multiplier) to ONNX's (channels × multiplier, 1, kernel...): output channel c × multiplier + m.
        var depthwiseToOnnx = new long[] { Rank, Rank + 1 }.Concat(Enumerable.Range(0, Rank).Select(a => (long)a)).ToArray();
        var onnxShape = new long[] { (long)channels * DepthMultiplier, 1 }.Concat(KernelSizes.Select(k => (long)k)).ToArray();
        var depthwiseKernel = graph.Weight(Depthwise!, "onnx", t => t.permute(depthwiseToOnnx).reshape(onnxShape));
        // Keras' (1..., in, filters) to ONNX's (filters, in, 1...).
        var pointwiseToOnnx = new long[] { Rank + 1, Rank }.Concat(Enumerable.Range(0, Rank).Select(a => (long)a)).ToArray();
        var y = graph.ChannelsFirst(call.Input.Name, Rank, Name, x =>
        {
            var spread = graph.Conv(x, depthwiseKernel, null, Name, OnnxWindowAttributes(call).Append(OnnxGraph.Attr("group", (long)channels)).ToArray());
            return graph.Conv(spread, graph.Weight(Pointwise!, "onnx", t => t.permute(pointwiseToOnnx)), Bias, Name,
                OnnxGraph.Ints("kernel_shape", Enumerable.Repeat(1L, Rank).ToArray()));
        });
        return new[] { graph.Activation(y, Activation, Name) };
    }
}
