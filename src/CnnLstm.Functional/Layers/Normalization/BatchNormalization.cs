using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Normalises each feature with batch statistics while training and moving statistics in inference, as Keras'
/// <c>keras.layers.BatchNormalization</c> (keras/src/layers/normalization/batch_normalization.py): in training, the
/// mean and (biased) variance of the batch over every axis but <c>axis</c> (the features, by default the last) give (x - mean) / sqrt(variance + epsilon)
/// × gamma + beta, and the moving statistics move toward them: moving = moving × momentum + batch × (1 - momentum);
/// in inference (and in training when the layer is frozen, as Keras 3), the moving statistics replace the batch's.
/// With a mask, the statistics are over the unmasked entries. Weights in Keras order: gamma (when <c>scale</c>),
/// beta (when <c>center</c>), then the non-trainable moving_mean and moving_variance, saved with the others and
/// counted on the summary's "Non-trainable params" line. Shape unchanged; passes masks on.
/// </summary>
[KerasLayer("BatchNormalization"), Keras3OnlyArgument("synchronized", false)]
public sealed class BatchNormalization : Layer
{
    private LayerWeight? gamma;
    private LayerWeight? beta;
    private LayerWeight? movingMean;
    private LayerWeight? movingVariance;
    private int featureAxis = -1;

