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

    /// <summary>
    /// Serializes steps, state export and import, and Dispose: one optimizer may serve two models (or a model and
    /// a model inside it) trained on two threads, and its slots must not be read while they are replaced or released.
    /// </summary>
    private readonly object gate = new();
    private double learningRate;
    private bool disposed;

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

    /// <summary>
    /// The Keras names of the per-weight slots, in Keras' order (Adam: <c>momentum</c>, <c>velocity</c>); empty when
    /// the update needs none (SGD without momentum).
    /// </summary>
    private protected abstract IReadOnlyList<string> SlotNames { get; }

    /// <summary>The slot names, for the saving code.</summary>
    internal IReadOnlyList<string> KerasSlotNames => SlotNames;

    /// <summary>
    /// How many of the first slots Keras creates weight by weight (Adam's momentum and velocity: m0, v0, m1, v1...);
    /// each later slot is created for every weight in turn (Adam's velocity_hat, RMSprop's momentum), as Keras'
    /// <c>add_optimizer_variables</c> calls in <c>build</c>.
    /// </summary>
    private protected virtual int InterleavedSlots => SlotNames.Count;

    /// <summary>The position of slot <paramref name="slot"/> of weight <paramref name="weight"/> among Keras' optimizer variables after iterations and learning_rate.</summary>
    internal int KerasVariableIndex(int weight, int slot, int weights) => OptimizerState.KerasIndex(weight, slot, weights, InterleavedSlots);

    private double CheckRate(double value, string argument) =>
        value > 0 && !double.IsInfinity(value)
            ? value
            : throw new ArgumentOutOfRangeException(argument, value, $"{GetType().Name}: {argument} must be positive and finite, but {value} was given.");

    /// <summary>Releases the slot tensors; a step running on another thread finishes first, and later steps throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            ClearSlots();
        }

        GC.SuppressFinalize(this);
    }

    private void ThrowIfDisposed()
    {
        if (disposed)
        {
            throw new ObjectDisposedException(GetType().Name, $"Optimizer '{Name}' has been disposed (with the model that created it, or by its owner); its slots are released. Compile with a new optimizer.");
        }
    }

    /// <summary>
    /// The state Keras saves as <c>optimizer.variables</c>: the step count, the learning rate and, once the optimizer
    /// has been used, every slot of every weight in <paramref name="weights"/> (in that order, Keras layout). A weight
    /// without slots yet gets zeros, as Keras creates all slots when it builds the optimizer.
    /// </summary>
    /// <param name="weights">The model's trainable weights, in model order.</param>
    internal OptimizerState ExportState(IReadOnlyList<LayerWeight> weights)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            return ExportStateLocked(weights);
        }
    }

    private OptimizerState ExportStateLocked(IReadOnlyList<LayerWeight> weights)
    {
        var built = SlotNames.Count > 0 && (Iterations > 0 || slots.Count > 0);
        if (!built)
        {
            return new OptimizerState(Iterations, LearningRate, null);
        }

        var values = weights.Select(w => slots.TryGetValue(w, out var state)
            ? state.Select(w.ToKerasArray).ToArray()
            : SlotNames.Select(_ => new WeightArray(w.Shape.ToArray(), new float[w.Count])).ToArray()).ToArray();
        return new OptimizerState(Iterations, LearningRate, values, InterleavedSlots);
    }

    /// <summary>
    /// Replaces the step count, learning rate and slots with saved ones. The caller has checked that
    /// <paramref name="state"/> has one array per slot name for each weight, in Keras layout and shape.
    /// </summary>
    /// <param name="weights">The model's trainable weights, in the order the state was saved.</param>
    /// <param name="state">The saved state.</param>
    internal void ImportState(IReadOnlyList<LayerWeight> weights, OptimizerState state)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            ImportStateLocked(weights, state);
        }
    }

    private void ImportStateLocked(IReadOnlyList<LayerWeight> weights, OptimizerState state)
    {
        ClearSlots();
        Iterations = state.Iterations;
        LearningRate = state.LearningRate;
        if (state.Slots is null)
        {
            return;
        }

        for (var i = 0; i < weights.Count; i++)
        {
            var weight = weights[i];
            slots[weight] = state.Slots[i].Select(v => weight.FromKerasArray(v).DetachFromDisposeScope()).ToArray();
        }
    }

    /// <summary>Applies one update to every trainable weight that has a gradient.</summary>
    /// <exception cref="ObjectDisposedException">The optimizer has been disposed.</exception>
    internal void Step(IEnumerable<LayerWeight> weights)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            StepLocked(weights);
        }
    }

    private void StepLocked(IEnumerable<LayerWeight> weights)
    {
        Iterations++;
        using var noGrad = no_grad();
        foreach (var weight in weights)
        {
            using var scope = NewDisposeScope();
            var dense = weight.Variable.grad;
            var rows = weight.RowGradient();
            if (dense is null && rows is null)
            {
                continue;
            }

            if (!slots.TryGetValue(weight, out var state))
            {
                // Slots outlive the caller's per-batch dispose scope.
                state = Enumerable.Range(0, SlotNames.Count).Select(_ => zeros_like(weight.Variable).DetachFromDisposeScope()).ToArray();
                slots[weight] = state;
            }

            if (dense is null && rows is { } r && UpdateByRows(weight.Variable, r.Ids, r.Grad, state, Iterations))
            {
                continue;
            }

            Update(weight.Variable, weight.DenseGradient(dense, rows)!, state, Iterations);
        }
    }

    /// <summary>
    /// The same update as <see cref="Update"/> for a gradient given by rows (every other row's gradient is zero),
    /// without building the dense gradient; returns false where the optimizer has no such path.
    /// </summary>
    /// <param name="variable">The weight, (rows, width).</param>
    /// <param name="ids">Distinct row ids.</param>
    /// <param name="rowGrad">The gradient of each of those rows.</param>
    /// <param name="state">Its slots, updated in place.</param>
    /// <param name="step">The step number, from 1.</param>
    private protected virtual bool UpdateByRows(Tensor variable, Tensor ids, Tensor rowGrad, Tensor[] state, long step) => false;

    /// <summary>The Keras update of one weight at step <paramref name="step"/> (counted from 1), in place.</summary>
    /// <param name="variable">The weight.</param>
    /// <param name="grad">Its gradient.</param>
    /// <param name="state">Its slots, updated in place.</param>
    /// <param name="step">The step number, from 1.</param>
    private protected abstract void Update(Tensor variable, Tensor grad, Tensor[] state, long step);

    private void ClearSlots()
    {
        foreach (var tensors in slots.Values)
        {
            foreach (var t in tensors)
            {
                t.Dispose();
            }
        }

        slots.Clear();
    }
}
