using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Normalises each sample over the given axes, as Keras' <c>keras.layers.LayerNormalization</c>
/// (keras/src/layers/normalization/layer_normalization.py, <c>ops.layer_normalization</c>): (x - mean) /
/// sqrt(variance + epsilon) × gamma + beta, mean and (biased) variance over <c>axis</c> (default the last; several
/// axes normalise together). Weights: gamma (the input's sizes on the axes) when <c>scale</c> or
/// <c>rms_scaling</c>, then beta when <c>center</c> and not <c>rms_scaling</c>. With Keras' deprecated
/// <c>rms_scaling</c> the output is x / sqrt(variance + epsilon) × gamma (Keras' own formula, the variance, not the
/// mean square; <see cref="RMSNormalization"/> is the root-mean-square one). Shape (batch, ...) unchanged; passes
/// masks on. Axes next to each other that do not end at the last axis are normalised over those axes, as Keras'
/// TensorFlow and JAX backends compute it (Keras 3.16's torch backend hands them to torch's layer_norm, which
/// normalises the trailing axes instead, or fails).
/// </summary>
[KerasLayer("LayerNormalization"), Keras3OnlyArgument("rms_scaling", false)]
public sealed class LayerNormalization : Layer
{
    private readonly int[] givenAxes;
    private readonly bool axisIsList;
    private LayerWeight? gamma;
    private LayerWeight? beta;
    private int[]? axes;

    /// <summary>Creates the layer.</summary>
    /// <param name="epsilon">Added to the variance (Keras' default 1e-3); positive.</param>
    /// <param name="center">Whether to add the learned offset beta (default true; none with <paramref name="rmsScaling"/>).</param>
    /// <param name="scale">Whether to multiply by the learned gain gamma (default true).</param>
    /// <param name="name">Layer name; defaults to <c>layer_normalization_N</c>.</param>
    /// <param name="axis">Keras' <c>axis</c>: the axes to normalise over, negative ones from the end, not the batch
    /// axis; null (default) is Keras' -1, the last axis. Checked against the input's rank when called.</param>
    /// <param name="rmsScaling">Keras' deprecated <c>rms_scaling</c> (default false): x / sqrt(variance + epsilon) ×
    /// gamma, no mean subtracted and no beta; a warning says to use <see cref="RMSNormalization"/>, as Keras warns.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive or non-finite epsilon.</exception>
    /// <exception cref="ArgumentException">An empty axis list, or one naming an axis twice.</exception>
    public LayerNormalization(double epsilon = 1e-3, bool center = true, bool scale = true, string? name = null, int[]? axis = null, bool rmsScaling = false)
        : this(epsilon, center, scale, name, axis ?? new[] { -1 }, axis is not null, rmsScaling)
    {
    }

    private LayerNormalization(double epsilon, bool center, bool scale, string? name, int[] axis, bool list, bool rmsScaling)
        : base(name)
    {
        Epsilon = epsilon > 0 && double.IsFinite(epsilon) ? epsilon
            : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "LayerNormalization: epsilon must be positive and finite.");
        if (axis.Length == 0 || axis.Distinct().Count() != axis.Length)
        {
            throw new ArgumentException($"LayerNormalization: axis must name one or more distinct axes, got [{string.Join(", ", axis)}].", nameof(axis));
        }

