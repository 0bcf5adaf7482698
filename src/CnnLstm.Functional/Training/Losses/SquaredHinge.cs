using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>SquaredHinge</c> (keras/src/losses/losses.py <c>squared_hinge</c>): targets of 0 and 1 only (all of them) become -1 and 1 (<c>convert_binary_labels_to_hinge</c>), then the mean over the last axis of max(1 - y p, 0)², reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis.
/// </summary>
public sealed class SquaredHinge : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>squared_hinge</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public SquaredHinge(string? reduction = "sum_over_batch_size", string name = "squared_hinge")
        : base(reduction, name, "squared_hinge")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        return HingeLabels.Margins(yTrue, yPred).pow(Scalars.IntTwo).mean(new long[] { -1 });
    }

    private protected override Loss? Defaults() => new SquaredHinge();
}
