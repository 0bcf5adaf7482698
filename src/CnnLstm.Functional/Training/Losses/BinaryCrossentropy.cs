using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>BinaryCrossentropy</c> (keras/src/losses/losses.py <c>binary_crossentropy</c>): targets smoothed to
/// y (1 - labelSmoothing) + labelSmoothing / 2, then -(y log p + (1 - y) log(1 - p)) with p clipped to
/// [1e-7, 1 - 1e-7] (or from logits), the mean over <see cref="SmoothedCrossentropy.Axis"/>, reduced by <see cref="Loss.Reduction"/>.
/// When the model ends in a sigmoid (and <see cref="SmoothedCrossentropy.FromLogits"/> is false) it is computed from the logits.
/// </summary>
public sealed class BinaryCrossentropy : SmoothedCrossentropy
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="fromLogits">Whether the output holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]: targets move towards 0.5 by this fraction.</param>
    /// <param name="axis">The axis the mean is taken over, -1 the last (counted from the end when negative).</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is not in [0, 1].</exception>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public BinaryCrossentropy(bool fromLogits = false, double labelSmoothing = 0.0, int axis = -1, string? reduction = "sum_over_batch_size", string name = "binary_crossentropy")
        : base(fromLogits, labelSmoothing, axis, reduction, name, "binary_crossentropy")
    {
    }

    internal override string? LogitsActivation => FromLogits ? null : "sigmoid";

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred) => PerEntry(yTrue, yPred, null);

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits)
    {
        var y = LabelSmoothing > 0 ? target.mul(Scalars.Of(1 - LabelSmoothing)).add(Scalars.Of(0.5 * LabelSmoothing), Scalars.IntOne) : target;
        var fromLogits = FromLogits ? output : logits;
        if (fromLogits is not null)
        {
            return nn.functional.binary_cross_entropy_with_logits(fromLogits, y, reduction: nn.Reduction.None).mean(new long[] { Axis });
        }

        var p = Clipped(output);
        return (-(y * p.log()).add(Scalars.OneMinus(y) * Scalars.OneMinus(p).log(), Scalars.IntOne)).mean(new long[] { Axis });
    }

    private protected override Loss? Defaults() => new BinaryCrossentropy();
}
