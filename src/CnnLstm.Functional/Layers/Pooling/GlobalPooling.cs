using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What the six global pooling layers share, as Keras' <c>BaseGlobalPooling</c>
/// (keras/src/layers/pooling/base_global_pooling.py): a channels-last input of rank
/// <c>spatialRank + 2</c>, (batch, spatial..., channels), reduced over its spatial axes to (batch, channels), or to
/// (batch, 1, ..., 1, channels) with <see cref="Keepdims"/>; the maximum or the mean. No weights. Only
/// <c>data_format: "channels_last"</c> is read from a file; another is refused.
/// </summary>
public abstract class GlobalPooling : Layer
{
    private static readonly string[] AxisNames = { "(batch, steps, features)", "(batch, height, width, channels)", "(batch, depth, height, width, channels)" };

    private readonly bool max;

    private protected GlobalPooling(int spatialRank, bool max, bool keepdims, string? name)
        : base(name)
    {
        Axes = Enumerable.Range(1, spatialRank).Select(axis => (long)axis).ToArray();
        this.max = max;
        Keepdims = keepdims;
    }

    /// <summary>Whether the pooled axes are kept with size 1 (Keras' <c>keepdims</c>, default false).</summary>
    public bool Keepdims { get; }

    internal override bool BuiltAtInit => true;

    /// <summary>The pooled (spatial) axes of the input: 1 to the spatial rank.</summary>
    private protected long[] Axes { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        config["keepdims"] = Keepdims;
        return config;
    }

    /// <summary>Reads <c>keepdims</c> from a Keras 2 or Keras 3 config, refusing a data format other than channels_last.</summary>
    private protected static bool ReadKeepdims(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return config.GetBool("keepdims", false);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        var rank = Axes.Length + 2;
        if (input.Shape.Rank != rank || input.DType != DType.Float32)
        {
            throw new LayerInputException(Name, $"{ClassName} '{Name}': expected a float32 input of rank {rank} {AxisNames[Axes.Length - 1]}, but got {input.Label} with shape {input.Shape} and dtype {input.DType.ToKerasName()}.");
        }

        var channels = input.Shape[rank - 1];
        var shape = Keepdims
            ? new Shape(new int?[] { null }.Concat(Axes.Select(_ => (int?)1)).Append(channels).ToArray())
            : new Shape(null, channels);
        return new[] { (shape, DType.Float32) };
    }

    /// <summary>The maximum or mean over the spatial axes; where the layer reads masks (<see cref="GlobalAveragePooling1D"/>), the mean of the unmasked steps.</summary>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (max)
        {
            return input.amax(Axes, keepdim: Keepdims);
        }

        if (mask is null || !UsesMask)
        {
            return input.mean(Axes, keepdim: Keepdims);
        }

        var weights = mask.to_type(input.dtype).unsqueeze(-1);
        return (input * weights).sum(Axes, keepdim: Keepdims) / weights.sum(Axes, keepdim: Keepdims);
    }

    /// <summary>ONNX: ReduceMax or ReduceMean over the spatial axes; with a mask, the sum of the unmasked steps over their count.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var keep = OnnxGraph.Attr("keepdims", Keepdims ? 1L : 0L);
        if (max || !UsesMask || call.Input.Mask is not { } mask)
        {
            return new[] { graph.Add(max ? "ReduceMax" : "ReduceMean", Name, new[] { call.Input.Name }, OnnxGraph.Ints("axes", Axes), keep) };
        }

        var weights = graph.Unsqueeze(graph.MaskAsFloat(mask, Name), Name, -1);
        var sum = graph.Add("ReduceSum", Name, new[] { graph.Add("Mul", Name, new[] { call.Input.Name, weights }), graph.Int64s(Axes) }, keep);
        return new[] { graph.Add("Div", Name, new[] { sum, graph.Add("ReduceSum", Name, new[] { weights, graph.Int64s(Axes) }, keep) }) };
    }
}
