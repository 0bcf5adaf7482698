using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Gives each sample a new shape, as Keras' <c>keras.layers.Reshape</c> (keras/src/layers/reshaping/reshape.py):
/// (batch, ...) to (batch, targetShape), row-major; one dimension may be -1, inferred from the sample size. No weights.
/// </summary>
[KerasLayer("Reshape")]
public sealed class Reshape : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="targetShape">The per-sample shape (batch axis excluded); at most one -1.</param>
    /// <param name="name">Layer name; defaults to <c>reshape_N</c>.</param>
    /// <exception cref="ArgumentException">An empty shape, a size below -1 or 0, or more than one -1.</exception>
    public Reshape(int[] targetShape, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(targetShape);
        if (targetShape.Length == 0 || targetShape.Any(d => d == 0 || d < -1) || targetShape.Count(d => d == -1) > 1)
        {
            throw new ArgumentException($"Reshape: targetShape must hold positive sizes and at most one -1, got ({string.Join(", ", targetShape)}).", nameof(targetShape));
        }

        TargetShape = targetShape.ToArray();
    }

    /// <summary>The per-sample shape (Keras' <c>target_shape</c>).</summary>
    public IReadOnlyList<int> TargetShape { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["target_shape"] = new JsonArray(TargetShape.Select(d => (JsonNode)d).ToArray());
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Reshape FromConfig(LayerConfig config) => new(config.GetIntList("target_shape"), config.Name);

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        var dims = input.Shape.SampleDims;
        // A double: a target shape from a config may multiply past long (and wrap back onto the input's size).
        var known = TargetShape.Where(d => d > 0).Aggregate(1.0, (a, d) => a * d);
        int?[] output = TargetShape.Select(d => d > 0 ? (int?)d : null).ToArray();
        if (dims.All(d => d is not null))
        {
            var size = dims.Aggregate(1L, (a, d) => a * d!.Value);
            var inferred = TargetShape.Contains(-1) && known > 0 && size % known == 0 ? (long)(size / known) : (long?)null;
            if ((TargetShape.Contains(-1) && inferred is null) || (!TargetShape.Contains(-1) && size != known))
            {
                throw InputError($"cannot reshape {input.Label} with shape {input.Shape} ({size} values per sample) to (None, {string.Join(", ", TargetShape)}).");
            }

            output = TargetShape.Select(d => d > 0 ? d : DerivedDim(inferred, input, "the inferred size (-1)")).ToArray();
        }

        return new[] { (Shape.WithBatch(output), input.DType) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) =>
        input.reshape(new[] { input.shape[0] }.Concat(TargetShape.Select(d => (long)d)).ToArray());

    /// <summary>
    /// ONNX: Reshape to (batch, output shape...), every size after the batch written out (a -1 resolved); over an
    /// input of unknown (None) size the -1 stays, inferred by the runtime (the exported graph never runs an empty batch).
    /// </summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.ReshapeKeepingBatch(call.Input.Name, Name, call.OutputShapes[0].Skip(1).Select(d => (long?)d ?? -1L).ToArray()) };
}
