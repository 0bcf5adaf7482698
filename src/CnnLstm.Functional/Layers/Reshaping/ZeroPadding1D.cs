using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Adds zero steps at the start and end of each sequence, as Keras' <c>keras.layers.ZeroPadding1D</c>
/// (keras/src/layers/reshaping/zero_padding1d.py): (batch, steps, features) to (batch, left + steps + right,
/// features). No weights.
/// </summary>
[KerasLayer("ZeroPadding1D")]
public sealed class ZeroPadding1D : Layer
{
    /// <summary>Creates the layer with the same padding on both sides (Keras' default 1).</summary>
    /// <param name="padding">Zero steps on each side; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding1d_N</c>.</param>
    public ZeroPadding1D(int padding = 1, string? name = null)
        : this((padding, padding), name)
    {
    }

    /// <summary>Creates the layer with its own padding on each side.</summary>
    /// <param name="padding">Zero steps at the start and at the end; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>zero_padding1d_N</c>.</param>
    public ZeroPadding1D((int Left, int Right) padding, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding.Left, nameof(padding));
        ArgumentOutOfRangeException.ThrowIfNegative(padding.Right, nameof(padding));
        Padding = padding;
    }

    /// <summary>Zero steps at the start and at the end (Keras' <c>padding</c>).</summary>
    public (int Left, int Right) Padding { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["padding"] = new JsonArray(Padding.Left, Padding.Right);
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static ZeroPadding1D FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return new ZeroPadding1D(config.GetPair("padding", (1, 1)), config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        return new[] { (input.Shape.With(1, DerivedDim((long?)input.Shape[1] + Padding.Left + Padding.Right, input, $"the steps padded by {Padding}")), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        nn.functional.pad(input, new long[] { 0, 0, Padding.Left, Padding.Right });

    /// <summary>ONNX: Pad with zeros along the steps.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Pad", Name, new[] { call.Input.Name, graph.Int64s(0, Padding.Left, 0, 0, Padding.Right, 0) }) };
}
