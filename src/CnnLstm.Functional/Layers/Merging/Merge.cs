using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Base of the layers that merge a list of tensors, as Keras 3's <c>keras.layers.Merge</c>
/// (keras/src/layers/merging/base_merge.py): called on a list (<c>new Add().Call(a, b)</c>), no weights. The
/// element-wise merges (<see cref="Add"/>, <see cref="Subtract"/>, <see cref="Multiply"/>, <see cref="Average"/>,
/// <see cref="Maximum"/>, <see cref="Minimum"/>) broadcast as Keras does: the dimensions after the batch axis are
/// aligned from the right, and a 1 stretches to the other size; an input of lower rank gains axes of size 1 after the
/// batch axis. Shapes: inputs (batch, ...) each; output (batch, broadcast shape).
/// </summary>
public abstract class Merge : Layer
{
    /// <summary>Creates a merge layer.</summary>
    /// <param name="name">Layer name, or null for Keras' default (snake_case class name with a number).</param>
    private protected Merge(string? name)
        : base(name)
    {
    }

    /// <summary>Merges masks as Keras' <c>Merge.compute_mask</c> does: the OR of all inputs' masks, none if any input has none.</summary>
    internal override bool SupportsMasking => true;

    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => new[] { inputMasked.All(m => m) };

    internal override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) =>
        masks.Any(m => m is null) ? null : masks.Skip(1).Aggregate(masks[0]!, (a, b) => a.logical_or(b!));

    /// <summary>The number of inputs the layer takes, or null for one or more.</summary>
    private protected virtual int? ExactInputs => null;

    /// <inheritdoc/>
    protected sealed override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        throw NotAList(new[] { input });

    /// <inheritdoc/>
    protected internal sealed override IReadOnlyList<Tensor> Forward(Tensor input, bool training) => new[] { Merged(new[] { input }) };

    private protected sealed override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(IReadOnlyList<KerasTensor> inputs, bool list)
    {
        if (!list)
        {
            throw NotAList(inputs);
        }

        if (ExactInputs is int exact && inputs.Count != exact)
        {
            throw InputError($"should be called on exactly {exact} inputs, but got {inputs.Count}: {Describe(inputs)}.");
        }

        foreach (var input in inputs.Where(i => i.DType != DType.Float32))
        {
            throw InputError($"merges float32 tensors, but {input.Label} with shape {input.Shape} has dtype {input.DType.ToKerasName()}; inputs: {Describe(inputs)}.");
        }

        return new[] { (OutputShape(inputs), DType.Float32) };
    }

    internal sealed override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> inputs, bool training) => new[] { Merged(inputs) };

    /// <summary>The output shape (batch axis first) for these inputs; throws naming every input shape when they do not fit.</summary>
    private protected virtual Shape OutputShape(IReadOnlyList<KerasTensor> inputs)
    {
        var dims = inputs[0].Shape.Skip(1).ToList();
        foreach (var input in inputs.Skip(1))
        {
            var other = input.Shape.Skip(1).ToList();
            var (longer, shorter) = dims.Count >= other.Count ? (dims, other) : (other, dims);
            var result = longer.Take(longer.Count - shorter.Count).ToList();
            for (var i = 0; i < shorter.Count; i++)
            {
                var (a, b) = (longer[longer.Count - shorter.Count + i], shorter[i]);
                result.Add(a is null || b is null ? null : a == 1 ? b : b == 1 || a == b ? a
                    : throw InputError($"inputs have incompatible shapes: {Describe(inputs)} (dimensions {a} and {b} neither match nor are 1)."));
            }

            dims = result;
        }

        return Shape.WithBatch(dims);
    }

    /// <summary>Merges the concrete inputs; element-wise merges fold <see cref="Combine"/> over inputs of equal rank.</summary>
    private protected virtual Tensor Merged(IReadOnlyList<Tensor> inputs)
    {
        var rank = inputs.Max(t => t.dim());
        var aligned = inputs.Select(t =>
        {
            var x = t;
            while (x.dim() < rank)
            {
                x = x.unsqueeze(1);
            }

            return x;
        }).ToArray();
        var result = aligned[0].alias();
        foreach (var x in aligned.Skip(1))
        {
            result = Combine(result, x);
        }

        return result;
    }

    /// <summary>The element-wise operation on two broadcastable tensors.</summary>
    private protected virtual Tensor Combine(Tensor a, Tensor b) => throw new NotSupportedException($"{ClassName} does not combine pairwise.");

    private LayerInputException NotAList(IReadOnlyList<KerasTensor> inputs) =>
        InputError($"a merge layer must be called on a list of inputs, e.g. Call(a, b) or Call(new[] {{ a, b }}), but was called on the single tensor {Describe(inputs)}.");

    /// <summary>The ONNX operator of <see cref="Combine"/> (<c>Add</c>, <c>Sub</c>, <c>Mul</c>, <c>Max</c>, <c>Min</c>).</summary>
    private protected virtual string OnnxCombine => throw OnnxGraph.Unsupported(this, "has no ONNX form in this library.");

    /// <summary>ONNX: lower-rank inputs Unsqueezed at axis 1 (as <see cref="Merged"/>), then <see cref="OnnxCombine"/> folded over them.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var rank = call.Inputs.Max(v => v.Shape.Rank);
        var aligned = call.Inputs.Select(v => v.Shape.Rank < rank
            ? graph.Unsqueeze(v.Name, Name, Enumerable.Range(1, rank - v.Shape.Rank).Select(a => (long)a).ToArray()) : v.Name).ToArray();
        var combined = aligned.Skip(1).Aggregate(aligned[0], (a, b) => graph.Add(OnnxCombine, Name, new[] { a, b }));
        return new[] { OnnxFinish(graph, combined, call.Inputs.Count) };
    }

    /// <summary>What follows the fold in ONNX (Average divides by the input count).</summary>
    private protected virtual string OnnxFinish(OnnxGraph graph, string combined, int inputs) => combined;

    /// <summary>ONNX: the Or of the inputs' masks, as <see cref="ComputeMask"/>.</summary>
    internal override string? ExportOnnxMask(OnnxGraph graph, OnnxCall call) =>
        call.Inputs.Skip(1).Aggregate(call.Inputs[0].Mask!, (a, b) => graph.Add("Or", Name, new[] { a, b.Mask! }));
}
