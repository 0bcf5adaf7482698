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
    public override bool SupportsMasking => true;

    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => new[] { inputMasked.All(m => m) };

    /// <inheritdoc/>
    protected override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) =>
        masks.Any(m => m is null) ? null : masks.Skip(1).Aggregate(masks[0]!, (a, b) => a.logical_or(b!));

    /// <summary>The number of inputs the layer takes, or null for one or more.</summary>
    private protected virtual int? ExactInputs => null;

    /// <inheritdoc/>
    protected sealed override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(IReadOnlyList<KerasTensor> inputs, bool list)
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
        var aligned = Align(inputs);
        var result = aligned[0].alias();
        foreach (var x in aligned.Skip(1))
        {
            result = Combine(result, x);
        }

        return result;
    }

    /// <summary>
    /// Merges inputs some of which carry a mask (null where one has none). Add, Subtract, Average, Concatenate and Dot
    /// merge the raw values, as Keras 3.16; Multiply, Maximum and Minimum first replace masked entries (see theirs).
    /// </summary>
    private protected virtual Tensor Merged(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks) => Merged(inputs);

    /// <inheritdoc/>
    protected sealed override IReadOnlyList<Tensor> Call(IReadOnlyList<Tensor> inputs, bool training, IReadOnlyList<Tensor?> masks) =>
        new[] { masks.Any(m => m is not null) ? Merged(inputs, masks) : Merged(inputs) };

    /// <summary>Inputs of lower rank gain size-1 axes after the batch axis, as Keras' <c>expand_dims(x, 1)</c>.</summary>
    private static Tensor[] Align(IReadOnlyList<Tensor> inputs)
    {
        var rank = inputs.Max(t => t.dim());
        return inputs.Select(t =>
        {
            var x = t;
            while (x.dim() < rank)
            {
                x = x.unsqueeze(1);
            }

            return x;
        }).ToArray();
    }

    /// <summary>
    /// The aligned inputs and each one's mask with a trailing axis, to broadcast over the features as Keras'
    /// <c>broadcast_to(expand_dims(mask, -1), shape(x))</c>. An input that had to gain axes has no mask here: Keras'
    /// <c>expand_dims</c> returns a tensor without <c>_keras_mask</c>.
    /// </summary>
    private protected static (Tensor[] Inputs, Tensor?[] Masks) AlignWithMasks(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        var rank = inputs.Max(t => t.dim());
        return (Align(inputs), inputs.Select((t, i) => t.dim() == rank ? masks[i]?.unsqueeze(-1) : null).ToArray());
    }

    /// <summary>
    /// Keras' <c>Merge._apply_merge_op_and_or_mask</c> (Maximum, Minimum): an input's masked entries take the running
    /// result's value and the result's masked entries take the input's, so masked entries never win; the running mask
    /// is the OR of the masks while every input has one.
    /// </summary>
    private protected static Tensor FoldMasked(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, Func<Tensor, Tensor, Tensor> op)
    {
        var (xs, ms) = AlignWithMasks(inputs, masks);
        var output = xs[0].alias();
        var outputMask = ms[0];
        for (var i = 1; i < xs.Length; i++)
        {
            var x = ms[i] is { } mask ? where(mask, xs[i], output) : xs[i];
            if (outputMask is not null)
            {
                output = where(outputMask, output, x);
            }

            outputMask = ms[i] is not null && outputMask is not null ? outputMask.logical_or(ms[i]!) : null;
            output = op(output, x);
        }

        return output;
    }

    /// <summary>The element-wise operation on two broadcastable tensors.</summary>
    private protected virtual Tensor Combine(Tensor a, Tensor b) => throw new NotSupportedException($"{ClassName} does not combine pairwise.");

    private LayerInputException NotAList(IReadOnlyList<KerasTensor> inputs) =>
        InputError($"a merge layer must be called on a list of inputs, e.g. Call(a, b) or Call(new[] {{ a, b }}), but was called on the single tensor {Describe(inputs)}.");

    /// <summary>The ONNX operator of <see cref="Combine"/> (<c>Add</c>, <c>Sub</c>, <c>Mul</c>, <c>Max</c>, <c>Min</c>).</summary>
    private protected virtual string OnnxCombine => throw OnnxGraph.Unsupported(this, "has no ONNX form in this library.");

    /// <summary>ONNX: lower-rank inputs Unsqueezed at axis 1 (as <see cref="Merged(IReadOnlyList{Tensor})"/>), then <see cref="OnnxCombine"/> folded over them.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var (aligned, masks) = OnnxAlign(graph, call);
        return new[] { OnnxFinish(graph, OnnxMerged(graph, aligned, masks), call.Inputs.Count) };
    }

    /// <summary>ONNX: the aligned inputs and their masks with a trailing axis, as <see cref="AlignWithMasks"/>.</summary>
    private (string[] Inputs, string?[] Masks) OnnxAlign(OnnxGraph graph, OnnxCall call)
    {
        var rank = call.Inputs.Max(v => v.Shape.Rank);
        var aligned = call.Inputs.Select(v => v.Shape.Rank < rank
            ? graph.Unsqueeze(v.Name, Name, Enumerable.Range(1, rank - v.Shape.Rank).Select(a => (long)a).ToArray()) : v.Name).ToArray();
        var masks = call.Inputs.Select(v => v.Shape.Rank == rank && v.Mask is { } m ? graph.Unsqueeze(m, Name, -1) : null).ToArray();
        return (aligned, masks);
    }

    /// <summary>ONNX of <see cref="Merged(IReadOnlyList{Tensor}, IReadOnlyList{Tensor?})"/> (masks null where absent): the raw fold, unless the merge replaces masked entries.</summary>
    private protected virtual string OnnxMerged(OnnxGraph graph, string[] inputs, string?[] masks) =>
        inputs.Skip(1).Aggregate(inputs[0], (a, b) => graph.Add(OnnxCombine, Name, new[] { a, b }));

    /// <summary>ONNX of <see cref="FoldMasked"/>.</summary>
    private protected string OnnxFoldMasked(OnnxGraph graph, string[] inputs, string?[] masks)
    {
        var output = inputs[0];
        var outputMask = masks[0];
        for (var i = 1; i < inputs.Length; i++)
        {
            var x = masks[i] is { } mask ? graph.Add("Where", Name, new[] { mask, inputs[i], output }) : inputs[i];
            if (outputMask is not null)
            {
                output = graph.Add("Where", Name, new[] { outputMask, output, x });
            }

            outputMask = masks[i] is not null && outputMask is not null ? graph.Add("Or", Name, new[] { outputMask, masks[i]! }) : null;
            output = graph.Add(OnnxCombine, Name, new[] { output, x });
        }

        return output;
    }

    /// <summary>What follows the fold in ONNX (Average divides by the input count).</summary>
    private protected virtual string OnnxFinish(OnnxGraph graph, string combined, int inputs) => combined;

    /// <summary>ONNX: the Or of the inputs' masks, as <see cref="ComputeMask"/>.</summary>
    internal override string? ExportOnnxMask(OnnxGraph graph, OnnxCall call) =>
        call.Inputs.Skip(1).Aggregate(call.Inputs[0].Mask!, (a, b) => graph.Add("Or", Name, new[] { a, b.Mask! }));
}
