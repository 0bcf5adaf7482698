using KerasStyle.Engine;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Training.Schedules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Base of the Keras optimizers. Each keeps its per-weight slots (moments, velocities) and its step count
/// (<see cref="Iterations"/>), and applies Keras' update rule, not torch's. <c>Fit</c> and
/// <see cref="ApplyGradients(IEnumerable{ValueTuple{Tensor, LayerWeight}})"/> (Keras' <c>apply_gradients</c>, for a
/// training loop of your own) run the same update.
/// To write an optimizer, subclass it as Keras' <c>Optimizer</c>: name the per-weight slots in
/// <see cref="SlotNames"/> (Keras' <c>build</c> with <c>add_optimizer_variables</c>; they start at zeros) and
/// override <see cref="Update"/> (Keras' <c>update_step</c>); such an optimizer works in <c>Compile</c>
/// (docs/training.md, "Writing your own optimizer").
/// </summary>
public abstract class Optimizer : IDisposable
{
    /// <summary>The slots of each variable, by its <see cref="LayerWeight"/> (Fit, saved state) or its <see cref="Parameter"/>.</summary>
    private readonly Dictionary<object, Tensor[]> slots = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Serializes steps, state export and import, and Dispose: one optimizer may serve two models (or a model and
    /// a model inside it) trained on two threads, and its slots must not be read while they are replaced or released.
    /// </summary>
    private readonly object gate = new();
    private double learningRate;
    private LearningRateSchedule? schedule;
    private double? stepRate;
    private bool disposed;

    /// <summary>Creates an optimizer.</summary>
    /// <param name="learningRate">The learning rate; must be positive and finite.</param>
    protected Optimizer(double learningRate)
    {
        this.learningRate = CheckRate(learningRate, nameof(learningRate));
    }

    /// <summary>Creates an optimizer with a number or a <see cref="Schedules.LearningRateSchedule"/> (Keras' <c>learning_rate</c>).</summary>
    /// <param name="learningRate">A positive, finite rate, or a schedule.</param>
    protected Optimizer(LearningRateOrSchedule learningRate)
        : this(learningRate.Schedule is null ? learningRate.Value : 1.0)
    {
        schedule = learningRate.Schedule;
    }

    /// <summary>The Keras name, e.g. <c>adam</c>; by default the class name in snake case.</summary>
    public virtual string Name => NameScope.ToSnakeCase(GetType().Name);

    /// <summary>
    /// The learning rate (Keras' <c>optimizer.learning_rate</c>); <c>ReduceLROnPlateau</c> changes it between epochs.
    /// With a <see cref="Schedule"/>, its value at <see cref="Iterations"/> (during an update, at the iterations before
    /// it, as Keras), and it cannot be set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a rate that is not positive and finite.</exception>
    /// <exception cref="InvalidOperationException">Set while the optimizer has a schedule (Keras' TypeError).</exception>
    public double LearningRate
    {
        get => schedule is null ? learningRate : stepRate ?? schedule.Call(Iterations);
        set => learningRate = schedule is null ? CheckRate(value, nameof(LearningRate))
            : throw new InvalidOperationException("This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` constructor argument, hence its learning rate is not settable. If you need the learning rate to be settable, you should instantiate the optimizer with a float `learning_rate` argument.");
    }

    /// <summary>
    /// The learning-rate schedule, or null for a fixed rate. Setting one replaces the rate from then on, as Keras'
    /// <c>optimizer.learning_rate = schedule</c>; it cannot be removed.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public LearningRateSchedule? Schedule
    {
        get => schedule;
        set
        {
            lock (gate)
            {
                schedule = value ?? throw new ArgumentNullException(nameof(value), $"{GetType().Name}: a schedule cannot be removed; set LearningRate on an optimizer created with a number.");
            }
        }
    }

    /// <summary>Fixes this update's rate (Keras evaluates a schedule at the iterations before the update), then counts the update.</summary>
    private void BeginStep()
    {
        stepRate = schedule?.Call(Iterations);
        Iterations++;
    }

    /// <summary>How many updates have been applied (Keras' <c>iterations</c>).</summary>
    public long Iterations { get; private set; }

    /// <summary>
    /// The Keras names of the per-weight slots, in Keras' order (Adam: <c>momentum</c>, <c>velocity</c>); empty (the
    /// default) when the update needs none (SGD without momentum). Each weight gets one tensor of zeros shaped like
    /// it per name on its first update, as Keras' <c>build</c> with <c>add_optimizer_variables</c>; saved with the
    /// model's optimizer state.
    /// </summary>
    protected virtual IReadOnlyList<string> SlotNames => Array.Empty<string>();

    /// <summary>The slot names, for the saving code.</summary>
    internal IReadOnlyList<string> KerasSlotNames => SlotNames;

    /// <summary>
    /// How many of the first slots Keras creates weight by weight (Adam's momentum and velocity: m0, v0, m1, v1...);
    /// each later slot is created for every weight in turn (Adam's velocity_hat, RMSprop's momentum), as Keras'
    /// <c>add_optimizer_variables</c> calls in <c>build</c>.
    /// </summary>
    private protected virtual int InterleavedSlots => SlotNames.Count;

    /// <summary>
    /// The value each slot starts at (Keras' <c>add_optimizer_variables</c> initializer): 0 by default; Adagrad's and
    /// Ftrl's accumulator start at <c>initial_accumulator_value</c>.
    /// </summary>
    /// <param name="slot">The slot's index in <see cref="SlotNames"/>.</param>
    private protected virtual double SlotInitialValue(int slot) => 0;

    /// <summary>
    /// The optimizer's own scalar variables that Keras saves after every slot (Nadam's <c>u_product</c>), in Keras'
    /// order; empty by default. Read with the state's lock held.
    /// </summary>
    private protected virtual float[] ExtraVariables
    {
        get => Array.Empty<float>();
        set => _ = value;
    }

    /// <summary>How many scalar variables Keras saves after the slots (see <see cref="ExtraVariables"/>).</summary>
    internal int KerasExtraVariableCount => ExtraVariables.Length;

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
            return new OptimizerState(Iterations, LearningRate, null) { Scheduled = schedule is not null };
        }

