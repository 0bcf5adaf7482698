using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Reorders the axes of each sample, as Keras' <c>keras.layers.Permute</c> (keras/src/layers/reshaping/permute.py):
/// <c>dims</c> is a permutation of 1..n (the batch axis is 0 and stays first), e.g. (2, 1) turns (batch, steps,
/// features) into (batch, features, steps). No weights.
/// </summary>
[KerasLayer("Permute")]
public sealed class Permute : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="dims">A permutation of 1..n over the per-sample axes.</param>
    /// <param name="name">Layer name; defaults to <c>permute_N</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="dims"/> is not a permutation of 1..n.</exception>
    public Permute(int[] dims, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0 || !dims.Order().SequenceEqual(Enumerable.Range(1, dims.Length)))
        {
            throw new ArgumentException($"Permute: dims must be a permutation of 1..{dims.Length} (axis 0 is the batch), got ({string.Join(", ", dims)}).", nameof(dims));
        }

        Dims = dims.ToArray();
    }

    /// <summary>The permutation (Keras' <c>dims</c>).</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["dims"] = new JsonArray(Dims.Select(d => (JsonNode)d).ToArray());
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Permute FromConfig(LayerConfig config) => new(config.GetIntList("dims"), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (input.Shape.Rank != Dims.Count + 1)
        {
            throw InputError($"dims ({string.Join(", ", Dims)}) permute {Dims.Count} axes, but {input.Label} has shape {input.Shape} with {input.Shape.Rank - 1}.");
        }

        return new[] { (Shape.WithBatch(Dims.Select(d => input.Shape[d])), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        input.permute(new[] { 0L }.Concat(Dims.Select(d => (long)d)).ToArray());

    /// <summary>ONNX: Transpose with the batch axis kept first.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Transpose(call.Input.Name, Name, new long[] { 0 }.Concat(Dims.Select(d => (long)d)).ToArray()) };
}
