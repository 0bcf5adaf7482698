using KerasStyle.Engine;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's RMSprop (keras/src/optimizers/rmsprop.py): a = rho a + (1 - rho) g²; centered, also
/// ḡ = rho ḡ + (1 - rho) g and the denominator a - ḡ²; increment = lr g / √(denominator + ε) (ε inside the square
/// root, as Keras 3 and tf.keras 2's optimizers; Keras 2.0 to 2.3 added it outside); with momentum,
/// m = momentum m + increment and p -= m, otherwise p -= increment.
/// </summary>
public sealed class RMSprop : Optimizer
{
    /// <summary>Creates RMSprop with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="rho">Decay of the squared-gradient average, in [0, 1).</param>
    /// <param name="momentum">Momentum, in [0, 1); 0 (the default) keeps no momentum slot, as Keras.</param>
    /// <param name="epsilon">Added to the average of squares under the square root; must be positive.</param>
    /// <param name="centered">Whether to divide by the variance (average of squares minus the squared average gradient) instead.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public RMSprop(double learningRate = 0.001, double rho = 0.9, double epsilon = 1e-7, double momentum = 0.0, bool centered = false)
        : base(learningRate)
    {
        if (!(rho >= 0 && rho < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rho), rho, "RMSprop: rho must be in [0, 1).");
        }

        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "RMSprop: epsilon must be positive.");
        }

        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "RMSprop: momentum must be in [0, 1).");
        }

        Rho = rho;
        Epsilon = epsilon;
        Momentum = momentum;
        Centered = centered;
        SlotNames = new[] { "velocity" }.Concat(momentum > 0 ? new[] { "momentum" } : Array.Empty<string>())
            .Concat(centered ? new[] { "average_gradient" } : Array.Empty<string>()).ToArray();
    }

    /// <inheritdoc/>
    public override string Name => "rmsprop";

    /// <summary>Decay of the squared-gradient average.</summary>
    public double Rho { get; }

    /// <summary>Added under the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Momentum (0: none).</summary>
    public double Momentum { get; }

    /// <summary>Whether the update divides by the centered second moment.</summary>
    public bool Centered { get; }

    /// <summary>velocity, then momentum (when used), then average_gradient (when centered), as Keras builds them.</summary>
    protected override IReadOnlyList<string> SlotNames { get; }

    /// <summary>Keras adds each slot kind for all weights before the next kind.</summary>
    private protected override int InterleavedSlots => 1;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("rho", Rho), ("momentum", Momentum), ("epsilon", Epsilon), ("centered", Centered));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var velocity = state[0];
        velocity.mul_(Scalars.Of(Rho)).addcmul_(grad, grad, Scalars.Of(1 - Rho));
        var denominator = velocity.add(Scalars.Of(Epsilon), Scalars.One);
        if (Centered)
        {
            var average = state[^1];
            average.mul_(Scalars.Of(Rho)).add_(grad, Scalars.Of(1 - Rho));
            denominator = (velocity - average.pow(Scalars.Two)).add(Scalars.Of(Epsilon), Scalars.One);
        }

        var increment = Scalars.With(LearningRate, rate => grad.mul(rate)).div_(denominator.sqrt_());
        if (Momentum > 0)
        {
            var m = state[1];
            m.mul_(Scalars.Of(Momentum)).add_(increment, Scalars.One);
            variable.sub_(m);
        }
        else
        {
            variable.sub_(increment);
        }
    }
}
