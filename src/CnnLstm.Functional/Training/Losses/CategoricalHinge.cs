using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>CategoricalHinge</c> (keras/src/losses/losses.py <c>categorical_hinge</c>): max(max((1 - y) p) - sum(y p) + 1, 0) over the last axis (one-hot targets), reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis.
/// </summary>
public sealed class CategoricalHinge : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>categorical_hinge</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public CategoricalHinge(string? reduction = "sum_over_batch_size", string name = "categorical_hinge")
        : base(reduction, name, "categorical_hinge")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var positive = yTrue.mul(yPred).sum(new long[] { -1 });
        var negative = Scalars.OneMinus(yTrue).mul(yPred).amax(new long[] { -1 });
        return negative.sub(positive).add(Scalars.One, Scalars.IntOne).clamp_min(Scalars.Zero);
    }

    private protected override Loss? Defaults() => new CategoricalHinge();
}
