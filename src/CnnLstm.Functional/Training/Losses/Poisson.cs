using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>Poisson</c> (keras/src/losses/losses.py <c>poisson</c>): the mean over the last axis of p - y log(p + 1e-7), reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis.
/// </summary>
public sealed class Poisson : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>poisson</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public Poisson(string? reduction = "sum_over_batch_size", string name = "poisson")
        : base(reduction, name, "poisson")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        return yPred.sub(yTrue.mul(yPred.add(Scalars.Of(SmoothedCrossentropy.Epsilon), Scalars.IntOne).log())).mean(new long[] { -1 });
    }

    private protected override Loss? Defaults() => new Poisson();
}
