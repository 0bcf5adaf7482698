using KerasStyle.Layers;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Base of the Keras optimizers. Each keeps its per-weight slots (moments, velocities) and its step count
/// (<see cref="Iterations"/>), and applies Keras' update rule, not torch's.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Dictionary<LayerWeight, Tensor[]> slots = new();
    private double learningRate;

    /// <summary>Creates an optimizer.</summary>
    /// <param name="learningRate">The learning rate; must be positive and finite.</param>
    protected Optimizer(double learningRate)
    {
        this.learningRate = CheckRate(learningRate, nameof(learningRate));
    }

    /// <summary>The Keras name, e.g. <c>adam</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The learning rate; <c>ReduceLROnPlateau</c> changes it between epochs.</summary>
    public double LearningRate
    {
        get => learningRate;
        set => learningRate = CheckRate(value, nameof(LearningRate));
    }

    /// <summary>How many updates have been applied (Keras' <c>iterations</c>).</summary>
    public long Iterations { get; private set; }

    /// <summary>How many slot tensors each weight needs.</summary>
    private protected abstract int SlotCount { get; }

    private double CheckRate(double value, string argument) =>
        value > 0 && !double.IsInfinity(value)
            ? value
            : throw new ArgumentOutOfRangeException(argument, value, $"{GetType().Name}: {argument} must be positive and finite, but {value} was given.");

    /// <summary>Releases the slot tensors.</summary>
    public void Dispose()
    {
        foreach (var tensors in slots.Values)
        {
            foreach (var t in tensors)
            {
                t.Dispose();
            }
        }

        slots.Clear();
        GC.SuppressFinalize(this);
    }

    /// <summary>Applies one update to every trainable weight that has a gradient.</summary>
    internal void Step(IEnumerable<LayerWeight> weights)
    {
        Iterations++;
        using var noGrad = no_grad();
        foreach (var weight in weights)
        {
            var grad = weight.Variable.grad;
            if (grad is null)
            {
                continue;
            }

            if (!slots.TryGetValue(weight, out var state))
            {
                // Slots outlive the caller's per-batch dispose scope.
                state = Enumerable.Range(0, SlotCount).Select(_ => zeros_like(weight.Variable).DetachFromDisposeScope()).ToArray();
                slots[weight] = state;
            }

            using var scope = NewDisposeScope();
            Update(weight.Variable, grad, state, Iterations);
        }
    }

    /// <summary>The Keras update of one weight at step <paramref name="step"/> (counted from 1), in place.</summary>
    /// <param name="variable">The weight.</param>
    /// <param name="grad">Its gradient.</param>
    /// <param name="state">Its slots, updated in place.</param>
    /// <param name="step">The step number, from 1.</param>
    private protected abstract void Update(Tensor variable, Tensor grad, Tensor[] state, long step);
}
