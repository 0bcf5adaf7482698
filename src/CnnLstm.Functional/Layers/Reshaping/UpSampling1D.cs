using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Repeats each step <c>size</c> times, as Keras' <c>keras.layers.UpSampling1D</c>
/// (keras/src/layers/reshaping/up_sampling1d.py): (batch, steps, features) to (batch, steps × size, features).
/// No weights.
/// </summary>
[KerasLayer("UpSampling1D")]
public sealed class UpSampling1D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="size">Repeats per step (Keras' default 2); positive.</param>
    /// <param name="name">Layer name; defaults to <c>up_sampling1d_N</c>.</param>
    public UpSampling1D(int size = 2, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Size = size;
    }

    /// <summary>Repeats per step (Keras' <c>size</c>).</summary>
    public int Size { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["size"] = Size;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static UpSampling1D FromConfig(LayerConfig config) => new(config.GetSize("size", 2), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        return new[] { (input.Shape.With(1, DerivedDim((long?)input.Shape[1] * Size, input, $"the steps × size {Size}")), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.repeat_interleave(Size, 1);

    /// <summary>
    /// ONNX: each step repeated: Unsqueeze to (batch, steps, 1, channels), Expand, Reshape; over unknown (None) sizes
    /// the Reshape reads the batch and channels from the input and infers the steps.
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var repeated = graph.Add("Expand", Name, new[] { graph.Unsqueeze(call.Input.Name, Name, 2), graph.Int64s(1, 1, Size, 1) });
        var output = call.OutputShapes[0];
        return output.Skip(1).All(d => d is not null)
            ? new[] { graph.ReshapeKeepingBatch(repeated, Name, output.Skip(1).Select(d => (long)d!.Value).ToArray()) }
            : new[] { graph.Add("Reshape", Name, new[] { repeated, graph.ConcatShapes(Name, graph.ShapeOf(call.Input.Name, Name, 0, 1), graph.Int64s(-1), graph.ShapeOf(call.Input.Name, Name, 2, 3)) }) };
    }
}
