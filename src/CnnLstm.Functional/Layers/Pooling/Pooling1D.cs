using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// The shared part of <see cref="MaxPooling1D"/> and <see cref="AveragePooling1D"/> (Keras' <c>BasePooling</c>):
/// windows over the steps of channels-last sequences (batch, steps, channels), strides defaulting to the window,
/// output length floor((L - poolSize) / strides) + 1 for <c>valid</c>, ceil(L / strides) for <c>same</c>. No weights.
/// </summary>
public abstract class Pooling1D : Layer
{
    private readonly Padding padding;

    private protected Pooling1D(int poolSize, int? strides, string padding, string? name)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(poolSize);
        if (strides is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(strides), strides, $"{GetType().Name}: strides must be positive.");
        }

        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        this.padding = PaddingRules.Parse(padding, GetType().Name, allowCausal: false);
    }

    /// <summary>Steps per window (Keras' <c>pool_size</c>).</summary>
    public int PoolSize { get; }

    /// <summary>Steps between windows (Keras' <c>strides</c>).</summary>
    public int Strides { get; }

    /// <summary><c>valid</c> or <c>same</c>.</summary>
    public string Padding => padding.Name();

    private protected Padding PaddingMode => padding;

    internal override bool BuiltAtInit => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["pool_size"] = new JsonArray(PoolSize);
        config["padding"] = Padding;
        config["strides"] = new JsonArray(Strides);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>The pool size, strides and padding of a Keras config.</summary>
    private protected static (int PoolSize, int? Strides, string Padding) Read(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return (config.GetSize("pool_size", 2), config.GetNullableSize("strides"), config.GetString("padding", "valid"));
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, channels)");
        RequireFloat(input);
        int? steps = input.Shape[1];
        if (steps is int length)
        {
            steps = PaddingRules.OutputLength(length, PoolSize, Strides, padding);
            if (steps <= 0)
            {
                throw InputError($"pool size {PoolSize} is longer than the input sequence: {input.Label} has shape {input.Shape}, which gives output length {steps} with padding '{Padding}'. Expected at least {PoolSize} steps, or padding 'same'.");
            }
        }

        return new[] { (input.Shape.With(1, steps), DType.Float32) };
    }

    /// <summary>The ONNX operator: <c>MaxPool</c> or <c>AveragePool</c> (which leaves padding out of the average, as Keras).</summary>
    private protected abstract string OnnxOperator { get; }

    /// <summary>ONNX: the pooling operator over (batch, channels, steps) between two Transposes.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.ChannelsFirst(call.Input.Name, 1, Name, x => graph.Add(OnnxOperator, Name, new[] { x }, OnnxGraph.Ints("kernel_shape", (long)PoolSize),
            OnnxGraph.Ints("strides", (long)Strides), OnnxWindows.Pads(padding, new[] { call.Input.Shape[1] }, new[] { PoolSize }, new[] { Strides }))) };
}
