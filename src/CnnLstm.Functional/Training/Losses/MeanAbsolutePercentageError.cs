using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>MeanAbsolutePercentageError</c> (keras/src/losses/losses.py <c>mean_absolute_percentage_error</c>): 100 times the mean over the last axis of |(y - p) / max(|y|, 1e-7)|, reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis.
/// </summary>
public sealed class MeanAbsolutePercentageError : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>mean_absolute_percentage_error</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public MeanAbsolutePercentageError(string? reduction = "sum_over_batch_size", string name = "mean_absolute_percentage_error")
        : base(reduction, name, "mean_absolute_percentage_error")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var diff = yTrue.sub(yPred).div(yTrue.abs().clamp_min(Scalars.Of(SmoothedCrossentropy.Epsilon))).abs();
        return diff.mean(new long[] { -1 }).mul(Scalars.Of(100.0));
    }

    private protected override Loss? Defaults() => new MeanAbsolutePercentageError();
}
