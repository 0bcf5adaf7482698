using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Flattens each sample to a vector, as Keras' <c>keras.layers.Flatten</c> (keras/src/layers/reshaping/flatten.py):
/// (batch, d1, d2, ...) to (batch, d1 × d2 × ...), in row-major (channels-last) order. No weights.
/// </summary>
[KerasLayer("Flatten")]
public sealed class Flatten : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">Layer name; defaults to <c>flatten_N</c>.</param>
    public Flatten(string? name = null)
        : base(name)
    {
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["data_format"] = "channels_last";
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Flatten FromConfig(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return new Flatten(config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (input.Shape.Rank < 2)
        {
            throw InputError($"expected input of rank 2 or more (batch, ...), but got {input.Label} with shape {input.Shape}.");
        }

        var dims = input.Shape.SampleDims;
        var size = dims.All(d => d is not null) ? input.Shape.SampleElements : (double?)null;
        return new[] { (new Shape(null, DerivedDim(size > long.MaxValue ? long.MaxValue : (long?)size, input, "the flattened size")), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.reshape(input.shape[0], -1);

    /// <summary>ONNX: Flatten from axis 1.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Flatten", Name, new[] { call.Input.Name }, OnnxGraph.Attr("axis", 1L)) };
}
