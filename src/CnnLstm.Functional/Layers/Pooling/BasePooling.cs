using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// What every windowed pooling shares, as Keras' <c>BasePooling</c> (keras/src/layers/pooling/base_pooling.py), for
/// any rank: <c>pool_size</c> and <c>strides</c> per spatial axis (strides defaulting to the window), <c>valid</c> or
/// <c>same</c> padding with Keras' output sizes, channels-last <c>data_format</c>; their checks, config keys and
/// ONNX form. Input (batch, spatial..., channels); output (batch, output spatial..., channels). No weights.
/// </summary>
public abstract class BasePooling : Layer
{
    private readonly Padding padding;

    private protected BasePooling(int rank, int[] poolSize, int[]? strides, string padding, string? name)
        : base(name)
    {
        var step = strides ?? poolSize;
        if (poolSize.Length != rank || step.Length != rank || poolSize.Concat(step).Any(v => v <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(poolSize), $"{GetType().Name}: pool size {Tuple(poolSize)} and strides {Tuple(step)} must be {rank} positive number(s).");
        }

        Rank = rank;
        PoolSizes = poolSize.ToArray();
        StridesPerAxis = step.ToArray();
        this.padding = PaddingRules.Parse(padding, GetType().Name, allowCausal: false);
    }

    /// <summary>Spatial axes of the input (1 for sequences, 2 for images).</summary>
    public int Rank { get; }

    /// <summary><c>valid</c> or <c>same</c>.</summary>
    public string Padding => padding.Name();

    private protected int[] PoolSizes { get; }

    private protected int[] StridesPerAxis { get; }

    private protected Padding PaddingMode => padding;

    internal override bool BuiltAtInit => true;

    /// <summary>The ONNX operator: <c>MaxPool</c> or <c>AveragePool</c> (which leaves padding out of the average, as Keras).</summary>
    private protected abstract string OnnxOperator { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["pool_size"] = Json(PoolSizes);
        config["padding"] = Padding;
        config["strides"] = Json(StridesPerAxis);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>
    /// The pool size (default 2 on every axis), strides (null for the pool size) and padding of a Keras config, as
    /// <paramref name="read"/> reads a size of this rank.
    /// </summary>
    private protected static (T PoolSize, T? Strides, string Padding) Read<T>(LayerConfig config, Func<string, T> read)
        where T : struct
    {
        config.RequireDefault("data_format", "channels_last");
        return (read("pool_size"), config.GetRaw("strides") is null ? null : read("strides"), config.GetString("padding", "valid"));
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, Rank + 2, Rank == 1 ? "(batch, steps, channels)" : $"(batch, {Rank} spatial axes, channels)");
        RequireFloat(input);
        var shape = input.Shape;
        for (var axis = 0; axis < Rank; axis++)
        {
            shape = shape.With(axis + 1, input.Shape[axis + 1] is int length ? PaddingRules.OutputLength(length, PoolSizes[axis], StridesPerAxis[axis], padding) : null);
        }

        if (Enumerable.Range(1, Rank).Any(a => shape[a] <= 0))
        {
            throw InputError($"pool size {Tuple(PoolSizes)} does not fit {input.Label} with shape {input.Shape} with padding '{Padding}'; the output would be {shape}. Expected at least the pool size on each axis, or padding 'same'.");
        }

        return new[] { (shape, DType.Float32) };
    }

    /// <summary>ONNX: the pooling operator over (batch, channels, spatial...) between two Transposes.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.ChannelsFirst(call.Input.Name, Rank, Name, x => graph.Add(OnnxOperator, Name, new[] { x }, OnnxGraph.Ints("kernel_shape", PoolSizes.Select(p => (long)p).ToArray()),
            OnnxGraph.Ints("strides", StridesPerAxis.Select(s => (long)s).ToArray()),
            OnnxWindows.Pads(padding, Enumerable.Range(1, Rank).Select(a => call.Input.Shape[a]).ToArray(), PoolSizes, StridesPerAxis))) };

    private static string Tuple(int[] sizes) => sizes.Length == 1 ? $"{sizes[0]}" : $"({string.Join(", ", sizes)})";

    private static JsonArray Json(int[] sizes) => new(sizes.Select(s => (JsonNode?)s).ToArray());
}
