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
}
