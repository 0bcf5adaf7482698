using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Base of the Keras losses. A loss is the mean over samples of a per-sample value, which is itself a mean over the
/// last axis (for mse, mae and binary cross-entropy) or a sum over classes (for categorical cross-entropy).
/// </summary>
public abstract class Loss
{
    /// <summary>The Keras name, e.g. <c>binary_crossentropy</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The activation whose pre-activation values (logits) this loss can use for a stable equivalent, as Keras does
    /// when the model ends in that activation; null if none.
    /// </summary>
    internal virtual string? LogitsActivation => null;

    /// <summary>Whether targets are class indices (integers) rather than values shaped like the output.</summary>
    internal virtual bool SparseTargets => false;

    /// <summary>The mean loss over the batch.</summary>
    /// <param name="target">Targets, shaped like the output (or class indices for sparse losses).</param>
    /// <param name="output">The model output.</param>
    /// <param name="logits">The output's pre-activation values when the model ends in <see cref="LogitsActivation"/>.</param>
    internal abstract Tensor Compute(Tensor target, Tensor output, Tensor? logits);

    /// <summary>
    /// The loss of each entry, before the mean over entries: the output's shape without its last axis (the mean over
    /// it for mse, mae and binary cross-entropy, the sum over classes for the categorical ones), as Keras' loss
    /// functions return it before reduction.
    /// </summary>
    internal abstract Tensor PerEntry(Tensor target, Tensor output, Tensor? logits);

    /// <summary>
    /// The loss over an output that carries a mask, as Keras 3's <c>Loss.__call__</c> with <c>apply_mask</c>
    /// (keras/src/losses/loss.py): each entry's loss (the mean over the last axis) weighted by the mask, summed, and
    /// divided by the number of unmasked entries (plus Keras' epsilon, 1e-7), so padded steps count for nothing.
    /// </summary>
    /// <param name="target">Targets shaped like the output.</param>
    /// <param name="output">The output, (batch, steps, units).</param>
    /// <param name="logits">The output's pre-activation values, as for <see cref="Compute"/>.</param>
    /// <param name="mask">The output's mask, (batch, steps).</param>
    /// <param name="outputName">The output layer, for messages.</param>
    internal Tensor ComputeMasked(Tensor target, Tensor output, Tensor? logits, Tensor mask, string outputName)
    {
        var reduced = PerEntry(target, output, logits);
        if (!reduced.shape.SequenceEqual(mask.shape))
        {
            throw new NotSupportedException($"output '{outputName}' has shape ({string.Join(", ", output.shape)}) but its mask has shape ({string.Join(", ", mask.shape)}); a loss can be masked only over the axes before the last.");
        }

        var weights = mask.to_type(reduced.dtype);
        return (reduced * weights).sum() / (weights.sum() + 1e-7f);
    }
}
