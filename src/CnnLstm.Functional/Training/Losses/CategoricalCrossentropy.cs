using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>CategoricalCrossentropy</c> on one-hot targets (keras/src/losses/losses.py <c>categorical_crossentropy</c>,
/// torch backend): targets smoothed to y (1 - labelSmoothing) + labelSmoothing / classes, predictions normalised to sum
/// 1 over <see cref="SmoothedCrossentropy.Axis"/> and clipped to [1e-7, 1 - 1e-7] (or log-softmax of logits), -Σ y log p over
/// <see cref="SmoothedCrossentropy.Axis"/>, reduced by <see cref="Loss.Reduction"/>. From the logits when the model ends in a softmax and
/// <see cref="SmoothedCrossentropy.Axis"/> is the last.
/// </summary>
public sealed class CategoricalCrossentropy : SmoothedCrossentropy
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="fromLogits">Whether the output holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]: that fraction of each target is spread evenly over the classes.</param>
    /// <param name="axis">The class axis, -1 the last (counted from the end when negative).</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is not in [0, 1].</exception>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public CategoricalCrossentropy(bool fromLogits = false, double labelSmoothing = 0.0, int axis = -1, string? reduction = "sum_over_batch_size", string name = "categorical_crossentropy")
        : base(fromLogits, labelSmoothing, axis, reduction, name, "categorical_crossentropy")
    {
    }

    internal override string? LogitsActivation => FromLogits ? null : "softmax";

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred) => PerEntry(yTrue, yPred, null);

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits)
    {
        var axis = CanonicalAxis(Axis, (int)output.dim(), string.Empty);
        var y = LabelSmoothing > 0 ? Scalars.With(LabelSmoothing / output.shape[axis], share => target.mul(Scalars.Of(1 - LabelSmoothing)).add(share, Scalars.IntOne)) : target;
        // The model's softmax is over the last axis: its logits serve only a loss over that axis.
        var logProbabilities = FromLogits ? output.log_softmax(axis)
            : logits is not null && axis == output.dim() - 1 ? logits.log_softmax(axis)
            : Clipped(output / output.sum(axis, keepdim: true)).log();
        return -(y * logProbabilities).sum(axis);
    }

    private protected override Loss? Defaults() => new CategoricalCrossentropy();
}
