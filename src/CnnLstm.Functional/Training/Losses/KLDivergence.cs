using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>KLDivergence</c> (keras/src/losses/losses.py <c>kl_divergence</c>): the sum over the last axis of y log(y / p), both clipped to [1e-7, 1], reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis.
/// </summary>
public sealed class KLDivergence : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>kl_divergence</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public KLDivergence(string? reduction = "sum_over_batch_size", string name = "kl_divergence")
        : base(reduction, name, "kl_divergence")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var y = yTrue.clamp(Scalars.Of(SmoothedCrossentropy.Epsilon), Scalars.One);
        var p = yPred.clamp(Scalars.Of(SmoothedCrossentropy.Epsilon), Scalars.One);
        return y.mul(y.div(p).log()).sum(new long[] { -1 });
    }

    private protected override Loss? Defaults() => new KLDivergence();
}