        var values = weights.Select(w => slots.TryGetValue(w, out var state)
            ? state.Select(w.ToKerasArray).ToArray()
            : SlotNames.Select((_, s) => new WeightArray(w.Shape.ToArray(), Enumerable.Repeat((float)SlotInitialValue(s), checked((int)w.Count)).ToArray())).ToArray()).ToArray();
        return new OptimizerState(Iterations, LearningRate, values, InterleavedSlots, ExtraVariables.ToArray()) { Scheduled = schedule is not null };
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
        if (schedule is null)
        {
            LearningRate = state.LearningRate;
        }

        if (KerasExtraVariableCount > 0)
        {
            // A state saved before the first step has none: the optimizer restarts them.
            ExtraVariables = state.Extras?.ToArray() ?? Array.Empty<float>();
        }

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

    /// <summary>Applies one update to every trainable weight that has a gradient (the <c>Fit</c> step).</summary>
    /// <exception cref="ObjectDisposedException">The optimizer has been disposed.</exception>
    internal void Step(IEnumerable<LayerWeight> weights)
    {
        lock (gate)
        {
            ThrowIfDisposed();
            BeginStep();
            using var noGrad = no_grad();
            foreach (var weight in weights)
            {
                using var scope = NewDisposeScope();
                var dense = weight.Variable.grad;
                var rows = weight.RowGradient();
                if (dense is not null || rows is not null)
                {
                    UpdateWeight(weight, weight.Variable, dense, rows, () => weight.DenseGradient(dense, rows)!);
                }
            }

            stepRate = null;
        }
    }

    /// <summary>
    /// Keras' <c>optimizer.apply_gradients(zip(grads, vars))</c>: one update of each model weight by its gradient,
    /// with the same rule as <c>Fit</c>'s step; slots are made (zeros) on a weight's first update and
    /// <see cref="Iterations"/> grows by one per call. Pairs with a null gradient are skipped (Keras warns). Every
    /// pair is checked before anything changes. Unlike Keras, which refuses variables it was not built with, a
    /// weight first seen later gets fresh slots.
    /// </summary>
    /// <param name="gradientsAndVariables">(gradient, weight) pairs; a gradient has its weight's shape.</param>
    /// <exception cref="ArgumentNullException">A null list or weight.</exception>
    /// <exception cref="ArgumentException">Every gradient is null (Keras: "No gradients provided for any variable"), a
    /// gradient whose shape is not its weight's, or a weight given twice.</exception>
    /// <exception cref="ObjectDisposedException">The optimizer has been disposed.</exception>
    public void ApplyGradients(IEnumerable<(Tensor? Gradient, LayerWeight Variable)> gradientsAndVariables)
    {
        ArgumentNullException.ThrowIfNull(gradientsAndVariables);
        Apply(gradientsAndVariables.Select(p => (p.Gradient, (object?)p.Variable, (Tensor?)p.Variable?.Variable, p.Variable?.FullName)).ToArray());
    }