    /// <summary>Creates the layer.</summary>
    /// <param name="momentum">The moving statistics' momentum (Keras' default 0.99), in [0, 1].</param>
    /// <param name="epsilon">Added to the variance (Keras' default 1e-3); positive.</param>
    /// <param name="center">Whether to add the learned offset beta (default true).</param>
    /// <param name="scale">Whether to multiply by the learned gain gamma (default true).</param>
    /// <param name="name">Layer name; defaults to <c>batch_normalization_N</c>.</param>
    /// <param name="axis">
    /// The features axis (Keras' <c>axis</c>, default -1, the last): any axis but the batch axis, negative ones
    /// counted from the end (1 for channels-first images (batch, channels, rows, cols)); checked against the input's
    /// rank when the layer is called, as Keras resolves it at build. Each feature along it has its own statistics.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">Axis 0, the batch axis (its size is unknown, so Keras' build fails
    /// on it too), or an out-of-range momentum or epsilon.</exception>
    public BatchNormalization(double momentum = 0.99, double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null, int axis = -1)
        : base(name)
    {
        Axis = axis != 0 ? axis
            : throw new ArgumentOutOfRangeException(nameof(axis), axis, "BatchNormalization: axis 0 is the batch axis, whose size is unknown; the features axis must be another (Keras' build fails there too).");
        Momentum = momentum is >= 0 and <= 1 ? momentum : throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "BatchNormalization: momentum must be in [0, 1].");
        Epsilon = epsilon > 0 && double.IsFinite(epsilon) ? epsilon
            : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "BatchNormalization: epsilon must be positive and finite.");
        Center = center;
        Scale = scale;
    }

    /// <summary>The features axis as given (Keras' <c>axis</c>): -1 (the last), another negative index, or a positive one.</summary>
    public int Axis { get; }

    /// <summary>The moving statistics' momentum (Keras' <c>momentum</c>).</summary>
    public double Momentum { get; }

    /// <summary>Added to the variance (Keras' <c>epsilon</c>).</summary>
    public double Epsilon { get; }

    /// <summary>Whether beta is added (Keras' <c>center</c>).</summary>
    public bool Center { get; }

    /// <summary>Whether gamma multiplies (Keras' <c>scale</c>).</summary>
    public bool Scale { get; }

    /// <summary>beta's initializer (Keras' <c>beta_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer BetaInitializer { get; init; } = new Initializers.Zeros();

    /// <summary>gamma's initializer (Keras' <c>gamma_initializer</c>, default <see cref="Initializers.Ones"/>).</summary>
    public Initializers.Initializer GammaInitializer { get; init; } = new Initializers.Ones();

    /// <summary>beta's penalty (Keras' <c>beta_regularizer</c>, default null), added to the loss while training.</summary>
    public Regularizers.Regularizer? BetaRegularizer { get; init; }

    /// <summary>gamma's penalty (Keras' <c>gamma_regularizer</c>, default null): <c>new BatchNormalization() { GammaRegularizer = new L2(0.01) }</c>.</summary>
    public Regularizers.Regularizer? GammaRegularizer { get; init; }

    /// <summary>beta's projection after each optimizer update (Keras' <c>beta_constraint</c>, default null).</summary>
    public Constraints.Constraint? BetaConstraint { get; init; }

    /// <summary>gamma's projection after each optimizer update (Keras' <c>gamma_constraint</c>, default null): <c>new BatchNormalization() { GammaConstraint = new NonNeg() }</c>.</summary>
    public Constraints.Constraint? GammaConstraint { get; init; }

    /// <summary>moving_mean's initializer (Keras' <c>moving_mean_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer MovingMeanInitializer { get; init; } = new Initializers.Zeros();

    /// <summary>moving_variance's initializer (Keras' <c>moving_variance_initializer</c>, default <see cref="Initializers.Ones"/>).</summary>
    public Initializers.Initializer MovingVarianceInitializer { get; init; } = new Initializers.Ones();

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        config["momentum"] = Momentum;
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
        config["beta_initializer"] = BetaInitializer.Serialize();
        config["gamma_initializer"] = GammaInitializer.Serialize();
        config["moving_mean_initializer"] = MovingMeanInitializer.Serialize();
        config["moving_variance_initializer"] = MovingVarianceInitializer.Serialize();
        config["beta_regularizer"] = BetaRegularizer?.Serialize();
        config["gamma_regularizer"] = GammaRegularizer?.Serialize();
        config["beta_constraint"] = BetaConstraint?.Serialize();
        config["gamma_constraint"] = GammaConstraint?.Serialize();
        config["synchronized"] = false;
        config["renorm"] = false;
        config["renorm_clipping"] = null;
        config["renorm_momentum"] = 0.99;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (see <see cref="Axis"/>).</summary>
    internal static BatchNormalization FromConfig(LayerConfig config)
    {
        foreach (var key in new[] { "renorm_clipping", "adjustment" })
        {
            config.RequireDefault(key, null);
        }

        config.RequireDefault("renorm", false);
        config.Ignore("synchronized", "renorm_momentum", "fused", "virtual_batch_size");
        var axis = ReadAxis(config);
        return new BatchNormalization(config.GetDouble("momentum", 0.99), config.GetDouble("epsilon", 1e-3), config.GetBool("center", true), config.GetBool("scale", true), config.Name, axis)
        {
            BetaInitializer = config.GetInitializer("beta_initializer", new Initializers.Zeros()),
            GammaInitializer = config.GetInitializer("gamma_initializer", new Initializers.Ones()),
            BetaRegularizer = config.GetRegularizer("beta_regularizer"),
            GammaRegularizer = config.GetRegularizer("gamma_regularizer"),
            BetaConstraint = config.GetConstraint("beta_constraint"),
            GammaConstraint = config.GetConstraint("gamma_constraint"),
            MovingMeanInitializer = config.GetInitializer("moving_mean_initializer", new Initializers.Zeros()),
            MovingVarianceInitializer = config.GetInitializer("moving_variance_initializer", new Initializers.Ones()),
        };
    }

    /// <summary>
    /// The config's <c>axis</c>: an integer (Keras 3, Keras 2) or a list of one integer (tf.keras 2 writes
    /// <c>[2]</c>); not the batch axis. tf.keras 2's lists of several axes are refused.
    /// </summary>
    private static int ReadAxis(LayerConfig config)
    {
        var raw = config.GetRaw("axis");
        var value = raw switch
        {
            null => -1,
            JsonValue v when v.TryGetValue<int>(out var a) => a,
            JsonArray { Count: 1 } one when one[0] is JsonValue w && w.TryGetValue<int>(out var b) => b,
            _ => throw config.Error($"'axis' {raw.ToJsonString()} is not supported; this library normalises one features axis (an integer, as Keras 3 writes it)."),
        };
        if (value == 0)
        {
            throw config.Error($"'axis' {raw!.ToJsonString()} is not supported: axis 0 is the batch axis.");
        }

        return value;
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        var rank = input.Shape.Rank;
        if (rank < 2)
        {
            throw InputError($"expected input of rank 2 or more (batch, ..., features), but got {input.Label} with shape {input.Shape}.");
        }

        var axis = Axis < 0 ? Axis + rank : Axis;
        if (axis < 1 || axis >= rank)
        {
            throw InputError($"axis {Axis} is {(axis == 0 ? "the batch axis" : "out of range")} of {input.Label} with shape {input.Shape}.");
        }

        var features = input.Shape[axis] ?? throw InputError($"needs a known size on its features axis {Axis}, but {input.Label} has shape {input.Shape}.");
        if (Built && (movingMean!.Shape[0] != features || featureAxis != axis))
        {
            throw InputError($"was built for {movingMean.Shape[0]} features, but {input.Label} has shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        featureAxis = Axis < 0 ? Axis + input.Shape.Rank : Axis;
        var features = input.Shape[featureAxis]!.Value;
        var shape = new long[] { features };
        if (Scale)
        {
            gamma = AddWeight("gamma", shape, Initial(GammaInitializer, shape, "gamma"));
            gamma.Regularizer = GammaRegularizer;
            gamma.Constraint = GammaConstraint;
        }

        if (Center)
        {
            beta = AddWeight("beta", shape, Initial(BetaInitializer, shape, "beta"));
            beta.Regularizer = BetaRegularizer;
            beta.Constraint = BetaConstraint;
        }

        movingMean = AddWeight("moving_mean", shape, Initial(MovingMeanInitializer, shape, "moving_mean"), trainable: false);
        movingVariance = AddWeight("moving_variance", shape, Initial(MovingVarianceInitializer, shape, "moving_variance"), trainable: false);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var x = input;
        Tensor mean, variance;
        if (training && Trainable)
        {
            var axes = Enumerable.Range(0, (int)x.dim()).Where(a => a != featureAxis).Select(a => (long)a).ToArray();
            if (mask is not null)
            {
                // Keras' masked moments: weighted by the mask, plus its epsilon (1e-7) in the denominators.
                var weights = mask.to_type(x.dtype).unsqueeze(-1).expand_as(x);
                var total = weights.sum(axes).add(Scalars.Of(1e-7f), Scalars.IntOne);
                mean = (weights * x).sum(axes) / total;
                variance = (weights * Scalars.Square((weights * x) - ToFeatures(mean, x))).sum(axes) / total;
            }
            else
            {
                mean = x.mean(axes);
                variance = x.var(axes, unbiased: false);
            }

            using (no_grad())
            {
                movingMean!.Variable.mul_(Scalars.Of(Momentum)).add_(mean.detach().mul(Scalars.Of(1 - Momentum)), Scalars.IntOne);
                movingVariance!.Variable.mul_(Scalars.Of(Momentum)).add_(variance.detach().mul(Scalars.Of(1 - Momentum)), Scalars.IntOne);
            }
        }
        else
        {
            (mean, variance) = (movingMean!.Variable, movingVariance!.Variable);
        }

        var scale = variance.add(Scalars.Of(Epsilon), Scalars.IntOne).rsqrt();
        if (gamma is not null)
        {
            scale = scale * gamma.Variable;
        }

        var output = (x - ToFeatures(mean, x)) * ToFeatures(scale, x);
        return beta is null ? output : output.add(ToFeatures(beta.Variable, x), Scalars.IntOne);
    }

    /// <summary>A (features) vector shaped to broadcast along the features axis of <paramref name="x"/>.</summary>
    private Tensor ToFeatures(Tensor v, Tensor x)
    {
        if (featureAxis == x.dim() - 1)
        {
            return v;
        }

        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        shape[featureAxis] = v.shape[0];
        return v.reshape(shape);
    }

    /// <summary>ONNX: the inference form, (x - moving mean) / sqrt(moving variance + epsilon) × gamma + beta, along the features axis.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var rank = call.Input.Shape.Rank;
        string Along(string v) => featureAxis == rank - 1 ? v
            : graph.Add("Reshape", Name, new[] { v, graph.Int64s(Enumerable.Range(0, rank).Select(a => a == featureAxis ? -1L : 1L).ToArray()) });
        var inverse = graph.Add("Reciprocal", Name, new[] { graph.Add("Sqrt", Name, new[] { graph.Add("Add", Name, new[] { graph.Weight(movingVariance!), graph.Scalar((float)Epsilon) }) }) });
        var scale = gamma is null ? inverse : graph.Add("Mul", Name, new[] { inverse, graph.Weight(gamma) });
        var output = graph.Add("Mul", Name, new[] { graph.Add("Sub", Name, new[] { call.Input.Name, Along(graph.Weight(movingMean!)) }), Along(scale) });
        return new[] { beta is null ? output : graph.Add("Add", Name, new[] { output, Along(graph.Weight(beta)) }) };
    }
}
