using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's Adadelta (keras/src/optimizers/adadelta.py): a = ρ a + (1 - ρ) g²;
/// Δ = -√(d + ε) g / √(a + ε); d = ρ d + (1 - ρ) Δ²; p += lr Δ.
/// </summary>
public sealed class Adadelta : Optimizer
{
    private static readonly string[] Slots = { "accumulated_grad", "accumulated_delta_var" };

    /// <summary>Creates Adadelta with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001; the paper's form is 1.0).</param>
    /// <param name="rho">The decay rate, in [0, 1] (Keras default 0.95).</param>
    /// <param name="epsilon">Added under both square roots; must be positive.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>adadelta</c>, then <c>adadelta_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public Adadelta(LearningRateOrSchedule? learningRate = null, double rho = 0.95, double epsilon = 1e-7, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        Rho = rho >= 0 && rho <= 1 ? rho : throw new ArgumentOutOfRangeException(nameof(rho), rho, "Adadelta: rho must be in [0, 1].");
        Epsilon = epsilon > 0 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Adadelta: epsilon must be positive.");
    }

    /// <summary>The decay rate.</summary>
    public double Rho { get; }

    /// <summary>Added under the square roots.</summary>
    public double Epsilon { get; }

    /// <summary>accumulated_grad, accumulated_delta_var, weight by weight as Keras builds them.</summary>
    protected override IReadOnlyList<string> SlotNames => Slots;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("rho", Rho), ("epsilon", Epsilon));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var (grads, deltas) = (state[0], state[1]);
        grads.mul_(Scalars.Of(Rho)).addcmul_(grad, grad, Scalars.Of(1 - Rho));
        var delta = deltas.add(Scalars.Of(Epsilon), Scalars.One).sqrt_().mul_(grad)
            .div_(grads.add(Scalars.Of(Epsilon), Scalars.One).sqrt_()).neg_();
        deltas.mul_(Scalars.Of(Rho)).addcmul_(delta, delta, Scalars.Of(1 - Rho));
        Scalars.With((float)LearningRate, rate => variable.add_(delta, rate));
    }
}
