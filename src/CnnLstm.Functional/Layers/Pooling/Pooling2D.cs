using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The shared part of <see cref="MaxPooling2D"/> and <see cref="AveragePooling2D"/> (Keras' <c>BasePooling</c>):
/// windows of (height, width) over channels-last images, strides defaulting to the window, <c>valid</c> or
/// <c>same</c> padding with Keras' output sizes. Input (batch, height, width, channels); output (batch, out height,
/// out width, channels). No weights.
/// </summary>
public abstract class Pooling2D : Layer
{
    private readonly Padding padding;

    private protected Pooling2D((int H, int W) poolSize, (int H, int W)? strides, string padding, string? name)
        : base(name)
    {
        var step = strides ?? poolSize;
        if (new[] { poolSize.H, poolSize.W, step.H, step.W }.Any(v => v <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(poolSize), $"{GetType().Name}: pool size {poolSize} and strides {step} must be positive.");
        }

        PoolSize = poolSize;
        Strides = step;
        this.padding = PaddingRules.Parse(padding, GetType().Name, allowCausal: false);
    }

    /// <summary>Window (height, width) (Keras' <c>pool_size</c>).</summary>
    public (int H, int W) PoolSize { get; }

    /// <summary>Steps between windows (Keras' <c>strides</c>).</summary>
    public (int H, int W) Strides { get; }

    /// <summary><c>valid</c> or <c>same</c>.</summary>
    public string Padding => padding.Name();

    private protected Padding PaddingMode => padding;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["pool_size"] = new JsonArray(PoolSize.H, PoolSize.W);
        config["padding"] = Padding;
        config["strides"] = new JsonArray(Strides.H, Strides.W);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>The pool size, strides and padding of a Keras config.</summary>
    private protected static ((int, int) PoolSize, (int, int)? Strides, string Padding) Read(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return (config.GetPair("pool_size", (2, 2)), config.GetRaw("strides") is null ? null : config.GetPair("strides", (2, 2)), config.GetString("padding", "valid"));
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 4, "(batch, height, width, channels)");
        RequireFloat(input);
        var (height, width) = Windows2D.OutputSize(input.Shape, PoolSize, Strides, padding);
        if (height <= 0 || width <= 0)
        {
            throw InputError($"pool size {PoolSize} does not fit {input.Label} with shape {input.Shape} with padding '{Padding}'; the output would be ({height}, {width}).");
        }

        return new[] { (new Shape(null, height, width, input.Shape[3]), DType.Float32) };
    }

    /// <summary>The ONNX operator: <c>MaxPool</c> or <c>AveragePool</c> (which leaves padding out of the average, as Keras).</summary>
    private protected abstract string OnnxOperator { get; }

    /// <summary>ONNX: the pooling operator over (batch, channels, height, width) between two Transposes.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.ChannelsFirst(call.Input.Name, 2, Name, x => graph.Add(OnnxOperator, Name, new[] { x }, OnnxGraph.Ints("kernel_shape", PoolSize.H, PoolSize.W),
            OnnxGraph.Ints("strides", Strides.H, Strides.W),
            OnnxWindows.Pads(padding, new[] { call.Input.Shape[1], call.Input.Shape[2] }, new[] { PoolSize.H, PoolSize.W }, new[] { Strides.H, Strides.W }))) };
}
