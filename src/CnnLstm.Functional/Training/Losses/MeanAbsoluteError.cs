using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>MeanAbsoluteError</c> (<c>mean_absolute_error</c>): the mean of |y - p| over the last axis, reduced by
/// <see cref="Loss.Reduction"/> (keras/src/losses/losses.py).
/// </summary>
public sealed class MeanAbsoluteError : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public MeanAbsoluteError(string? reduction = "sum_over_batch_size", string name = "mean_absolute_error")
        : base(reduction, name, "mean_absolute_error")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred) => (yPred - yTrue).abs().mean(new long[] { -1 });

    private protected override Loss? Defaults() => new MeanAbsoluteError();
}
