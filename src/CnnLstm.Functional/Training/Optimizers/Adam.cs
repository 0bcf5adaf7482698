using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras' Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; lr_t = lr √(1 - b2^t) / (1 - b1^t);
/// p -= lr_t m / (√v + ε); with <c>amsgrad</c>, v̂ = max(v̂, v) replaces v in the last step. Unlike torch.optim.Adam, ε
/// is added to √v (not to √v̂) and defaults to 1e-7. Keras 3's keras/src/optimizers/adam.py.
/// </summary>
public class Adam : Optimizer
{
    /// <summary>Creates Adam with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate, or a <see cref="LearningRateSchedule"/> (Keras default 0.001).</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to √v; must be positive.</param>
    /// <param name="amsgrad">Whether to use the running maximum of v (AMSGrad), kept in a third slot <c>velocity_hat</c>.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>adam</c>, then <c>adam_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public Adam(LearningRateOrSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        if (!(beta1 >= 0 && beta1 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Adam: beta1 must be in [0, 1).");
        }

        if (!(beta2 >= 0 && beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Adam: beta2 must be in [0, 1).");
        }

        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Adam: epsilon must be positive.");
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        Amsgrad = amsgrad;
        SlotNames = amsgrad ? new[] { "momentum", "velocity", "velocity_hat" } : new[] { "momentum", "velocity" };
    }

    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>Added to √v.</summary>
    public double Epsilon { get; }

    /// <summary>Whether AMSGrad is used.</summary>
    public bool Amsgrad { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> SlotNames { get; }

    /// <summary>Keras creates momentum and velocity weight by weight, then velocity_hat for every weight.</summary>
    private protected override int InterleavedSlots => 2;

    private protected override bool UpdateByRows(Tensor variable, Tensor ids, Tensor rowGrad, Tensor[] state, long step)
    {
        var (m, v) = (state[0], state[1]);
        if (Amsgrad || !FusedAdam.SupportsRows(variable, ids, rowGrad, m, v))
        {
            return false;
        }

        FusedAdam.StepRows(variable, ids, rowGrad, m, v, Beta1, Beta2, LearningRateAt(step), Epsilon);
        return true;
    }

    /// <summary>
    /// lr √(1 - b2^t) / (1 - b1^t) in float32, as Keras 3 computes it from float32 variables: in double, 1 - 0.999^t
    /// differs from float32's by 1e-5 relative at t = 1, and the weights drift from Keras' by as much.
    /// </summary>
    private double LearningRateAt(long step)
    {
        var (beta1Power, beta2Power) = (MathF.Pow((float)Beta1, step), MathF.Pow((float)Beta2, step));
        return (float)LearningRate * MathF.Sqrt(1 - beta2Power) / (1 - beta1Power);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("beta_1", Beta1), ("beta_2", Beta2), ("epsilon", Epsilon), ("amsgrad", Amsgrad));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var (m, v) = (state[0], state[1]);
        var lrT = LearningRateAt(step);
        if (!Amsgrad && FusedAdam.Supports(variable, grad, m, v))
        {
            FusedAdam.Step(variable, grad, m, v, Beta1, Beta2, lrT, Epsilon);
            return;
        }

        m.mul_(Scalars.Of(Beta1)).add_(grad, Scalars.Of(1 - Beta1));
        v.mul_(Scalars.Of(Beta2)).addcmul_(grad, grad, Scalars.Of(1 - Beta2));
        if (Amsgrad)
        {
            v = state[2].copy_(maximum(state[2], v));
        }

        Scalars.With(-lrT, negativeRate => variable.addcdiv_(m, v.sqrt().add_(Scalars.Of(Epsilon), Scalars.One), negativeRate));
    }
}
