using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>MeanSquaredError</c> (<c>mean_squared_error</c>): the mean of (y - p)² over the last axis, reduced by
/// <see cref="Loss.Reduction"/> (keras/src/losses/losses.py).
/// </summary>
public sealed class MeanSquaredError : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public MeanSquaredError(string? reduction = "sum_over_batch_size", string name = "mean_squared_error")
        : base(reduction, name, "mean_squared_error")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred) => (yPred - yTrue).pow(Scalars.Two).mean(new long[] { -1 });

    private protected override Loss? Defaults() => new MeanSquaredError();
}
