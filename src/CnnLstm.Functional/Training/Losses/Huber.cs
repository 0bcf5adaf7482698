using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>Huber</c> (keras/src/losses/losses.py <c>huber</c>): with e = p - y, 0.5 e² where |e| ≤ delta and
/// delta |e| - 0.5 delta² elsewhere, the mean over the last axis, reduced by <see cref="Loss.Reduction"/>.
/// Targets and predictions are (batch, ..., units); the per-entry loss drops the last axis. Its default name is
/// <c>huber_loss</c>; a compile config names the function <c>huber</c>.
/// </summary>
public sealed class Huber : Loss
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="delta">Where the loss turns from quadratic to linear (Keras' default 1.0); Keras does not check it, nor does this.</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name (Keras' default <c>huber_loss</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public Huber(double delta = 1.0, string? reduction = "sum_over_batch_size", string name = "huber_loss")
        : base(reduction, name, "huber_loss")
    {
        Delta = delta;
    }

    /// <summary>Where the loss turns from quadratic to linear.</summary>
    public double Delta { get; }

    internal override string KerasFunction => "huber";

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["delta"] = Delta;
        return config;
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var error = yPred.sub(yTrue);
        var absolute = error.abs();
        var delta = (float)Delta;
        var quadratic = error.pow(Scalars.IntTwo).mul(Scalars.Of(0.5));
        var linear = absolute.mul(Scalars.Of(delta)).sub(Scalars.Of(0.5f * delta * delta));
        return where(absolute.le(Scalars.Of(delta)), quadratic, linear).mean(new long[] { -1 });
    }

    private protected override Loss? Defaults() => new Huber();
}