    /// <summary>
    /// <see cref="ApplyGradients(IEnumerable{ValueTuple{Tensor, LayerWeight}})"/> for TorchSharp parameters (a
    /// training loop over your own <see cref="Parameter"/>s, or a module's <c>parameters()</c>).
    /// </summary>
    /// <param name="gradientsAndVariables">(gradient, parameter) pairs.</param>
    /// <exception cref="ArgumentNullException">A null list or parameter.</exception>
    /// <exception cref="ArgumentException">As the weight overload.</exception>
    /// <exception cref="ObjectDisposedException">The optimizer has been disposed.</exception>
    public void ApplyGradients(IEnumerable<(Tensor? Gradient, Parameter Variable)> gradientsAndVariables)
    {
        ArgumentNullException.ThrowIfNull(gradientsAndVariables);
        Apply(gradientsAndVariables.Select(p => (p.Gradient, (object?)p.Variable, (Tensor?)p.Variable, p.Variable?.name)).ToArray());
    }

    /// <summary>Keras' <c>optimizer.apply(grads, vars)</c>: <see cref="ApplyGradients(IEnumerable{ValueTuple{Tensor, LayerWeight}})"/> of the two lists zipped.</summary>
    /// <param name="gradients">One gradient (or null) per weight.</param>
    /// <param name="variables">The weights.</param>
    /// <exception cref="ArgumentException">Lists of different lengths, or as <see cref="ApplyGradients(IEnumerable{ValueTuple{Tensor, LayerWeight}})"/>.</exception>
    public void Apply(IEnumerable<Tensor?> gradients, IEnumerable<LayerWeight> variables) => ApplyGradients(Zip(gradients, variables));

    /// <summary>Keras' <c>optimizer.apply(grads, vars)</c> for TorchSharp parameters.</summary>
    /// <param name="gradients">One gradient (or null) per parameter.</param>
    /// <param name="variables">The parameters.</param>
    /// <exception cref="ArgumentException">Lists of different lengths, or as <see cref="ApplyGradients(IEnumerable{ValueTuple{Tensor, Parameter}})"/>.</exception>
    public void Apply(IEnumerable<Tensor?> gradients, IEnumerable<Parameter> variables) => ApplyGradients(Zip(gradients, variables));

