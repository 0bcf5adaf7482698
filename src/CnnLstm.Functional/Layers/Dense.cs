using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Densely connected layer, <c>activation(dot(input, kernel) + bias)</c> on the last axis, as Keras' <c>Dense</c>.
/// Weights: kernel (in, units), <see cref="KernelInitializer"/> (glorot_uniform), bias (units), <see cref="BiasInitializer"/> (zeros).
/// </summary>
[KerasLayer("Dense"), Keras3OnlyArgument("quantization_config", null), Keras3OnlyArgument("lora_rank", null), Keras3OnlyArgument("lora_alpha", null), TfKeras2OnlyArgument("activity_regularizer", null)]
public sealed class Dense : Layer
{
    private LayerWeight? kernel;
    private LayerWeight? bias;
    private int inputDim;

    /// <summary>Creates a dense layer.</summary>
    /// <param name="units">Output size; must be positive.</param>
    /// <param name="activation">Keras activation name; null or <c>linear</c> for none.</param>
    /// <param name="useBias">Whether to add a bias vector.</param>
    /// <param name="name">Layer name; defaults to <c>dense_N</c>.</param>
    public Dense(int units, string? activation = null, bool useBias = true, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(units);
        Units = units;
        Activation = Activations.Validate(activation, nameof(Dense), nameof(activation));
        UseBias = useBias;
    }

    /// <summary>Output size.</summary>
    public int Units { get; }

    /// <summary>The activation name.</summary>
    public string Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>The kernel's initializer (Keras' <c>kernel_initializer</c>, default <see cref="Initializers.GlorotUniform"/>): <c>new Dense(8) { KernelInitializer = new HeNormal(seed: 1) }</c>.</summary>
    public Initializers.Initializer KernelInitializer { get; init; } = new Initializers.GlorotUniform();

    /// <summary>The bias's initializer (Keras' <c>bias_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer BiasInitializer { get; init; } = new Initializers.Zeros();

    /// <summary>The kernel's penalty (Keras' <c>kernel_regularizer</c>, default null): <c>new Dense(8) { KernelRegularizer = new L1L2(0.01, 0.01) }</c>.</summary>
    public Regularizers.Regularizer? KernelRegularizer { get; init; }

    /// <summary>The bias's penalty (Keras' <c>bias_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? BiasRegularizer { get; init; }

    /// <summary>The kernel's projection after each optimizer update (Keras' <c>kernel_constraint</c>, default null): <c>new Dense(8) { KernelConstraint = new MaxNorm(2) }</c>.</summary>
    public Constraints.Constraint? KernelConstraint { get; init; }

    /// <summary>The bias's projection after each optimizer update (Keras' <c>bias_constraint</c>, default null).</summary>
    public Constraints.Constraint? BiasConstraint { get; init; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = Units;
        config["activation"] = Activations.Serialize(Activation);
        config["use_bias"] = UseBias;
        // Keras 3's Dense writes no activity_regularizer, and quantization_config null for a float layer.
        AddKernelAndBiasConfig(config, KernelInitializer, BiasInitializer, KernelRegularizer, BiasRegularizer, activityRegularizer: false, KernelConstraint, BiasConstraint);
        config["quantization_config"] = null;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Dense FromConfig(LayerConfig config)
    {
        var (regularizers, constraints) = ReadKernelAndBiasConfigWithConstraints(config, "quantization_config");
        return new Dense(config.GetInt("units"), config.GetActivation("activation", "linear"), config.GetBool("use_bias", true), config.Name)
        {
            KernelInitializer = config.GetInitializer("kernel_initializer", new Initializers.GlorotUniform()),
            BiasInitializer = config.GetInitializer("bias_initializer", new Initializers.Zeros()),
            KernelRegularizer = regularizers.Kernel,
            BiasRegularizer = regularizers.Bias,
            KernelConstraint = constraints.Kernel,
            BiasConstraint = constraints.Bias,
        };
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (input.Shape.Rank < 2)
        {
            throw InputError($"expected input of rank 2 or more (batch, ..., features), but got {input.Label} with shape {input.Shape}.");
        }

        RequireFloat(input);
        var features = RequireKnownLast(input, "feature");
        if (Built && features != inputDim)
        {
            throw InputError($"the kernel is ({inputDim}, {Units}), built for {inputDim} input features, but {input.Label} has shape {input.Shape} with {features} features.");
        }

        return new[] { (input.Shape.With(input.Shape.Rank - 1, Units), DType.Float32) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        inputDim = input.Shape.Last!.Value;
        var kernelShape = new long[] { inputDim, Units };
        kernel = AddWeight("kernel", kernelShape, Initial(KernelInitializer, kernelShape, "kernel"));
        kernel.Regularizer = KernelRegularizer;
        kernel.Constraint = KernelConstraint;
        if (UseBias)
        {
            var biasShape = new long[] { Units };
            bias = AddWeight("bias", biasShape, Initial(BiasInitializer, biasShape, "bias"));
            bias.Regularizer = BiasRegularizer;
            bias.Constraint = BiasConstraint;
        }
    }

    internal override string? FinalActivation => Activation;

    /// <summary>Passes its input's mask on, as Keras' <c>supports_masking = True</c>.</summary>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        Activations.Apply(Activation, ForwardPreActivation(input, training));

    internal override Tensor ForwardPreActivation(Tensor input, bool training) =>
        bias is null ? input.matmul(kernel!.Variable)
        : input.dim() == 2 ? addmm(bias.Variable, input, kernel!.Variable, 1, 1)
        : input.matmul(kernel!.Variable).add(bias.Variable, Scalars.One);

    /// <summary>ONNX: MatMul with the kernel, Add of the bias, then the activation.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Activation(graph.Affine(call.Input.Name, graph.Weight(kernel!), bias is null ? null : graph.Weight(bias), Name), Activation, Name) };
}
