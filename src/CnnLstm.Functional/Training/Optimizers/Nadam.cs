using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's Nadam (keras/src/optimizers/nadam.py): Adam with Nesterov momentum and a momentum schedule
/// u_t = β₁ (1 - ½ · 0.96^t). Per step u_prod ← u_prod · u_t (kept across steps and saved after the slots, as Keras'
/// <c>u_product</c>); m = β₁ m + (1 - β₁) g; v = β₂ v + (1 - β₂) g²;
/// m̂ = u_{t+1} m / (1 - u_prod u_{t+1}) + (1 - u_t) g / (1 - u_prod); v̂ = v / (1 - β₂^t); p -= lr m̂ / (√v̂ + ε).
/// The schedule's scalars are computed in float32, as Keras does from float32 variables.
/// </summary>
public sealed class Nadam : Optimizer
{
    private static readonly string[] Slots = { "momentum", "velocity" };
    private float uProduct = 1f;
    private long uStep;

    /// <summary>Creates Nadam with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to √v̂; must be positive.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>nadam</c>, then <c>nadam_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public Nadam(LearningRateOrSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        Beta1 = beta1 >= 0 && beta1 < 1 ? beta1 : throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Nadam: beta1 must be in [0, 1).");
        Beta2 = beta2 >= 0 && beta2 < 1 ? beta2 : throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Nadam: beta2 must be in [0, 1).");
        Epsilon = epsilon > 0 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Nadam: epsilon must be positive.");
    }

    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>Added to √v̂.</summary>
    public double Epsilon { get; }

    /// <summary>momentum, velocity, weight by weight as Keras builds them.</summary>
    protected override IReadOnlyList<string> SlotNames => Slots;

    /// <summary>Keras' <c>u_product</c>, saved after every slot; an empty value (a state saved before the first step) restarts it at 1.</summary>
    private protected override float[] ExtraVariables
    {
        get => new[] { uProduct };
        set
        {
            uProduct = value.Length > 0 ? value[0] : 1f;
            uStep = Iterations;
        }
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("beta_1", Beta1), ("beta_2", Beta2), ("epsilon", Epsilon));

    /// <summary>
    /// <c>u_product</c> after <paramref name="steps"/> uninterrupted steps (the product of u_t for t = 1..steps, in float32
    /// as <see cref="Update"/> accumulates it): tf.keras 2.11+ does not save it in a <c>.h5</c> file.
    /// </summary>
    internal float UProductAfter(long steps)
    {
        var product = 1f;
        for (long t = 1; t <= steps && product != 0f; t++)
        {
            product *= U(t);
        }

        return product;
    }

    private float U(long t) => (float)Beta1 * (1f - (0.5f * MathF.Pow(0.96f, t)));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        if (step != uStep)
        {
            // Once per step, before the weights (Keras' _backend_update_step).
            uProduct *= U(step);
            uStep = step;
        }

        var (uT, uT1) = (U(step), U(step + 1));
        var (uProductT, uProductT1) = (uProduct, uProduct * U(step + 1));
        var beta2Power = MathF.Pow((float)Beta2, step);
        var (m, v) = (state[0], state[1]);
        m.mul_(Scalars.Of(Beta1)).add_(grad, Scalars.Of(1 - Beta1));
        v.mul_(Scalars.Of(Beta2)).addcmul_(grad, grad, Scalars.Of(1 - Beta2));
        var mHat = Scalars.With(uT1 / (1f - uProductT1), a => m.mul(a))
            .add_(grad, Scalars.Of((1f - uT) / (1f - uProductT)));
        var denominator = Scalars.With(1f - beta2Power, d => v.div(d)).sqrt_().add_(Scalars.Of(Epsilon), Scalars.One);
        Scalars.With(-(float)LearningRate, negativeRate => variable.addcdiv_(mHat, denominator, negativeRate));
    }
}
