using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>Keras' RMSprop: a = rho a + (1 - rho) g²; p -= lr g / (√a + ε).</summary>
public sealed class RMSprop : Optimizer
{
    /// <summary>Creates RMSprop with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="rho">Decay of the squared-gradient average, in [0, 1).</param>
    /// <param name="epsilon">Added to √a; must be positive.</param>
    public RMSprop(double learningRate = 0.001, double rho = 0.9, double epsilon = 1e-7)
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

        Rho = rho;
        Epsilon = epsilon;
    }

    /// <inheritdoc/>
    public override string Name => "rmsprop";

    /// <summary>Decay of the squared-gradient average.</summary>
    public double Rho { get; }

    /// <summary>Added to √a.</summary>
    public double Epsilon { get; }

    private protected override IReadOnlyList<string> SlotNames { get; } = new[] { "velocity" };

    private protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var average = state[0];
        average.mul_(Rho).addcmul_(grad, grad, 1 - Rho);
        variable.addcdiv_(grad, average.sqrt().add_(Epsilon), -LearningRate);
    }
}
