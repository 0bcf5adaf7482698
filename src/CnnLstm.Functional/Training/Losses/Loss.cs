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
    /// The loss with sample weights and/or a mask, as Keras 3's <c>reduce_weighted_values</c> with the default
    /// <c>sum_over_batch_size</c> reduction: per-entry values times the sample weights, summed and divided by the number
    /// of entries; with a mask (Keras' <c>apply_mask</c>) the masked entries count zero and the sum is divided by the
    /// number of unmasked entries instead. Without either it is <see cref="Compute"/>.
    /// </summary>
    /// <param name="target">The targets.</param>
    /// <param name="output">The output.</param>
    /// <param name="logits">The output before its final activation, when the loss uses it.</param>
    /// <param name="sampleWeights">One weight per sample, shape (batch,), or null.</param>
    /// <param name="mask">The output's mask over the axes before the last, or null.</param>
    /// <param name="outputName">The output's layer name, for messages.</param>
    internal Tensor ComputeWeighted(Tensor target, Tensor output, Tensor? logits, Tensor? sampleWeights, Tensor? mask, string outputName)
    {
        if (sampleWeights is null && mask is null)
        {
            return Compute(target, output, logits);
        }

        var reduced = PerEntry(target, output, logits);
        var weights = sampleWeights?.to_type(reduced.dtype);
        while (weights is not null && weights.dim() < reduced.dim())
        {
            weights = weights.unsqueeze(-1);
        }

        var weighted = weights is null ? reduced : reduced * weights;
        if (mask is null)
        {
            return weighted.sum() / Math.Max(1, reduced.numel());
        }

        if (!reduced.shape.SequenceEqual(mask.shape))
        {
            throw new NotSupportedException($"output '{outputName}' has shape ({string.Join(", ", output.shape)}) but its mask has shape ({string.Join(", ", mask.shape)}); a loss can be masked only over the axes before the last.");
        }

        var kept = mask.to_type(reduced.dtype);
        return (weighted * kept).sum() / (kept.sum() + 1e-7f);
    }
}
