using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The dot product of two tensors along one axis of each, per sample, as Keras' <c>keras.layers.Dot</c>
/// (keras/src/layers/merging/dot.py, <c>batch_dot</c>). Inputs: two float32 tensors x (batch, ...) and y (batch, ...),
/// each of rank 2 or more, whose sizes on the two axes agree; output: x's shape without its axis, then y's shape
/// without the batch axis and its axis, (batch, 1) when nothing else is left; e.g. (batch, 3, 4) and (batch, 5, 4)
/// with <c>axes: 2</c> give (batch, 3, 5). With <c>normalize</c>, each input is first L2-normalised along its axis
/// (x / max(||x||, 1e-7)), so the result is the cosine similarity. No weights (0 parameters).
/// </summary>
[KerasLayer("Dot")]
public sealed class Dot : Merge
{
    /// <summary>Creates the layer with one axis for both inputs.</summary>
    /// <param name="axes">The axis of both inputs, counting the batch axis as 0; negative counts from the end.</param>
    /// <param name="normalize">Whether to L2-normalise both inputs along the axes first (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>dot_N</c>.</param>
    public Dot(int axes, bool normalize = false, string? name = null)
        : this((axes, axes), normalize, name, single: true)
    {
    }

    /// <summary>Creates the layer with an axis for each input.</summary>
    /// <param name="axes">The axis of the first input and of the second.</param>
    /// <param name="normalize">Whether to L2-normalise both inputs along the axes first (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>dot_N</c>.</param>
    public Dot((int First, int Second) axes, bool normalize = false, string? name = null)
        : this(axes, normalize, name, single: false)
    {
    }

    private Dot((int First, int Second) axes, bool normalize, string? name, bool single)
        : base(name)
    {
        Axes = axes;
        Normalize = normalize;
        singleAxis = single;
    }

    private readonly bool singleAxis;

    /// <summary>The axis of each input (Keras' <c>axes</c>).</summary>
    public (int First, int Second) Axes { get; }

    /// <summary>Whether the inputs are L2-normalised first (Keras' <c>normalize</c>).</summary>
    public bool Normalize { get; }

    private protected override int? ExactInputs => 2;

    /// <summary>No mask comes out of a dot product (Keras' <c>Dot.compute_mask</c> returns None).</summary>
    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => new[] { false };

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axes"] = singleAxis ? JsonValue.Create(Axes.First) : new JsonArray(Axes.First, Axes.Second);
        config["normalize"] = Normalize;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config (<c>axes</c> an integer or a pair).</summary>
    internal static Dot FromConfig(LayerConfig config)
    {
        var normalize = config.GetBool("normalize", false);
        return config.GetRaw("axes") switch
        {
            JsonArray { Count: 2 } pair when pair[0] is JsonValue a && a.TryGetValue<int>(out var first) && pair[1] is JsonValue b && b.TryGetValue<int>(out var second)
                => new Dot((first, second), normalize, config.Name),
            JsonValue value when value.TryGetValue<int>(out var axis) => new Dot(axis, normalize, config.Name),
            var other => throw config.Error($"'axes' must be an integer or a list of two integers, got {other?.ToJsonString() ?? "nothing"}."),
        };
    }

    private protected override Shape OutputShape(IReadOnlyList<KerasTensor> inputs)
    {
        var (x, y) = (inputs[0].Shape, inputs[1].Shape);
        if (x.Rank < 2 || y.Rank < 2)
        {
            throw InputError($"needs inputs of rank 2 or more (batch axis included), but got {Describe(inputs)}.");
        }

        var (a, b) = ResolvedAxes(x.Rank, y.Rank, inputs);
        if (x[a] is int m && y[b] is int n && m != n)
        {
            throw InputError($"incompatible input shapes: axis {a} of the first input has size {m}, axis {b} of the second has size {n}; inputs: {Describe(inputs)}.");
        }

        var dims = x.Where((_, i) => i != a).Concat(y.Where((_, i) => i != 0 && i != b)).ToList();
        if (dims.Count == 1)
        {
            dims.Add(1);
        }

        return new Shape(dims.ToArray());
    }

