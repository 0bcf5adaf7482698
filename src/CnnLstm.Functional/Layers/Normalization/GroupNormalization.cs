using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Normalises each sample over groups of channels, as Keras' <c>keras.layers.GroupNormalization</c>
/// (keras/src/layers/normalization/group_normalization.py): the channels on <c>axis</c> (default the last) are split
/// into <c>groups</c> consecutive groups, and each group is normalised with the (biased) mean and variance over its
/// channels and every other axis but the batch, then × gamma + beta per channel. <c>groups = -1</c> is instance
/// normalisation (one group per channel), <c>groups = 1</c> layer normalisation over all axes. Weights: gamma
/// (channels) when <c>scale</c>, beta (channels) when <c>center</c>. Shape (batch, ..., channels) unchanged, rank 2
/// or more; passes masks on without reading them, as Keras.
/// </summary>
[KerasLayer("GroupNormalization")]
public sealed class GroupNormalization : Layer
{
    private LayerWeight? gamma;
    private LayerWeight? beta;
    private int channelAxis = -1;
    private int groups;

    /// <summary>Creates the layer.</summary>
    /// <param name="groups">The number of groups (Keras' default 32), a divisor of the channels, or -1 for one per channel.</param>
    /// <param name="axis">The channels axis (Keras' default -1, the last; negative from the end; not the batch axis).</param>
    /// <param name="epsilon">Added to the variance (Keras' default 1e-3); positive.</param>
    /// <param name="center">Whether to add the learned offset beta (default true).</param>
    /// <param name="scale">Whether to multiply by the learned gain gamma (default true).</param>
    /// <param name="name">Layer name; defaults to <c>group_normalization_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Groups neither positive nor -1, axis 0, or an epsilon that is not positive and finite.</exception>
    public GroupNormalization(int groups = 32, int axis = -1, double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null)
        : base(name)
    {
        this.groups = groups > 0 || groups == -1 ? groups
            : throw new ArgumentOutOfRangeException(nameof(groups), groups, "GroupNormalization: groups must be a positive integer (or -1 for instance normalization).");
        Axis = axis != 0 ? axis : throw new ArgumentOutOfRangeException(nameof(axis), axis, "GroupNormalization: axis 0 is the batch axis; the channels axis must be another.");
        Epsilon = epsilon > 0 && double.IsFinite(epsilon) ? epsilon
            : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "GroupNormalization: epsilon must be positive and finite.");
        Center = center;
        Scale = scale;
    }

    /// <summary>The number of groups (Keras' <c>groups</c>): as given, and once built -1 becomes the channel count, as Keras.</summary>
    public int Groups => groups;

    /// <summary>The channels axis as given (Keras' <c>axis</c>).</summary>
    public int Axis { get; }

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

    /// <summary>gamma's penalty (Keras' <c>gamma_regularizer</c>, default null): <c>new GroupNormalization() { GammaRegularizer = new L2(0.01) }</c>.</summary>
    public Regularizers.Regularizer? GammaRegularizer { get; init; }

    /// <summary>beta's projection after each optimizer update (Keras' <c>beta_constraint</c>, default null).</summary>
    public Constraints.Constraint? BetaConstraint { get; init; }

    /// <summary>gamma's projection after each optimizer update (Keras' <c>gamma_constraint</c>, default null): <c>new GroupNormalization() { GammaConstraint = new NonNeg() }</c>.</summary>
    public Constraints.Constraint? GammaConstraint { get; init; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["groups"] = groups;
        config["axis"] = Axis;
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
        config["beta_initializer"] = BetaInitializer.Serialize();
        config["gamma_initializer"] = GammaInitializer.Serialize();
        config["beta_regularizer"] = BetaRegularizer?.Serialize();
        config["gamma_regularizer"] = GammaRegularizer?.Serialize();
        config["beta_constraint"] = BetaConstraint?.Serialize();
        config["gamma_constraint"] = GammaConstraint?.Serialize();
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 config.</summary>
    internal static GroupNormalization FromConfig(LayerConfig config)
    {
        return new GroupNormalization(config.GetInt("groups", 32), config.GetInt("axis", -1), config.GetDouble("epsilon", 1e-3), config.GetBool("center", true), config.GetBool("scale", true), config.Name)
        {
            BetaInitializer = config.GetInitializer("beta_initializer", new Initializers.Zeros()),
            GammaInitializer = config.GetInitializer("gamma_initializer", new Initializers.Ones()),
            BetaRegularizer = config.GetRegularizer("beta_regularizer"),
            GammaRegularizer = config.GetRegularizer("gamma_regularizer"),
            BetaConstraint = config.GetConstraint("beta_constraint"),
            GammaConstraint = config.GetConstraint("gamma_constraint"),
        };
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        var rank = input.Shape.Rank;
        var axis = Axis < 0 ? Axis + rank : Axis;
        if (rank < 2 || axis < 1 || axis >= rank)
        {
            throw InputError($"axis {Axis} is {(axis == 0 ? "the batch axis" : "out of range")} of {input.Label} with shape {input.Shape}.");
        }

        var channels = input.Shape[axis] ?? throw InputError($"needs a known size on its channels axis {Axis}, but {input.Label} has shape {input.Shape}.");
        var g = groups == -1 ? channels : groups;
        if (channels < g)
        {
            throw InputError($"number of groups ({g}) cannot be more than the number of channels ({channels}) of {input.Label} with shape {input.Shape}.");
        }

        if (channels % g != 0)
        {
            throw InputError($"number of groups ({g}) must divide the number of channels ({channels}) of {input.Label} with shape {input.Shape}.");
        }

        if (Built && (axis != channelAxis || (gamma ?? beta) is { } w && w.Shape[0] != channels))
        {
            throw InputError($"was built for {(gamma ?? beta)?.Shape[0]} channels on axis {channelAxis}, but {input.Label} has shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        channelAxis = Axis < 0 ? Axis + input.Shape.Rank : Axis;
        var channels = input.Shape[channelAxis]!.Value;
        if (groups == -1)
        {
            groups = channels;
        }

        if (Scale)
        {
            gamma = AddWeight("gamma", new long[] { channels }, Initial(GammaInitializer, new long[] { channels }, "gamma"));
            gamma.Regularizer = GammaRegularizer;
            gamma.Constraint = GammaConstraint;
        }

        if (Center)
        {
            beta = AddWeight("beta", new long[] { channels }, Initial(BetaInitializer, new long[] { channels }, "beta"));
            beta.Regularizer = BetaRegularizer;
            beta.Constraint = BetaConstraint;
        }
    }

    /// <summary>The input's shape with the channels axis split into (groups, channels / groups).</summary>
    private long[] Grouped(long[] shape)
    {
        var grouped = shape.ToList();
        grouped[channelAxis] = shape[channelAxis] / groups;
        grouped.Insert(channelAxis, groups);
        return grouped.ToArray();
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var grouped = input.reshape(Grouped(input.shape));
        var reduce = Enumerable.Range(1, (int)input.dim()).Where(a => a != channelAxis).Select(a => (long)a).ToArray();
        var mean = grouped.mean(reduce, keepdim: true);
        var variance = grouped.var(reduce, unbiased: false, keepdim: true);
        var inv = variance.add(Scalars.Of(Epsilon), Scalars.IntOne).rsqrt();
        var along = Grouped(Enumerable.Range(0, (int)input.dim()).Select(a => a == channelAxis ? input.shape[a] : 1L).ToArray());
        if (gamma is not null)
        {
            inv = inv.mul(gamma.Variable.reshape(along));
        }

        var res = mean.neg().mul(inv);
        if (beta is not null)
        {
            res = res.add(beta.Variable.reshape(along), Scalars.IntOne);
        }

        return grouped.mul(inv).add(res, Scalars.IntOne).reshape(input.shape);
    }

    /// <summary>ONNX: Reshape into groups, ReduceMean for the moments, the affine per channel, Reshape back (opset 17 has no GroupNormalization).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var shape = call.Input.Shape;
        var rank = shape.Rank;
        var after = Enumerable.Range(channelAxis + 1, rank - channelAxis - 1).Select(a => shape[a]).ToArray();
        var between = Enumerable.Range(1, channelAxis - 1).Select(a => shape[a]).ToArray();
        if (after.Count(d => d is null) + between.Count(d => d is null) > 1)
        {
            throw OnnxGraph.Unsupported(this, $"needs at most one unknown size besides the batch axis, but its input has shape {shape}.");
        }

        // Reshape's 0 copies the batch size; one unknown size is inferred (-1).
        var grouped = new List<long> { 0 };
        grouped.AddRange(between.Select(d => (long?)d ?? -1L));
        grouped.Add(groups);
        grouped.Add(shape[channelAxis]!.Value / groups);
        grouped.AddRange(after.Select(d => (long?)d ?? -1L));
        var x = graph.Add("Reshape", Name, new[] { call.Input.Name, graph.Int64s(grouped.ToArray()) });
        var reduce = OnnxGraph.Ints("axes", Enumerable.Range(1, rank).Where(a => a != channelAxis).Select(a => (long)a).ToArray());
        var keep = OnnxGraph.Attr("keepdims", 1L);
        var mean = graph.Add("ReduceMean", Name, new[] { x }, reduce, keep);
        var centred = graph.Add("Sub", Name, new[] { x, mean });
        var variance = graph.Add("ReduceMean", Name, new[] { graph.Add("Mul", Name, new[] { centred, centred }) }, reduce, keep);
        var output = graph.Add("Div", Name, new[] { centred, graph.Add("Sqrt", Name, new[] { graph.Add("Add", Name, new[] { variance, graph.Scalar((float)Epsilon) }) }) });
        var along = Grouped(Enumerable.Range(0, rank).Select(a => a == channelAxis ? (long)shape[a]!.Value : 1L).ToArray());
        if (gamma is not null)
        {
            output = graph.Add("Mul", Name, new[] { output, graph.Add("Reshape", Name, new[] { graph.Weight(gamma), graph.Int64s(along) }) });
        }

        if (beta is not null)
        {
            output = graph.Add("Add", Name, new[] { output, graph.Add("Reshape", Name, new[] { graph.Weight(beta), graph.Int64s(along) }) });
        }

        return new[] { graph.Add("Reshape", Name, new[] { output, graph.Add("Shape", Name, new[] { call.Input.Name }) }) };
    }
}
