using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Parametric ReLU, as Keras' <c>keras.layers.PReLU</c> (keras/src/layers/activations/prelu.py):
/// relu(x) - alpha · relu(-x), with a learned <c>alpha</c> of shape input_shape[1:] (1 along <c>shared_axes</c>),
/// initialised to zeros (Keras' default <c>alpha_initializer</c>). Input (batch, ...) float with the non-shared
/// dimensions known; output the same shape; passes masks on.
/// </summary>
[KerasLayer("PReLU")]
public sealed class PReLU : Layer
{
    private LayerWeight? alpha;
    private long[]? builtShape;

    /// <summary>Creates the layer.</summary>
    /// <param name="sharedAxes">Axes (1 = the first after the batch) along which alpha is shared; null (default) for none.</param>
    /// <param name="name">Layer name; defaults to <c>p_re_lu_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An axis below 1 (the batch axis or a negative one), or repeated.</exception>
    public PReLU(IReadOnlyList<int>? sharedAxes = null, string? name = null)
        : base(name)
    {
        if (sharedAxes is not null && (sharedAxes.Any(a => a < 1) || sharedAxes.Distinct().Count() != sharedAxes.Count))
        {
            throw new ArgumentOutOfRangeException(nameof(sharedAxes), $"PReLU: shared_axes must be distinct axes of 1 or more (the batch axis 0 cannot be shared). Received: shared_axes=[{string.Join(", ", sharedAxes)}]");
        }

        SharedAxes = sharedAxes?.ToArray();
    }

    /// <summary>Axes along which alpha is shared (Keras' <c>shared_axes</c>), null for none.</summary>
    public IReadOnlyList<int>? SharedAxes { get; }

    /// <summary>alpha's initializer (Keras' <c>alpha_initializer</c>, default <see cref="Initializers.Zeros"/>).</summary>
    public Initializers.Initializer AlphaInitializer { get; init; } = new Initializers.Zeros();

    /// <summary>alpha's penalty (Keras' <c>alpha_regularizer</c>, default null).</summary>
    public Regularizers.Regularizer? AlphaRegularizer { get; init; }

    /// <summary>alpha's projection after each optimizer update (Keras' <c>alpha_constraint</c>, default null): <c>new PReLU() { AlphaConstraint = new NonNeg() }</c>.</summary>
    public Constraints.Constraint? AlphaConstraint { get; init; }

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["alpha_initializer"] = AlphaInitializer.Serialize();
        config["alpha_regularizer"] = AlphaRegularizer?.Serialize();
        config["alpha_constraint"] = AlphaConstraint?.Serialize();
        config["shared_axes"] = SharedAxes is null ? null : new JsonArray(SharedAxes.Select(a => (JsonNode)a).ToArray());
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (<c>shared_axes</c> a list, a number or null).</summary>
    internal static PReLU FromConfig(LayerConfig config)
    {
        var axes = config.GetRaw("shared_axes") switch
        {
            null => null,
            JsonValue => new[] { config.GetInt("shared_axes") },
            _ => config.GetIntList("shared_axes"),
        };
        try
        {
            return new PReLU(axes, config.Name) { AlphaInitializer = config.GetInitializer("alpha_initializer", new Initializers.Zeros()), AlphaRegularizer = config.GetRegularizer("alpha_regularizer"), AlphaConstraint = config.GetConstraint("alpha_constraint") };
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        var rank = input.Shape.Rank;
        if (rank < 2 || (SharedAxes is not null && SharedAxes.Any(a => a >= rank)))
        {
            throw InputError($"expected an input (batch, ...) of rank 2 or more{(SharedAxes is null ? string.Empty : $" with every shared axis [{string.Join(", ", SharedAxes)}] below its rank")}, but got {input.Label} with shape {input.Shape}.");
        }

        var shape = ParamShape(input);
        if (Built && !shape.SequenceEqual(builtShape!))
        {
            throw InputError($"alpha has shape ({string.Join(", ", builtShape!)}), but {input.Label} has shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    private long[] ParamShape(KerasTensor input)
    {
        var shape = new long[input.Shape.Rank - 1];
        for (var i = 1; i < input.Shape.Rank; i++)
        {
            shape[i - 1] = SharedAxes?.Contains(i) == true ? 1
                : input.Shape[i] ?? throw InputError($"needs the size of axis {i} (not shared) to build alpha, but {input.Label} has shape {input.Shape}.");
        }

        return shape;
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        builtShape = ParamShape(input);
        var shape = builtShape;
        alpha = AddWeight("alpha", shape, Initial(AlphaInitializer, shape, "alpha"));
        alpha.Regularizer = AlphaRegularizer;
        alpha.Constraint = AlphaConstraint;
    }

    /// <summary>relu(x) + (-alpha) · relu(-x), as Keras.</summary>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        using var pos = nn.functional.relu(input);
        using var negInput = input.neg();
        using var negRelu = nn.functional.relu(negInput);
        using var negAlpha = alpha!.Variable.neg();
        using var neg = negAlpha.mul(negRelu);
        return pos.add(neg, Scalars.IntOne);
    }

    /// <summary>ONNX: PRelu with alpha as its slope (broadcast over the batch).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("PRelu", Name, new[] { call.Input.Name, graph.Weight(alpha!) }) };
}
