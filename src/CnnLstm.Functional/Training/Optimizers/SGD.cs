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
    /// <param name="momentum">Momentum, in [0, 1] (Keras' check in keras/src/optimizers/sgd.py: a float, neither below 0
    /// nor above 1; 1 keeps the whole velocity). NaN, which that check lets through and which would make every weight
    /// NaN, is refused.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives <c>sgd</c>, then <c>sgd_1</c>, ... (<see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">Momentum below 0, above 1 or NaN.</exception>
    /// <exception cref="ArgumentException">A name with a <c>/</c>.</exception>
    public SGD(LearningRateOrSchedule? learningRate = null, double momentum = 0.0, bool nesterov = false, string? name = null)
        : base(learningRate ?? 0.01, name)
    {
        if (!(momentum >= 0 && momentum <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "SGD: momentum must be a float between [0, 1] (as Keras: \"`momentum` must be a float between [0, 1].\").");
        }

        Momentum = momentum;
        Nesterov = nesterov;
    }

    /// <summary>Momentum.</summary>
    public double Momentum { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <summary>Keras keeps a <c>momentum</c> slot only when momentum is used.</summary>
    protected override IReadOnlyList<string> SlotNames => Momentum == 0 ? Array.Empty<string>() : MomentumSlot;

    /// <inheritdoc/>
    /// <remarks><c>momentum</c> is written as Python writes a float (<c>0.0</c>, <c>1.0</c>): Keras 3's SGD refuses an integer.</remarks>
    public override JsonObject GetConfig() => GetConfig(("momentum", PythonFloatJson(Momentum)), ("nesterov", Nesterov));

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
