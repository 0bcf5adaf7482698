using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>MeanSquaredLogarithmicError</c> (keras/src/losses/losses.py <c>mean_squared_logarithmic_error</c>): the mean over the last axis of (log(max(p, 1e-7) + 1) - log(max(y, 1e-7) + 1))², reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis.
/// </summary>
public sealed class MeanSquaredLogarithmicError : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>mean_squared_logarithmic_error</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public MeanSquaredLogarithmicError(string? reduction = "sum_over_batch_size", string name = "mean_squared_logarithmic_error")
        : base(reduction, name, "mean_squared_logarithmic_error")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var first = yPred.clamp_min(Scalars.Of(SmoothedCrossentropy.Epsilon)).add(Scalars.One, Scalars.IntOne).log();
        var second = yTrue.clamp_min(Scalars.Of(SmoothedCrossentropy.Epsilon)).add(Scalars.One, Scalars.IntOne).log();
        return first.sub(second).pow(Scalars.IntTwo).mean(new long[] { -1 });
    }

    private protected override Loss? Defaults() => new MeanSquaredLogarithmicError();
}
