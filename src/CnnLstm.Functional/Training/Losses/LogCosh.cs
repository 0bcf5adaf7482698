using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>LogCosh</c> (keras/src/losses/losses.py <c>log_cosh</c>): the mean over the last axis of log(cosh(p - y)), computed as x + softplus(-2x) - log 2 with x = p - y, reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis.
/// </summary>
public sealed class LogCosh : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>log_cosh</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public LogCosh(string? reduction = "sum_over_batch_size", string name = "log_cosh")
        : base(reduction, name, "log_cosh")
    {
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var x = yPred.sub(yTrue);
        return x.add(Scalars.Softplus(x.mul(Scalars.Of(-2.0))), Scalars.IntOne).sub(Scalars.Of(Math.Log(2.0))).mean(new long[] { -1 });
    }

    private protected override Loss? Defaults() => new LogCosh();
}
