using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Scales each sample to unit L2 norm over the given axes, as Keras' <c>keras.layers.UnitNormalization</c>
/// (keras/src/layers/normalization/unit_normalization.py, <c>ops.normalize(order=2, epsilon=1e-12)</c>): x ×
/// rsqrt(max(sum(x²), 1e-24)), the sum over <c>axis</c> (default the last). Shape (batch, ...) unchanged; passes
/// masks on; no weights.
/// </summary>
[KerasLayer("UnitNormalization")]
public sealed class UnitNormalization : Layer
{
    private readonly int[] givenAxes;
    private readonly bool axisIsList;

    /// <summary>Creates the layer normalising over one axis.</summary>
    /// <param name="axis">Keras' <c>axis</c> as an integer: the axis the norm is taken over (default -1, the last;
    /// negative from the end; not the batch axis).</param>
    /// <param name="name">Layer name; defaults to <c>unit_normalization_N</c>.</param>
    public UnitNormalization(int axis = -1, string? name = null)
        : this(new[] { axis }, false, name)
    {
    }

    /// <summary>Creates the layer normalising over several axes together.</summary>
    /// <param name="axis">Keras' <c>axis</c> as a list: the axes the norm is taken over.</param>
    /// <param name="name">Layer name; defaults to <c>unit_normalization_N</c>.</param>
    /// <exception cref="ArgumentException">An empty axis list, or one naming an axis twice.</exception>
    public UnitNormalization(int[] axis, string? name = null)
        : this(axis ?? throw new ArgumentNullException(nameof(axis)), true, name)
    {
    }

    private UnitNormalization(int[] axis, bool list, string? name)
        : base(name)
    {
        if (axis.Length == 0 || axis.Distinct().Count() != axis.Length)
        {
            throw new ArgumentException($"UnitNormalization: axis must name one or more distinct axes, got [{string.Join(", ", axis)}].", nameof(axis));
        }

        givenAxes = axis.ToArray();
        axisIsList = list;
    }

    /// <summary>The axes as given (Keras' <c>axis</c>).</summary>
    public IReadOnlyList<int> Axis => givenAxes;

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = axisIsList ? new JsonArray(givenAxes.Select(a => (JsonNode?)a).ToArray()) : givenAxes[0];
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 config.</summary>
    internal static UnitNormalization FromConfig(LayerConfig config)
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
            return new UnitNormalization(axis, list, config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    private int[] Resolve(KerasTensor input) => LayerNormalization.ResolveAxes(givenAxes, input.Shape.Rank)
        ?? throw InputError($"axis [{string.Join(", ", givenAxes)}] is out of range of {input.Label} with shape {input.Shape} (the batch axis cannot be normalised).");

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireFloat(input);
        Resolve(input);
        return new[] { (input.Shape, input.DType) };
    }

    private long[] Reduce(long rank) => givenAxes.Select(a => (long)(a < 0 ? a + rank : a)).ToArray();

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        input.mul(Scalars.Square(input).sum(Reduce(input.dim()), keepdim: true).clamp_min(Scalars.Of(1e-24)).rsqrt());

    /// <summary>ONNX: x / sqrt(max(ReduceSumSquare(x), 1e-24)).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var sum = graph.Add("ReduceSumSquare", Name, new[] { call.Input.Name }, OnnxGraph.Ints("axes", Reduce(call.Input.Shape.Rank)), OnnxGraph.Attr("keepdims", 1L));
        var norm = graph.Add("Sqrt", Name, new[] { graph.Add("Max", Name, new[] { sum, graph.Scalar(1e-24f) }) });
        return new[] { graph.Add("Div", Name, new[] { call.Input.Name, norm }) };
    }
}
