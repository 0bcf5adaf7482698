using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Joins its inputs along one axis, as Keras' <c>keras.layers.Concatenate</c>
/// (keras/src/layers/merging/concatenate.py). Inputs: float32 tensors of one rank whose dimensions agree except on
/// <see cref="Axis"/> (an unknown dimension agrees with any); output: the same shape with the sizes on
/// <see cref="Axis"/> added (unknown if any is). No weights (0 parameters).
/// </summary>
[KerasLayer("Concatenate", SharesNameWithOperation = true)]
public sealed class Concatenate : Merge
{
    /// <summary>Creates the layer.</summary>
    /// <param name="axis">The axis to join along, counting the batch axis as 0; negative counts from the end
    /// (Keras' default -1, the features). The batch axis cannot be joined along.</param>
    /// <param name="name">Layer name; defaults to <c>concatenate_N</c>.</param>
    public Concatenate(int axis = -1, string? name = null)
        : base(name)
    {
        Axis = axis;
    }

    /// <summary>The axis to join along (Keras' <c>axis</c>).</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = Axis;
        return config;
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static Concatenate FromConfig(LayerConfig config) => new(config.GetInt("axis", -1), config.Name);

    /// <summary>A mask when any input has one (Keras' <c>Concatenate.compute_mask</c>).</summary>
    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => new[] { inputMasked.Any(m => m) };

    /// <summary>
    /// As Keras: each input's mask spread over its last axis (all true for an unmasked input), joined along the axis,
    /// then true where any of the last axis is.
    /// </summary>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        if (masks.All(m => m is null))
        {
            return null;
        }

        var full = inputs.Select((x, i) => masks[i] is not { } m ? ones_like(x, dtype: ScalarType.Bool)
            : m.dim() < x.dim() ? m.unsqueeze(-1).expand(x.shape) : m).ToArray();
        return cat(full, Axis < 0 ? Axis + inputs[0].dim() : Axis).any(-1);
    }

    private protected override Shape OutputShape(IReadOnlyList<KerasTensor> inputs)
    {
        var rank = inputs[0].Shape.Rank;
        if (inputs.Any(i => i.Shape.Rank != rank))
        {
            throw InputError($"requires inputs of one rank with matching shapes except on the concatenation axis, but got {Describe(inputs)}.");
        }

        var axis = Axis < 0 ? Axis + rank : Axis;
        if (axis <= 0 || axis >= rank)
        {
            throw InputError($"axis {Axis} is {(axis == 0 ? "the batch axis" : "outside the inputs' rank")}; inputs of rank {rank} ({Describe(inputs)}) can be joined along axes 1 to {rank - 1} (or -1 to {1 - rank}).");
        }

        var dims = inputs[0].Shape.ToArray();
        for (var d = 1; d < rank; d++)
        {
            if (d == axis)
            {
                dims[d] = inputs.Any(i => i.Shape[d] is null) ? null : DerivedDim(inputs.Sum(i => (long)i.Shape[d]!.Value), inputs[0], $"the concatenated axis {Axis} of {inputs.Count} inputs");
                continue;
            }

            var known = inputs.Select(i => i.Shape[d]).Where(v => v is not null).Distinct().ToList();
            if (known.Count > 1)
            {
                throw InputError($"requires inputs with matching shapes except on the concatenation axis {Axis}, but axis {d} differs: {Describe(inputs)}.");
            }

            dims[d] = known.FirstOrDefault();
        }

        return new Shape(dims);
    }

    private protected override Tensor Merged(IReadOnlyList<Tensor> inputs) => cat(inputs.ToArray(), Axis < 0 ? Axis + inputs[0].dim() : Axis);

    /// <summary>ONNX: Concat along the axis.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        new[] { graph.Add("Concat", Name, call.Inputs.Select(v => v.Name), OnnxGraph.Attr("axis", (long)(Axis < 0 ? Axis + call.Input.Shape.Rank : Axis))) };

    /// <summary>ONNX: as <see cref="ComputeMask"/>, each input's mask spread over its last axis (true for an unmasked input), joined, then any over the last axis.</summary>
    internal override string? ExportOnnxMask(OnnxGraph graph, OnnxCall call)
    {
        var full = call.Inputs.Select(v => v.Mask is { } m
            ? graph.Add("Expand", Name, new[] { graph.Unsqueeze(m, Name, -1), graph.ShapeOf(v.Name, Name, 0) })
            : graph.TrueOfShape(graph.ShapeOf(v.Name, Name, 0), Name)).ToArray();
        var joined = graph.MaskAsFloat(graph.Add("Concat", Name, full, OnnxGraph.Attr("axis", (long)(Axis < 0 ? Axis + call.Input.Shape.Rank : Axis))), Name);
        var any = graph.Add("ReduceMax", Name, new[] { joined }, OnnxGraph.Ints("axes", -1L), OnnxGraph.Attr("keepdims", 0L));
        return graph.Add("Cast", Name, new[] { any }, OnnxGraph.Attr("to", (long)OnnxGraph.Bool));
    }
}
