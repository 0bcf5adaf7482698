using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's Lion (keras/src/optimizers/lion.py): p -= lr · sign(β₁ m + (1 - β₁) g); then m = β₂ m + (1 - β₂) g.
/// </summary>
public sealed class Lion : Optimizer
{
    private static readonly string[] Slots = { "momentum" };

    /// <summary>Creates Lion with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="beta1">Weight of the momentum in the update's sign, in (0, 1] (Keras refuses others: the optimizer degenerates to SignSGD).</param>
    /// <param name="beta2">Decay of the momentum (Keras default 0.99).</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>lion</c>, then <c>lion_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public Lion(LearningRateOrSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.99, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        Beta1 = beta1 > 0 && beta1 <= 1 ? beta1
            : throw new ArgumentOutOfRangeException(nameof(beta1), beta1, $"Lion: beta_1 must be in the (0, 1] range; otherwise the optimizer degenerates to SignSGD. Received: beta_1={beta1}.");
        Beta2 = double.IsFinite(beta2) ? beta2 : throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Lion: beta_2 must be a finite number.");
    }

    /// <summary>Weight of the momentum in the update's sign.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the momentum.</summary>
    public double Beta2 { get; }

    /// <summary>One momentum per weight.</summary>
    protected override IReadOnlyList<string> SlotNames => Slots;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("beta_1", Beta1), ("beta_2", Beta2));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var m = state[0];
        var sign = m.mul(Scalars.Of(Beta1)).add_(grad, Scalars.Of(1 - Beta1)).sign_();
        Scalars.With(-(float)LearningRate, negativeRate => variable.add_(sign, negativeRate));
        m.mul_(Scalars.Of(Beta2)).add_(grad, Scalars.Of(1 - Beta2));
    }
}
