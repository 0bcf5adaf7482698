using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Removes steps at the start and end of each sequence, as Keras' <c>keras.layers.Cropping1D</c>
/// (keras/src/layers/reshaping/cropping1d.py): (batch, steps, features) to (batch, steps - left - right, features).
/// No weights.
/// </summary>
[KerasLayer("Cropping1D")]
public sealed class Cropping1D : Layer
{
    /// <summary>Creates the layer with the same cropping on both sides.</summary>
    /// <param name="cropping">Steps removed on each side; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>cropping1d_N</c>.</param>
    public Cropping1D(int cropping, string? name = null)
        : this((cropping, cropping), name)
    {
    }

    /// <summary>Creates the layer (Keras' default cropping is (1, 1)).</summary>
    /// <param name="cropping">Steps removed at the start and at the end; 0 or more.</param>
    /// <param name="name">Layer name; defaults to <c>cropping1d_N</c>.</param>
    public Cropping1D((int Start, int End)? cropping = null, string? name = null)
        : base(name)
    {
        var value = cropping ?? (1, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(value.Start, nameof(cropping));
        ArgumentOutOfRangeException.ThrowIfNegative(value.End, nameof(cropping));
        Cropping = value;
    }

    /// <summary>Steps removed at the start and at the end (Keras' <c>cropping</c>).</summary>
    public (int Start, int End) Cropping { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["cropping"] = new JsonArray(Cropping.Start, Cropping.End);
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Cropping1D FromConfig(LayerConfig config) => new(config.GetPair("cropping", (1, 1)), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 3, "(batch, steps, features)");
        // In 64 bits: (2147483647, 2147483647) wrapped around to a positive length.
        var steps = (long?)input.Shape[1] - Cropping.Start - Cropping.End;
        if (steps <= 0)
        {
            throw InputError($"cropping ({Cropping.Start}, {Cropping.End}) leaves no steps of {input.Label} with shape {input.Shape}; expected more than {(long)Cropping.Start + Cropping.End} steps.");
        }

        return new[] { (input.Shape.With(1, (int?)steps), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        input.narrow(1, Cropping.Start, input.shape[1] - Cropping.Start - Cropping.End);

    /// <summary>ONNX: Slice of the steps.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Slice", Name, new[] { call.Input.Name, graph.Int64s(Cropping.Start), graph.Int64s(Cropping.End > 0 ? -Cropping.End : long.MaxValue), graph.Int64s(1) }) };
}
