using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Repeats each sample's vector <c>n</c> times, as Keras' <c>keras.layers.RepeatVector</c>
/// (keras/src/layers/reshaping/repeat_vector.py): (batch, features) to (batch, n, features), e.g. to feed an
/// encoder's summary to every step of a decoder. No weights.
/// </summary>
[KerasLayer("RepeatVector")]
public sealed class RepeatVector : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="n">How many times to repeat; positive.</param>
    /// <param name="name">Layer name; defaults to <c>repeat_vector_N</c>.</param>
    public RepeatVector(int n, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        N = n;
    }

    /// <summary>The repeat count (Keras' <c>n</c>).</summary>
    public int N { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["n"] = N;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static RepeatVector FromConfig(LayerConfig config) => new(config.GetInt("n"), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        RequireRank(input, 2, "(batch, features)");
        return new[] { (new Shape(null, N, input.Shape[1]), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input.unsqueeze(1).repeat(1, N, 1);

    /// <summary>ONNX: Unsqueeze to (batch, 1, features), then Tile along the new axis.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Tile", Name, new[] { graph.Unsqueeze(call.Input.Name, Name, 1), graph.Int64s(1, N, 1) }) };
}