        givenAxes = axis.ToArray();
        axisIsList = list;
        Center = center;
        Scale = scale;
        RmsScaling = rmsScaling;
        if (rmsScaling)
        {
            Warnings.Warn($"LayerNormalization '{Name}': rms_scaling=True is deprecated in Keras 3.16 (it scales by the variance, not the root mean square); use RMSNormalization instead.");
        }
    }

    /// <summary>Added to the variance (Keras' <c>epsilon</c>).</summary>
    public double Epsilon { get; }

    /// <summary>Whether beta is added (Keras' <c>center</c>).</summary>
    public bool Center { get; }

    /// <summary>Whether gamma multiplies (Keras' <c>scale</c>).</summary>
    public bool Scale { get; }

    /// <summary>Keras' deprecated <c>rms_scaling</c>.</summary>
    public bool RmsScaling { get; }

    /// <summary>The axes as given, or once built, resolved and sorted (as Keras' <c>self.axis</c>).</summary>
    public IReadOnlyList<int> Axis => axes ?? givenAxes;

    /// <summary>beta's initializer (Keras' <c>beta_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer BetaInitializer { get; init; } = new Initializers.Zeros();

    /// <summary>gamma's initializer (Keras' <c>gamma_initializer</c>, default <see cref="Initializers.Ones"/>).</summary>
    public Initializers.Initializer GammaInitializer { get; init; } = new Initializers.Ones();

    /// <summary>beta's penalty (Keras' <c>beta_regularizer</c>, default null), added to the loss while training.</summary>
    public Regularizers.Regularizer? BetaRegularizer { get; init; }

    /// <summary>gamma's penalty (Keras' <c>gamma_regularizer</c>, default null): <c>new LayerNormalization() { GammaRegularizer = new L2(0.01) }</c>.</summary>
    public Regularizers.Regularizer? GammaRegularizer { get; init; }

    /// <summary>beta's projection after each optimizer update (Keras' <c>beta_constraint</c>, default null).</summary>
    public Constraints.Constraint? BetaConstraint { get; init; }

    /// <summary>gamma's projection after each optimizer update (Keras' <c>gamma_constraint</c>, default null): <c>new LayerNormalization() { GammaConstraint = new NonNeg() }</c>.</summary>
    public Constraints.Constraint? GammaConstraint { get; init; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    /// <remarks>As Keras, the axis is written as the sorted list of resolved axes once the layer is built ([2] for a
    /// (batch, steps, features) input), and as given (-1 by default) before.</remarks>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = axes is not null ? new JsonArray(axes.Select(a => (JsonNode?)a).ToArray())
            : axisIsList ? new JsonArray(givenAxes.Select(a => (JsonNode?)a).ToArray()) : givenAxes[0];
        config["epsilon"] = Epsilon;
        config["center"] = Center;
        config["scale"] = Scale;
        config["rms_scaling"] = RmsScaling;
        config["beta_initializer"] = BetaInitializer.Serialize();
        config["gamma_initializer"] = GammaInitializer.Serialize();
        config["beta_regularizer"] = BetaRegularizer?.Serialize();
        config["gamma_regularizer"] = GammaRegularizer?.Serialize();
        config["beta_constraint"] = BetaConstraint?.Serialize();
        config["gamma_constraint"] = GammaConstraint?.Serialize();
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (<c>axis</c> an integer or a list of integers).</summary>
    internal static LayerNormalization FromConfig(LayerConfig config)
    {
        var raw = config.GetRaw("axis");
        var (axis, list) = raw switch
        {
            null => (new[] { -1 }, false),
            JsonValue v when v.TryGetValue<int>(out var a) => (new[] { a }, false),
            JsonArray => (config.GetIntList("axis"), true),
            _ => throw config.Error($"'axis' {raw.ToJsonString()} must be an integer or a list of integers."),
        };
        try
        {
            return new LayerNormalization(config.GetDouble("epsilon", 1e-3), config.GetBool("center", true), config.GetBool("scale", true), config.Name, axis, list, config.GetBool("rms_scaling", false))
            {
                BetaInitializer = config.GetInitializer("beta_initializer", new Initializers.Zeros()),
                GammaInitializer = config.GetInitializer("gamma_initializer", new Initializers.Ones()),
                BetaRegularizer = config.GetRegularizer("beta_regularizer"),
                GammaRegularizer = config.GetRegularizer("gamma_regularizer"),
                BetaConstraint = config.GetConstraint("beta_constraint"),
                GammaConstraint = config.GetConstraint("gamma_constraint"),
            };
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <summary>Resolves <paramref name="given"/> against a rank, sorted, or null when one is out of range, the batch axis or repeated.</summary>
    internal static int[]? ResolveAxes(IReadOnlyList<int> given, int rank)
    {
        var resolved = given.Select(a => a < 0 ? a + rank : a).ToArray();
        return resolved.Any(a => a < 1 || a >= rank) || resolved.Distinct().Count() != resolved.Length ? null : resolved.Order().ToArray();
    }

    /// <summary>Whether sorted axes are the trailing ones of a rank (torch's layer_norm / ONNX LayerNormalization form).</summary>
    internal static bool Trailing(int[] sorted, int rank) => sorted.Select((a, i) => a == rank - sorted.Length + i).All(ok => ok);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        var resolved = ResolveAxes(Axis, input.Shape.Rank)
            ?? throw InputError($"axis [{string.Join(", ", Axis)}] is out of range of {input.Label} with shape {input.Shape} (the batch axis cannot be normalised).");
        if (resolved.Any(a => input.Shape[a] is null))
        {
            throw InputError($"needs known sizes on its axes [{string.Join(", ", resolved)}], but {input.Label} has shape {input.Shape}.");
        }

        if (Built && (gamma ?? beta) is { } w && !w.Shape.SequenceEqual(resolved.Select(a => input.Shape[a]!.Value)))
        {
            throw InputError($"was built for sizes ({string.Join(", ", w.Shape)}) on axes [{string.Join(", ", axes!)}], but {input.Label} has shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        axes = ResolveAxes(givenAxes, input.Shape.Rank)!;
        var shape = axes.Select(a => (long)input.Shape[a]!.Value).ToArray();
        if (Scale || RmsScaling)
        {
            gamma = AddWeight("gamma", shape, Initial(GammaInitializer, shape, "gamma"));
            gamma.Regularizer = GammaRegularizer;
            gamma.Constraint = GammaConstraint;
        }

        if (Center && !RmsScaling)
        {
            beta = AddWeight("beta", shape, Initial(BetaInitializer, shape, "beta"));
            beta.Regularizer = BetaRegularizer;
            beta.Constraint = BetaConstraint;
        }
    }

    /// <summary>A weight of the axes' sizes shaped to broadcast against <paramref name="x"/>.</summary>
    private Tensor Broadcast(Tensor w, Tensor x)
    {
        var shape = Enumerable.Repeat(1L, (int)x.dim()).ToArray();
        foreach (var a in axes!)
        {
            shape[a] = x.shape[a];
        }

        return w.reshape(shape);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var rank = (int)input.dim();
        var reduce = axes!.Select(a => (long)a).ToArray();
        if (RmsScaling)
        {
            var inverse = input.var(reduce, unbiased: false, keepdim: true).add(Scalars.Of(Epsilon), Scalars.IntOne).rsqrt();
            var output = input.mul(inverse);
            return gamma is null ? output : output.mul(Broadcast(gamma.Variable, input));
        }

        if (Trailing(axes!, rank))
        {
            return nn.functional.layer_norm(input, axes!.Select(a => input.shape[a]).ToArray(), gamma?.Variable, beta?.Variable, Epsilon);
        }

        // Keras' moments path: x × inv + (beta - mean × inv), inv = gamma / sqrt(variance + epsilon).
        var mean = input.mean(reduce, keepdim: true);
        var variance = input.var(reduce, unbiased: false, keepdim: true);
        var inv = variance.add(Scalars.Of(Epsilon), Scalars.IntOne).rsqrt();
        if (gamma is not null)
        {
            inv = inv.mul(Broadcast(gamma.Variable, input));
        }

        var res = mean.neg().mul(inv);
        if (beta is not null)
        {
            res = res.add(Broadcast(beta.Variable, input), Scalars.IntOne);
        }

        return input.mul(inv).add(res, Scalars.IntOne);
    }

    /// <summary>
    /// ONNX: LayerNormalization over the trailing axes (a scale of ones without <see cref="Scale"/>); other axes and
    /// <see cref="RmsScaling"/> as ReduceMean, Sub, Mul, Sqrt, Div.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var rank = call.Input.Shape.Rank;
        var sizes = axes!.Select(a => call.Input.Shape[a] ?? throw OnnxGraph.Unsupported(this, $"needs known sizes on its axes, but its input has shape {call.Input.Shape}.")).ToArray();
        var count = sizes.Aggregate(1, (p, s) => p * s);
        if (!RmsScaling && Trailing(axes!, rank))
        {
            var inputs = new List<string> { call.Input.Name, gamma is null ? graph.Floats($"{Name}/ones", Enumerable.Repeat(1f, count).ToArray(), sizes.Select(s => (long)s).ToArray()) : graph.Weight(gamma) };
            if (beta is not null)
            {
                inputs.Add(graph.Weight(beta));
            }

            return new[] { graph.Add("LayerNormalization", Name, inputs, OnnxGraph.Attr("axis", (long)axes![0]), OnnxGraph.Attr("epsilon", (float)Epsilon)) };
        }

        var along = Enumerable.Range(0, rank).Select(a => axes!.Contains(a) ? (long)call.Input.Shape[a]!.Value : 1L).ToArray();
        string Shaped(LayerWeight w) => graph.Add("Reshape", Name, new[] { graph.Weight(w), graph.Int64s(along) });
        var reduce = OnnxGraph.Ints("axes", axes!.Select(a => (long)a).ToArray());
        var keep = OnnxGraph.Attr("keepdims", 1L);
        var mean = graph.Add("ReduceMean", Name, new[] { call.Input.Name }, reduce, keep);
        var centred = graph.Add("Sub", Name, new[] { call.Input.Name, mean });
        var variance = graph.Add("ReduceMean", Name, new[] { graph.Add("Mul", Name, new[] { centred, centred }) }, reduce, keep);
        var deviation = graph.Add("Sqrt", Name, new[] { graph.Add("Add", Name, new[] { variance, graph.Scalar((float)Epsilon) }) });
        var output = graph.Add("Div", Name, new[] { RmsScaling ? call.Input.Name : centred, deviation });
        if (gamma is not null)
        {
            output = graph.Add("Mul", Name, new[] { output, Shaped(gamma) });
        }

        return new[] { beta is null ? output : graph.Add("Add", Name, new[] { output, Shaped(beta) }) };
    }
}