    private static IEnumerable<(Tensor?, T)> Zip<T>(IEnumerable<Tensor?> gradients, IEnumerable<T> variables)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(variables);
        var (g, v) = (gradients.ToArray(), variables.ToArray());
        return g.Length == v.Length ? g.Zip(v)
            : throw new ArgumentException($"Apply: {g.Length} gradients for {v.Length} variables; give one gradient per variable.", nameof(gradients));
    }

    private void Apply((Tensor? Gradient, object? Key, Tensor? Variable, string? Label)[] pairs)
    {
        for (var i = 0; i < pairs.Length; i++)
        {
            var (gradient, key, variable, label) = pairs[i];
            if (key is null || variable is null)
            {
                throw new ArgumentNullException(nameof(pairs), $"ApplyGradients: variable {i} is null.");
            }

            if (gradient is not null && !gradient.shape.SequenceEqual(variable.shape))
            {
                throw new ArgumentException($"ApplyGradients: the gradient of '{label}' has shape ({string.Join(", ", gradient.shape)}) but the variable has shape ({string.Join(", ", variable.shape)}); they must be equal.", "gradientsAndVariables");
            }
        }

        if (pairs.Select(p => p.Key).Distinct(ReferenceEqualityComparer.Instance).Count() != pairs.Length)
        {
            throw new ArgumentException("ApplyGradients: a variable is given twice; give each once, with its summed gradient.", "gradientsAndVariables");
        }

        if (pairs.Length > 0 && pairs.All(p => p.Gradient is null))
        {
            throw new ArgumentException("ApplyGradients: no gradients provided for any variable (as Keras).", "gradientsAndVariables");
        }

        lock (gate)
        {
            ThrowIfDisposed();
            if (pairs.Length == 0)
            {
                // As Keras' apply: an empty list is a no-op.
                return;
            }

            BeginStep();
            using var noGrad = no_grad();
            foreach (var (gradient, key, variable, _) in pairs.Where(p => p.Gradient is not null))
            {
                using var scope = NewDisposeScope();
                var dense = gradient!.detach().to(variable!.dtype, variable.device);
                UpdateWeight(key!, variable, dense, null, () => dense);
            }

            // As Keras' apply: a model weight's constraint is assigned after the updates.
            foreach (var (_, key, _, _) in pairs.Where(p => p.Gradient is not null))
            {
                (key as LayerWeight)?.ApplyConstraint();
            }

            stepRate = null;
        }
    }

    /// <summary>One weight's update, shared by <c>Fit</c>'s step and <see cref="ApplyGradients(IEnumerable{ValueTuple{Tensor, LayerWeight}})"/>: its slots (made on first use), then the update by rows where the optimizer has one, else <see cref="Update"/>.</summary>
    private void UpdateWeight(object key, Tensor variable, Tensor? dense, (Tensor Ids, Tensor Grad)? rows, Func<Tensor> denseGradient)
    {
        if (!slots.TryGetValue(key, out var state))
        {
            // Slots outlive the caller's per-batch dispose scope.
            state = Enumerable.Range(0, SlotNames.Count).Select(s => SlotInitialValue(s) == 0 ? zeros_like(variable).DetachFromDisposeScope()
                : Scalars.With(SlotInitialValue(s), value => full_like(variable, value)).DetachFromDisposeScope()).ToArray();
            slots[key] = state;
        }

        if (dense is null && rows is { } r && UpdateByRows(variable, r.Ids, r.Grad, state, Iterations))
        {
            return;
        }

        Update(variable, denseGradient(), state, Iterations);
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

    /// <summary>
    /// The update of one weight at step <paramref name="step"/> (counted from 1), in place (Keras' <c>update_step</c>):
    /// change <paramref name="variable"/> and <paramref name="state"/> with in-place TorchSharp operations
    /// (<c>sub_</c>, <c>mul_</c>, <c>add_</c>...). It runs under <c>no_grad</c>, in a dispose scope that frees the
    /// temporaries; read the rate from <see cref="LearningRate"/>.
    /// </summary>
    /// <param name="variable">The weight.</param>
    /// <param name="grad">Its gradient, the weight's shape.</param>
    /// <param name="state">Its slots, one per <see cref="SlotNames"/> entry, in that order, updated in place.</param>
    /// <param name="step">The step number, from 1 (<see cref="Iterations"/> after this step's increment).</param>
    protected abstract void Update(Tensor variable, Tensor grad, Tensor[] state, long step);

    /// <summary>
    /// The Keras config (<c>get_config</c>): <c>name</c>, <c>learning_rate</c> and Keras' base arguments at the values
    /// this library implements (no weight decay, clipping or EMA), then the optimizer's own arguments. A subclass
    /// with arguments adds them to <c>base.GetConfig()</c>; the factory registered with
    /// <see cref="CustomObjects.Register(string, Func{KerasStyle.Saving.LayerConfig, Optimizer})"/> reads it back.
    /// </summary>
    public virtual JsonObject GetConfig() => GetConfigBase();

    private JsonObject GetConfigBase() => new()
    {
        ["name"] = Name,
        ["learning_rate"] = schedule?.Serialize() ?? (JsonNode)LearningRate,
        ["weight_decay"] = null,
        ["clipnorm"] = null,
        ["global_clipnorm"] = null,
        ["clipvalue"] = null,
        ["use_ema"] = false,
        ["ema_momentum"] = 0.99,
        ["ema_overwrite_frequency"] = null,
    };

    /// <summary>Keras' base config (<see cref="GetConfig()"/>) followed by <paramref name="arguments"/>, for a subclass's <c>GetConfig</c>.</summary>
    /// <param name="arguments">The optimizer's own (key, value) pairs, in Keras' order.</param>
    protected JsonObject GetConfig(params (string Key, JsonNode? Value)[] arguments)
    {
        var config = GetConfigBase();
        foreach (var (key, value) in arguments)
        {
            config[key] = value;
        }

        return config;
    }

    /// <summary>The optimizer as a compile config holds it: a <c>keras.optimizers</c> class, or a user's class by its class name, as a custom layer.</summary>
    internal JsonObject Serialize()
    {
        var builtIn = GetType().Assembly == typeof(Optimizer).Assembly;
        return new JsonObject
        {
            ["module"] = builtIn ? "keras.optimizers" : null,
            ["class_name"] = GetType().Name,
            ["config"] = GetConfig(),
            ["registered_name"] = builtIn ? null : GetType().Name,
        };
    }

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
