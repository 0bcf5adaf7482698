using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Root-mean-square normalisation, as Keras' <c>keras.layers.RMSNormalization</c>
/// (keras/src/layers/normalization/rms_normalization.py, <c>ops.rms_normalization</c>): x / sqrt(mean(x²) +
/// epsilon) × scale, the mean over <c>axis</c> (default the last; a list must be the trailing axes, as only
/// those work in Keras 3.16). One weight, <c>scale</c> (the input's sizes on the
/// axes, ones). Shape (batch, ...) unchanged. As Keras 3.16, masks are not passed on.
/// </summary>
[KerasLayer("RMSNormalization")]
public sealed class RMSNormalization : Layer
{
    private readonly int[] givenAxes;
    private readonly bool axisIsList;
    private LayerWeight? scale;
    private int[]? axes;

    /// <summary>Creates the layer.</summary>
    /// <param name="axis">Keras' <c>axis</c>: the axes to normalise over (negative from the end, not the batch
    /// axis); null (default) is Keras' -1, the last axis.</param>
    /// <param name="epsilon">Added to the mean square (Keras' default 1e-6); positive.</param>
    /// <param name="name">Layer name; defaults to <c>rms_normalization_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive or non-finite epsilon.</exception>
    /// <exception cref="ArgumentException">An empty axis list, or one naming an axis twice.</exception>
    public RMSNormalization(int[]? axis = null, double epsilon = 1e-6, string? name = null)
        : this(axis ?? new[] { -1 }, axis is not null, epsilon, name)
    {
    }

    private RMSNormalization(int[] axis, bool list, double epsilon, string? name)
        : base(name)
    {
        Epsilon = epsilon > 0 && double.IsFinite(epsilon) ? epsilon
            : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "RMSNormalization: epsilon must be positive and finite.");
        if (axis.Length == 0 || axis.Distinct().Count() != axis.Length)
        {
            throw new ArgumentException($"RMSNormalization: axis must name one or more distinct axes, got [{string.Join(", ", axis)}].", nameof(axis));
        }

        givenAxes = axis.ToArray();
        axisIsList = list;
    }

    /// <summary>Added to the mean square (Keras' <c>epsilon</c>).</summary>
    public double Epsilon { get; }

    /// <summary>The axes as given, or once built as Keras keeps them (the given list sorted; a single axis as a list of it).</summary>
    public IReadOnlyList<int> Axis => givenAxes;

    /// <inheritdoc/>
    /// <remarks>As Keras: once built, <c>axis</c> is a list (Keras' build turns -1 into [-1] and sorts a list).</remarks>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        var written = axes is not null ? givenAxes.Order().ToArray() : givenAxes;
        config["axis"] = axes is not null || axisIsList ? new JsonArray(written.Select(a => (JsonNode?)a).ToArray()) : givenAxes[0];
        config["epsilon"] = Epsilon;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 config.</summary>
    internal static RMSNormalization FromConfig(LayerConfig config)
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
            return new RMSNormalization(axis, list, config.GetDouble("epsilon", 1e-6), config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        if (givenAxes.Any(a => a < 0) && givenAxes.Any(a => a >= 0))
        {
            throw InputError($"axis [{string.Join(", ", givenAxes)}] mixes negative and positive axes; Keras 3.16 orders the scale's sizes by the numbers as given and cannot apply it to {input.Label} with shape {input.Shape}. Name the axes all positive or all negative.");
        }

        var resolved = LayerNormalization.ResolveAxes(givenAxes, input.Shape.Rank)
            ?? throw InputError($"axis [{string.Join(", ", givenAxes)}] is out of range of {input.Label} with shape {input.Shape} (the batch axis cannot be normalised).");
        if (!LayerNormalization.Trailing(resolved, input.Shape.Rank))
        {
            throw InputError($"axis [{string.Join(", ", givenAxes)}] of {input.Label} with shape {input.Shape} are not the last axes: Keras 3.16 multiplies by its scale without reshaping it, which fails on every backend unless the axes are the trailing ones.");
        }

        if (resolved.Any(a => input.Shape[a] is null))
        {
            throw InputError($"needs known sizes on its axes [{string.Join(", ", resolved)}], but {input.Label} has shape {input.Shape}.");
        }

        if (Built && !scale!.Shape.SequenceEqual(resolved.Select(a => input.Shape[a]!.Value)))
        {
            throw InputError($"was built for sizes ({string.Join(", ", scale.Shape)}) on axes [{string.Join(", ", axes!)}], but {input.Label} has shape {input.Shape}.");
        }

        return new[] { (input.Shape, input.DType) };
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        axes = LayerNormalization.ResolveAxes(givenAxes, input.Shape.Rank)!;
        // Keras' weight takes the sizes in the order of the sorted given axes: the resolved order, as the signs are not mixed.
        var shape = axes.Select(a => (long)input.Shape[a]!.Value).ToArray();
        scale = AddWeight("scale", shape, () => ones(shape));
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        // Keras' rms_normalization (torch's rms_norm over the trailing axes): x × rsqrt(mean(x²) + epsilon) × scale.
        var reduce = axes!.Select(a => (long)a).ToArray();
        var inverse = Scalars.Square(input).mean(reduce, keepdim: true).add(Scalars.Of(Epsilon), Scalars.IntOne).rsqrt();
        return input.mul(inverse).mul(scale!.Variable);
    }

    /// <summary>ONNX: x / sqrt(ReduceMean(x²) + epsilon) × scale (opset 17 has no RMSNormalization).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var square = graph.Add("Mul", Name, new[] { call.Input.Name, call.Input.Name });
        var meanSquare = graph.Add("ReduceMean", Name, new[] { square }, OnnxGraph.Ints("axes", axes!.Select(a => (long)a).ToArray()), OnnxGraph.Attr("keepdims", 1L));
        var root = graph.Add("Sqrt", Name, new[] { graph.Add("Add", Name, new[] { meanSquare, graph.Scalar((float)Epsilon) }) });
        var normalised = graph.Add("Div", Name, new[] { call.Input.Name, root });
        return new[] { graph.Add("Mul", Name, new[] { normalised, graph.Weight(scale!) }) };
    }
}
