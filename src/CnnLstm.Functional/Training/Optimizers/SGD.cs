using KerasStyle.Engine;
using System.Text.Json.Nodes;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras' SGD: with momentum, v = momentum v - lr g, then p += v (or, with Nesterov, p += momentum v - lr g);
/// without momentum, p -= lr g.
/// </summary>
public sealed class SGD : Optimizer
{
    private static readonly string[] MomentumSlot = { "momentum" };

    /// <summary>Creates SGD with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate, or a <see cref="LearningRateSchedule"/> (Keras default 0.01).</param>
    /// <param name="momentum">Momentum, in [0, 1).</param>
    /// <param name="nesterov">Whether to use Nesterov momentum.</param>
    public SGD(LearningRateOrSchedule? learningRate = null, double momentum = 0.0, bool nesterov = false)
        : base(learningRate ?? 0.01)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "SGD: momentum must be in [0, 1).");
        }

        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <inheritdoc/>
    public override string Name => "sgd";

    /// <summary>Momentum.</summary>
    public double Momentum { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <summary>Keras keeps a <c>momentum</c> slot only when momentum is used.</summary>
    protected override IReadOnlyList<string> SlotNames => Momentum == 0 ? Array.Empty<string>() : MomentumSlot;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("momentum", Momentum), ("nesterov", Nesterov));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        // The rate may change between steps (schedules), so its Scalar lives for this call only (Engine/Scalars.cs).
        Scalars.With(-LearningRate, negativeRate =>
        {
            if (Momentum == 0)
            {
                return variable.add_(grad, negativeRate);
            }

            var velocity = state[0];
            velocity.mul_(Scalars.Of(Momentum)).add_(grad, negativeRate);
            return Nesterov
                ? variable.add_(velocity, Scalars.Of(Momentum)).add_(grad, negativeRate)
                : variable.add_(velocity, Scalars.One);
        });
    }
}
