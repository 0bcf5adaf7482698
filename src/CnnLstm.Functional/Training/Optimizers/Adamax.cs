using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's Adamax (keras/src/optimizers/adamax.py), Adam over the infinity norm: m = β₁ m + (1 - β₁) g;
/// u = max(β₂ u, |g|); p -= lr m / ((1 - β₁^t)(u + ε)).
/// </summary>
public sealed class Adamax : Optimizer
{
    private static readonly string[] Slots = { "momentum", "norm" };

    /// <summary>Creates Adamax with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the infinity norm, in [0, 1).</param>
    /// <param name="epsilon">Added to u; must be positive.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>adamax</c>, then <c>adamax_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public Adamax(LearningRateOrSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        Beta1 = beta1 >= 0 && beta1 < 1 ? beta1 : throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Adamax: beta1 must be in [0, 1).");
        Beta2 = beta2 >= 0 && beta2 < 1 ? beta2 : throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Adamax: beta2 must be in [0, 1).");
        Epsilon = epsilon > 0 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Adamax: epsilon must be positive.");
    }

    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the infinity norm.</summary>
    public double Beta2 { get; }

    /// <summary>Added to the norm.</summary>
    public double Epsilon { get; }

    /// <summary>momentum, norm, weight by weight as Keras builds them.</summary>
    protected override IReadOnlyList<string> SlotNames => Slots;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("beta_1", Beta1), ("beta_2", Beta2), ("epsilon", Epsilon));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var (m, u) = (state[0], state[1]);
        m.mul_(Scalars.Of(Beta1)).add_(grad, Scalars.Of(1 - Beta1));
        u.copy_(maximum(u.mul_(Scalars.Of(Beta2)), grad.abs()));
        var correction = 1f - MathF.Pow((float)Beta1, step);
        var denominator = Scalars.With(correction, c => u.add(Scalars.Of(Epsilon), Scalars.One).mul_(c));
        Scalars.With(-(float)LearningRate, negativeRate => variable.addcdiv_(m, denominator, negativeRate));
    }
}
