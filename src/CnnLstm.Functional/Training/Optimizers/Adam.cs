using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras' Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; lr_t = lr √(1 - b2^t) / (1 - b1^t);
/// p -= lr_t m / (√v + ε). Unlike torch.optim.Adam, ε is added to √v (not to √v̂) and defaults to 1e-7.
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>Creates Adam with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to √v; must be positive.</param>
    public Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7)
        : base(learningRate)
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
    }

    /// <inheritdoc/>
    public override string Name => "adam";

    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>Added to √v.</summary>
    public double Epsilon { get; }

    private protected override IReadOnlyList<string> SlotNames { get; } = new[] { "momentum", "velocity" };

    private protected override bool UpdateByRows(Tensor variable, Tensor ids, Tensor rowGrad, Tensor[] state, long step)
    {
        var (m, v) = (state[0], state[1]);
        if (!FusedAdam.SupportsRows(variable, ids, rowGrad, m, v))
        {
            return false;
        }

        FusedAdam.StepRows(variable, ids, rowGrad, m, v, Beta1, Beta2, LearningRateAt(step), Epsilon);
        return true;
    }

    private double LearningRateAt(long step) => LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, step)) / (1 - Math.Pow(Beta1, step));

    private protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var (m, v) = (state[0], state[1]);
        var lrT = LearningRateAt(step);
        if (FusedAdam.Supports(variable, grad, m, v))
        {
            FusedAdam.Step(variable, grad, m, v, Beta1, Beta2, lrT, Epsilon);
            return;
        }

        m.mul_(Beta1).add_(grad, 1 - Beta1);
        v.mul_(Beta2).addcmul_(grad, grad, 1 - Beta2);
        variable.addcdiv_(m, v.sqrt().add_(Epsilon), -lrT);
    }
}