    private protected override Tensor Merged(IReadOnlyList<Tensor> inputs)
    {
        var (x, y) = (inputs[0], inputs[1]);
        var (a, b) = ResolvedAxes((int)x.dim(), (int)y.dim(), null);
        if (Normalize)
        {
            // Keras' ops.normalize: x * rsqrt(max(sum(x^2), epsilon^2)) with epsilon 1e-7.
            x = x * Scalars.Square(x).sum(a, keepdim: true).clamp_min(Scalars.Of(1e-14)).rsqrt();
            y = y * Scalars.Square(y).sum(b, keepdim: true).clamp_min(Scalars.Of(1e-14)).rsqrt();
        }

        var xm = x.movedim(new long[] { a }, new long[] { -1 });
        var ym = y.movedim(new long[] { b }, new long[] { 1 });
        var batch = xm.shape[0];
        var k = xm.shape[^1];
        var product = bmm(xm.reshape(batch, -1, k), ym.reshape(batch, k, -1));
        var shape = new[] { batch }.Concat(xm.shape[1..^1]).Concat(ym.shape[2..]).ToList();
        if (shape.Count == 1)
        {
            shape.Add(1);
        }

        return product.reshape(shape.ToArray());
    }

    private (int A, int B) ResolvedAxes(int xRank, int yRank, IReadOnlyList<KerasTensor>? inputs)
    {
        var a = Axes.First < 0 ? Axes.First + xRank : Axes.First;
        var b = Axes.Second < 0 ? Axes.Second + yRank : Axes.Second;
        if (a <= 0 || a >= xRank || b <= 0 || b >= yRank)
        {
            throw InputError($"axes ({Axes.First}, {Axes.Second}) must name a non-batch axis of each input, but the inputs have ranks {xRank} and {yRank}{(inputs is null ? string.Empty : $": {Describe(inputs)}")}.");
        }

        return (a, b);
    }

    /// <summary>
    /// ONNX: as <see cref="Merged"/>: optional L2 normalisation, the contracted axes moved last and second (Transpose),
    /// a batched MatMul of (batch, -1, k) by (batch, k, -1), and a Reshape to the output shape, which must be known.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var (x, y) = (call.Inputs[0], call.Inputs[1]);
        var (a, b) = ResolvedAxes(x.Shape.Rank, y.Shape.Rank, null);
        var output = call.OutputShapes[0];
        if (x.Shape[a] is not int k || output.Skip(1).Any(d => d is null) || x.Shape.Skip(1).Concat(y.Shape.Skip(1)).Any(d => d is null))
        {
            throw OnnxGraph.Unsupported(this, $"needs known sizes on the contracted axis and in the output, but its inputs have shapes {x.Shape} and {y.Shape} and its output {output}.");
        }

        var (xs, ys) = Normalize ? (OnnxNormalized(graph, x.Name, a), OnnxNormalized(graph, y.Name, b)) : (x.Name, y.Name);
        var xPerm = Enumerable.Range(0, x.Shape.Rank).Where(d => d != a).Append(a).Select(d => (long)d).ToArray();
        var yPerm = new[] { 0, b }.Concat(Enumerable.Range(1, y.Shape.Rank - 1).Where(d => d != b)).Select(d => (long)d).ToArray();
        // Sizes written out (no -1), so that an empty batch reshapes too.
        long Rest(Shape shape, int contracted) => Enumerable.Range(1, shape.Rank - 1).Where(d => d != contracted).Aggregate(1L, (p, d) => p * (shape[d] ?? 1));
        var left = graph.ReshapeKeepingBatch(graph.Transpose(xs, Name, xPerm), Name, Rest(x.Shape, a), k);
        var right = graph.ReshapeKeepingBatch(graph.Transpose(ys, Name, yPerm), Name, k, Rest(y.Shape, b));
        var product = graph.Add("MatMul", Name, new[] { left, right });
        return new[] { graph.ReshapeKeepingBatch(product, Name, output.Skip(1).Select(d => (long)d!.Value).ToArray()) };
    }

    private string OnnxNormalized(OnnxGraph graph, string x, int axis)
    {
        var squares = graph.Add("ReduceSumSquare", Name, new[] { x }, OnnxGraph.Ints("axes", axis), OnnxGraph.Attr("keepdims", 1L));
        var norm = graph.Add("Sqrt", Name, new[] { graph.Add("Max", Name, new[] { squares, graph.Scalar(1e-14f) }) });
        return graph.Add("Div", Name, new[] { x, norm });
    }
}
