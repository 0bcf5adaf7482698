using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KerasStyle.Engine;
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
    private string name;
    private LearningRateSchedule? schedule;
    private double? stepRate;
    private bool disposed;
    private long rawIterations;
    private double? clipnorm;
    private double? clipvalue;
    private double? globalClipnorm;
    private bool useEma;
    private double emaMomentum = 0.99;
    private int? emaOverwriteFrequency;
    private int? gradientAccumulationSteps;
    private HashSet<object> excludedFromWeightDecay = new(ReferenceEqualityComparer.Instance);
    private Regex? excludedFromWeightDecayPattern;

    /// <summary>Creates an optimizer named as Keras names one created without a name (<see cref="Name"/>).</summary>
    /// <param name="learningRate">The learning rate; must be positive and finite.</param>
    protected Optimizer(double learningRate)
        : this(learningRate, null)
    {
    }

    /// <summary>Creates an optimizer.</summary>
    /// <param name="learningRate">The learning rate; must be positive and finite.</param>
    /// <param name="name">Keras' <c>name</c>: null for the class's name in snake case made unique (<see cref="Name"/>).</param>
    /// <exception cref="ArgumentException">A name with a <c>/</c> (Keras' ValueError).</exception>
    protected Optimizer(double learningRate, string? name)
    {
        if (name is not null && name.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"{GetType().Name}: argument `name` must be a string and cannot contain character `/` (as Keras). Received: name={name}", nameof(name));
        }

        this.learningRate = CheckRate(learningRate, nameof(learningRate));
        NameGiven = name is not null;
        this.name = name ?? NameScope.UniqueKeras3Name(NameScope.ToKeras3SnakeCase(GetType().Name));
    }

    /// <summary>Creates an optimizer with a number or a <see cref="Schedules.LearningRateSchedule"/> (Keras' <c>learning_rate</c>).</summary>
    /// <param name="learningRate">A positive, finite rate, or a schedule.</param>
    protected Optimizer(LearningRateOrSchedule learningRate)
        : this(learningRate, null)
    {
    }

    /// <summary>Creates an optimizer with a number or a <see cref="Schedules.LearningRateSchedule"/> (Keras' <c>learning_rate</c>) and a name.</summary>
    /// <param name="learningRate">A positive, finite rate, or a schedule.</param>
    /// <param name="name">Keras' <c>name</c>: null for the class's name in snake case made unique (<see cref="Name"/>).</param>
    /// <exception cref="ArgumentException">A name with a <c>/</c> (Keras' ValueError).</exception>
    protected Optimizer(LearningRateOrSchedule learningRate, string? name)
        : this(learningRate.Schedule is null ? learningRate.Value : 1.0, name)
    {
        schedule = learningRate.Schedule;
    }

    /// <summary>
    /// Keras' <c>name</c>, written in <see cref="GetConfig()"/> and read back from configs; it prefixes the optimizer's
    /// variables in a full-model <c>.h5</c> (<c>adam/iteration</c>). Given to the constructor, or, without one, as Keras'
    /// <c>auto_name</c> (keras/src/utils/naming.py): the class name in Keras 3's snake case (<c>adam</c>, <c>sgd</c>,
    /// <c>rm_sprop</c>, <c>adam_w</c>), numbered from the second optimizer of that class on (<c>adam_1</c>,
    /// <c>adam_2</c>...), counted with the layers' and metrics' default names until <see cref="Backend.ClearSession"/>.
    /// </summary>
    public virtual string Name => name;

    /// <summary>Whether <see cref="Name"/> was given (to the constructor or by a config) rather than made up.</summary>
    internal bool NameGiven { get; private set; }

    /// <summary>Sets the name a config gives to an optimizer a user's factory made (<c>compile_config</c>).</summary>
    /// <exception cref="ArgumentException">A name with a <c>/</c>.</exception>
    internal void SetName(string value)
    {
        name = !value.Contains('/', StringComparison.Ordinal) ? value
            : throw new ArgumentException($"{GetType().Name}: argument `name` must be a string and cannot contain character `/` (as Keras). Received: name={value}", nameof(value));
        NameGiven = true;
    }

    /// <summary>
    /// The learning rate (Keras' <c>optimizer.learning_rate</c>); <c>ReduceLROnPlateau</c> changes it between epochs.
    /// With a <see cref="Schedule"/>, its value at the number of calls so far (Keras' <c>_iterations</c>, which is
    /// <see cref="Iterations"/> without gradient accumulation; during an update, the count before it, as Keras), and it
    /// cannot be set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a rate that is not positive and finite.</exception>
    /// <exception cref="InvalidOperationException">Set while the optimizer has a schedule (Keras' TypeError).</exception>
    public double LearningRate
    {
        get => schedule is null ? learningRate : stepRate ?? schedule.Call(rawIterations);
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

    /// <summary>
    /// Fixes this call's rate: Keras evaluates a schedule at <c>_iterations</c> (every call, <see cref="RawIterations"/>)
    /// before the call counts itself.
    /// </summary>
    private void BeginStep() => stepRate = schedule?.Call(rawIterations);

    /// <summary>
    /// How many updates have been applied (Keras' <c>iterations</c>): the calls to the optimizer, divided (rounded
    /// down) by <see cref="GradientAccumulationSteps"/> when gradients are accumulated.
    /// </summary>
    public long Iterations => gradientAccumulationSteps is { } steps ? rawIterations / steps : rawIterations;

    /// <summary>
    /// Keras' <c>_iterations</c>: every call to the optimizer (each <c>Fit</c> step, each
    /// <see cref="ApplyGradients(IEnumerable{ValueTuple{Tensor, LayerWeight}})"/>), accumulating or not; saved as the
    /// optimizer's first variable, as Keras saves it.
    /// </summary>
    internal long RawIterations => rawIterations;

    /// <summary>
    /// Keras' <c>clipnorm</c> (default null): when positive, each weight's gradient is scaled to an L2 norm of at most
    /// this value (g · clipnorm / max(‖g‖, clipnorm)); zero or negative clips nothing, as Keras. At most one of
    /// <see cref="ClipNorm"/>, <see cref="ClipValue"/> and <see cref="GlobalClipNorm"/> may be set.
    /// </summary>
    /// <exception cref="ArgumentException">Another clipping option is set (Keras: "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set").</exception>
    public double? ClipNorm
    {
        get => clipnorm;
        init => clipnorm = CheckClip(value, nameof(ClipNorm), clipvalue, globalClipnorm);
    }

    /// <summary>
    /// Keras' <c>clipvalue</c> (default null): when positive, each gradient element is clipped to
    /// [-clipvalue, clipvalue]; zero or negative clips nothing, as Keras.
    /// </summary>
    /// <exception cref="ArgumentException">Another clipping option is set.</exception>
    public double? ClipValue
    {
        get => clipvalue;
        init => clipvalue = CheckClip(value, nameof(ClipValue), clipnorm, globalClipnorm);
    }

    /// <summary>
    /// Keras' <c>global_clipnorm</c> (default null): when positive, all gradients of a step are scaled together so
    /// that their global L2 norm (the norm of all of them as one vector) is at most this value; zero or negative
    /// clips nothing, as Keras.
    /// </summary>
    /// <exception cref="ArgumentException">Another clipping option is set.</exception>
    public double? GlobalClipNorm
    {
        get => globalClipnorm;
        init => globalClipnorm = CheckClip(value, nameof(GlobalClipNorm), clipnorm, clipvalue);
    }

    /// <summary>
    /// Keras' <c>weight_decay</c> (default null): before each update, each weight that has a gradient (and is not
    /// excluded with <see cref="ExcludeFromWeightDecay"/>) is multiplied by 1 - weight_decay · learning_rate, as Keras'
    /// <c>_apply_weight_decay</c> (decoupled from the gradient).
    /// </summary>
    public double? WeightDecay
    {
        get => WeightDecayValue;
        init => WeightDecayValue = value;
    }

    private double? WeightDecayValue { get; set; }

    /// <summary>
    /// Keras' <c>use_ema</c> (default false): keep an exponential moving average of the weights (the optimizer
    /// variable <c>average</c>), updated after every call; <c>Fit</c> replaces the weights with it at its end (Keras'
    /// <c>finalize_variable_values</c>), and every <see cref="EmaOverwriteFrequency"/> updates when that is set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">With <see cref="EmaMomentum"/> outside [0, 1] or <see cref="EmaOverwriteFrequency"/> below 1.</exception>
    public bool UseEma
    {
        get => useEma;
        init
        {
            useEma = value;
            CheckEma(emaMomentum, emaOverwriteFrequency);
        }
    }

    /// <summary>Keras' <c>ema_momentum</c> (default 0.99): average = momentum · average + (1 - momentum) · weight; checked to lie in [0, 1] when <see cref="UseEma"/> is set, as Keras.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [0, 1] with <see cref="UseEma"/>.</exception>
    public double EmaMomentum
    {
        get => emaMomentum;
        init => emaMomentum = CheckEma(value, emaOverwriteFrequency).Momentum;
    }

    /// <summary>
    /// Keras' <c>ema_overwrite_frequency</c> (default null): with <see cref="UseEma"/>, the weights are replaced by their
    /// average every this many updates (<see cref="Iterations"/>); null: only at the end of <c>Fit</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1 with <see cref="UseEma"/>.</exception>
    public int? EmaOverwriteFrequency
    {
        get => emaOverwriteFrequency;
        init => emaOverwriteFrequency = CheckEma(emaMomentum, value).Frequency;
    }

    /// <summary>
    /// Keras' <c>loss_scale_factor</c> (default null): <c>Fit</c> multiplies the loss by it before computing the gradients
    /// (<see cref="ScaleLoss"/>), and every gradient given to the optimizer is divided by it before anything else.
    /// </summary>
    public double? LossScaleFactor
    {
        get => LossScaleFactorValue;
        init => LossScaleFactorValue = value;
    }

    private double? LossScaleFactorValue { get; set; }

    /// <summary>
    /// Keras' <c>gradient_accumulation_steps</c> (default null): the weights change every this many calls, by the mean of
    /// the gradients since the last change (kept in the optimizer variable <c>gradient_accumulator</c>);
    /// <see cref="Iterations"/> counts those changes. Null or 0: every call updates.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">1 or less than 0 (Keras: "must be an integer >= 2").</exception>
    public int? GradientAccumulationSteps
    {
        get => gradientAccumulationSteps;
        init => gradientAccumulationSteps = value is null or 0 ? value
            : value >= 2 ? value
            : throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), value, $"{OwnerName}: gradient_accumulation_steps must be an integer >= 2, but {value} was given.");
    }

    /// <summary>The class named in the base arguments' errors.</summary>
    private protected virtual string OwnerName => GetType().Name;

    private bool Accumulates => gradientAccumulationSteps is > 0;

    private double? CheckClip(double? value, string argument, double? other1, double? other2) =>
        value is null || (other1 is null && other2 is null) ? value
        : throw new ArgumentException($"{OwnerName}: only one of clipnorm, clipvalue and global_clipnorm can be set (as Keras); received clipnorm={Show(argument == nameof(ClipNorm) ? value : clipnorm)}, clipvalue={Show(argument == nameof(ClipValue) ? value : clipvalue)}, global_clipnorm={Show(argument == nameof(GlobalClipNorm) ? value : globalClipnorm)}.", argument);

    private static string Show(double? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "None";

    private (double Momentum, int? Frequency) CheckEma(double momentum, int? frequency)
    {
        if (useEma && !(momentum >= 0 && momentum <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(EmaMomentum), momentum, $"{OwnerName}: ema_momentum must be in the range [0, 1], but {momentum} was given.");
        }

        if (useEma && frequency is < 1 and not 0)
        {
            throw new ArgumentOutOfRangeException(nameof(EmaOverwriteFrequency), frequency, $"{OwnerName}: ema_overwrite_frequency must be an integer >= 1 or null, but {frequency} was given.");
        }

        return (momentum, frequency);
    }

    /// <summary>
    /// The optimizer variables Keras' base <c>build</c> adds before the optimizer's own, each for every weight in
    /// turn: <c>average</c> (with <see cref="UseEma"/>), then <c>gradient_accumulator</c> (with
    /// <see cref="GradientAccumulationSteps"/>).
    /// </summary>
    private IReadOnlyList<string> BaseSlotNames =>
        (useEma ? new[] { "average" } : Array.Empty<string>()).Concat(Accumulates ? new[] { "gradient_accumulator" } : Array.Empty<string>()).ToArray();

    private int AverageSlot => 0;

    private int AccumulatorSlot => useEma ? 1 : 0;

    /// <summary>
    /// Keras' <c>exclude_from_weight_decay</c>: the weights in <paramref name="variables"/>, and every weight whose
    /// name (<see cref="LayerWeight.Name"/>, e.g. <c>bias</c>; a parameter's name) contains a match of one of
    /// <paramref name="names"/> (regular expressions, as Keras' <c>re.search</c>), get no weight decay. Replaces an
    /// earlier call's lists, as Keras.
    /// </summary>
    /// <param name="variables">Weights (or <see cref="Parameter"/>s) to exclude; null for none.</param>
    /// <param name="names">Name patterns; null or empty for none.</param>
    /// <exception cref="InvalidOperationException">The optimizer has already been used (Keras: "can only be configured before the optimizer is built").</exception>
    public void ExcludeFromWeightDecay(IEnumerable<object>? variables = null, IEnumerable<string>? names = null)
    {
        lock (gate)
        {
            if (slots.Count > 0 || rawIterations > 0)
            {
                throw new InvalidOperationException($"{GetType().Name}: ExcludeFromWeightDecay can only be configured before the optimizer is built (before its first update), as Keras.");
            }

            var patterns = names?.ToArray() ?? Array.Empty<string>();
            var pattern = patterns.Length > 0 ? new Regex(string.Join("|", patterns.Distinct()), RegexOptions.CultureInvariant) : null;
            excludedFromWeightDecay = new HashSet<object>(variables ?? Array.Empty<object>(), ReferenceEqualityComparer.Instance);
            excludedFromWeightDecayPattern = pattern;
        }
    }

    /// <summary>Keras' <c>scale_loss</c>: the loss times <see cref="LossScaleFactor"/>, or the loss itself when that is null.</summary>
    /// <param name="loss">The loss.</param>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return LossScaleFactor is { } factor ? loss.mul(Scalars.Of(factor)) : loss;
    }

    /// <summary>
    /// Keras' <c>finalize_variable_values</c>: with <see cref="UseEma"/>, replaces each of <paramref name="weights"/> by
    /// its moving average (weights the optimizer has not updated yet keep their values); otherwise nothing. <c>Fit</c>
    /// calls it after its last epoch, as Keras' <c>fit</c>.
    /// </summary>
    /// <param name="weights">The model's trainable weights.</param>
    /// <exception cref="ObjectDisposedException">The optimizer has been disposed.</exception>
    public void FinalizeVariableValues(IEnumerable<LayerWeight> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        lock (gate)
        {
            ThrowIfDisposed();
            if (!useEma)
            {
                return;
            }

            using var noGrad = no_grad();
            foreach (var weight in weights)
            {
                if (slots.TryGetValue(weight, out var state))
                {
                    weight.Variable.copy_(state[AverageSlot]);
                }
            }
        }
    }

    /// <summary>
    /// The Keras names of the per-weight slots, in Keras' order (Adam: <c>momentum</c>, <c>velocity</c>); empty (the
    /// default) when the update needs none (SGD without momentum). Each weight gets one tensor of zeros shaped like
    /// it per name on its first update, as Keras' <c>build</c> with <c>add_optimizer_variables</c>; saved with the
    /// model's optimizer state.
    /// </summary>
    protected virtual IReadOnlyList<string> SlotNames => Array.Empty<string>();

    /// <summary>
    /// Every per-weight optimizer variable, for the saving code: the base ones (<c>average</c>,
    /// <c>gradient_accumulator</c>, when used) and then <see cref="SlotNames"/>.
    /// </summary>
    internal IReadOnlyList<string> KerasSlotNames => BaseSlotNames.Concat(SlotNames).ToArray();

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

    /// <summary>The starting value of per-weight variable <paramref name="index"/> of <see cref="KerasSlotNames"/>: 0 for the base ones, else <see cref="SlotInitialValue"/>.</summary>
    private double InitialValue(int index) => index < BaseSlotNames.Count ? 0 : SlotInitialValue(index - BaseSlotNames.Count);

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
    internal int KerasVariableIndex(int weight, int slot, int weights) => OptimizerState.KerasIndex(weight, slot, weights, InterleavedSlots, BaseSlotNames.Count);

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
        var names = KerasSlotNames;
        var built = names.Count > 0 && (rawIterations > 0 || slots.Count > 0);
        if (!built)
        {
            return new OptimizerState(rawIterations, LearningRate, null) { Scheduled = schedule is not null };
        }

        var values = weights.Select(w => slots.TryGetValue(w, out var state)
            ? state.Select(w.ToKerasArray).ToArray()
            : names.Select((_, s) => new WeightArray(w.Shape.ToArray(), Enumerable.Repeat((float)InitialValue(s), checked((int)w.Count)).ToArray())).ToArray()).ToArray();
        return new OptimizerState(rawIterations, LearningRate, values, InterleavedSlots, BaseSlotNames.Count, ExtraVariables.ToArray()) { Scheduled = schedule is not null };
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
        rawIterations = state.Iterations;
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
            var all = weights.ToArray();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var items = new List<Gradient>();
            foreach (var weight in all)
            {
                var dense = weight.Variable.grad;
                var rows = weight.RowGradient();
                if (dense is not null || rows is not null)
                {
                    items.Add(new Gradient(weight, weight.Variable, weight.Name, dense, rows, () => weight.DenseGradient(dense, rows)!));
                }
            }

            BeginStep();
            try
            {
                Run(items, all.Select(w => ((object)w, (Tensor)w.Variable)).ToArray());
            }
            finally
            {
                stepRate = null;
            }
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

            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var items = pairs.Where(p => p.Gradient is not null).Select(p =>
            {
                var dense = p.Gradient!.detach().to(p.Variable!.dtype, p.Variable.device);
                return new Gradient(p.Key!, p.Variable, NameOf(p.Key!, p.Label), dense, null, () => dense);
            }).ToList();
            BeginStep();
            try
            {
                Run(items, pairs.Select(p => (p.Key!, (Tensor)p.Variable!)).ToArray());

                // As Keras' apply: a model weight's constraint is assigned after the updates.
                foreach (var item in items)
                {
                    (item.Key as LayerWeight)?.ApplyConstraint();
                }
            }
            finally
            {
                stepRate = null;
            }
        }
    }

    /// <summary>A weight's gradient for one call: dense, by rows (Embedding), and how to make it dense.</summary>
    private sealed record Gradient(object Key, Tensor Variable, string Name, Tensor? Dense, (Tensor Ids, Tensor Grad)? Rows, Func<Tensor> DenseGradient);

    /// <summary>Keras' <c>variable.name</c>, which <c>exclude_from_weight_decay</c>'s patterns search.</summary>
    private static string NameOf(object key, string? label) => key switch
    {
        LayerWeight weight => weight.Name,
        _ => label ?? string.Empty,
    };

    /// <summary>
    /// One call of the optimizer, as Keras' <c>apply</c> and <c>_backend_apply_gradients</c>: the gradients divided by
    /// <see cref="LossScaleFactor"/>; with <see cref="GradientAccumulationSteps"/>, added to the accumulators except on
    /// every n-th call, which updates with the mean of the accumulated ones; the update clips
    /// (<see cref="ClipNorm"/>, <see cref="GlobalClipNorm"/>, <see cref="ClipValue"/>), applies
    /// <see cref="WeightDecay"/>, then each weight's rule; then the moving averages (<see cref="UseEma"/>); then the
    /// call count. Without those options, a gradient by rows goes to the row path.
    /// </summary>
    /// <param name="items">The weights with a gradient.</param>
    /// <param name="variables">Every weight of the call (Keras' built variables), for the slots and the moving averages.</param>
    private void Run(List<Gradient> items, IReadOnlyList<(object Key, Tensor Variable)> variables)
    {
        foreach (var (key, variable) in variables)
        {
            SlotsOf(key, variable);
        }

        var before = rawIterations;
        var step = gradientAccumulationSteps is > 0 and var n ? (before / n) + 1 : before + 1;
        rawIterations++;
        if (items.Count > 0)
        {
            if (!NeedsDenseGradients)
            {
                foreach (var item in items)
                {
                    using var weightScope = NewDisposeScope();
                    UpdateWeight(item.Key, item.Variable, item.Dense, item.Rows, item.DenseGradient, step);
                }
            }
            else
            {
                RunDense(items, before, step);
            }
        }

        if (useEma)
        {
            UpdateMovingAverages(variables, Accumulates ? before / gradientAccumulationSteps!.Value : before);
        }
    }

    /// <summary>Whether an option needs every gradient dense (the row path covers the plain update only).</summary>
    private bool NeedsDenseGradients => clipnorm is not null || clipvalue is not null || globalClipnorm is not null || WeightDecay is not null || LossScaleFactor is not null || Accumulates;

    private void RunDense(List<Gradient> items, long before, long step)
    {
        var grads = items.Select(i => i.Dense ?? i.DenseGradient()).ToArray();
        if (LossScaleFactor is { } scale)
        {
            grads = grads.Select(g => g.div(Scalars.Of(scale))).ToArray();
        }

        if (Accumulates)
        {
            var steps = gradientAccumulationSteps!.Value;
            var accumulators = items.Select(i => slots[i.Key][AccumulatorSlot]).ToArray();
            if ((before + 1) % steps != 0)
            {
                for (var i = 0; i < grads.Length; i++)
                {
                    accumulators[i].copy_(grads[i].add(accumulators[i], Scalars.One));
                }

                return;
            }

            grads = grads.Select((g, i) => g.add(accumulators[i], Scalars.One).div(Scalars.Of(steps))).ToArray();
            UpdateDense(items, grads, step);
            foreach (var accumulator in accumulators)
            {
                accumulator.zero_();
            }

            return;
        }

        UpdateDense(items, grads, step);
    }

    /// <summary>Keras' <c>_clip_gradients</c>, <c>_apply_weight_decay</c> and <c>_backend_update_step</c>.</summary>
    private void UpdateDense(List<Gradient> items, Tensor[] grads, long step)
    {
        grads = ClipGradients(grads);
        if (WeightDecay is { } decay)
        {
            // Keras' torch backend: variable *= 1 - weight_decay * learning_rate, the rate a float32 variable.
            var factor = 1f - ((float)decay * (float)LearningRate);
            foreach (var item in items.Where(i => UsesWeightDecay(i.Key, i.Name)))
            {
                Scalars.With(factor, f => item.Variable.mul_(f));
            }
        }

        for (var i = 0; i < items.Count; i++)
        {
            using var weightScope = NewDisposeScope();
            UpdateWeight(items[i].Key, items[i].Variable, grads[i], null, () => grads[i], step);
        }
    }

    private bool UsesWeightDecay(object key, string name) =>
        !excludedFromWeightDecay.Contains(key) && excludedFromWeightDecayPattern?.IsMatch(name) != true;

    /// <summary>Keras' <c>_clip_gradients</c>: by each gradient's norm, by the global norm, or by value; only a positive option clips.</summary>
    private Tensor[] ClipGradients(Tensor[] grads)
    {
        if (clipnorm is > 0 and var norm)
        {
            // Keras' _clip_by_norm: g · clipnorm / max(‖g‖, clipnorm).
            var c = Scalars.Of(norm);
            return grads.Select(g => g.mul(c).div(Scalars.Square(g).sum().sqrt().clamp_min(c))).ToArray();
        }

        if (globalClipnorm is > 0 and var global)
        {
            // Keras' clip_by_global_norm: scale = clip · min(1 / ‖g‖, 1 / clip) + (‖g‖ - ‖g‖), NaN for a non-finite norm.
            var total = stack(grads.Select(g => Scalars.Square(g).sum()).ToArray()).sum().sqrt();
            var scale = total.reciprocal().clamp_max(Scalars.Of(1 / global)).mul(Scalars.Of(global)).add(total.sub(total), Scalars.One);
            return grads.Select(g => g.mul(scale)).ToArray();
        }

        if (clipvalue is > 0 and var value)
        {
            return grads.Select(g => g.clamp(Scalars.Of(-value), Scalars.Of(value))).ToArray();
        }

        return grads;
    }

    /// <summary>Keras' <c>_update_model_variables_moving_average</c> and the overwrite every <see cref="EmaOverwriteFrequency"/> updates.</summary>
    /// <param name="variables">The weights.</param>
    /// <param name="iterations">Keras' <c>iterations</c> before this call's increment.</param>
    private void UpdateMovingAverages(IReadOnlyList<(object Key, Tensor Variable)> variables, long iterations)
    {
        var momentum = iterations != 0 ? (float)emaMomentum : 0f;
        foreach (var (key, variable) in variables)
        {
            using var weightScope = NewDisposeScope();
            var average = slots[key][AverageSlot];
            Scalars.With(momentum, m => Scalars.With(1f - momentum, rest => average.copy_(average.mul(m).add_(variable.mul(rest), Scalars.One))));
        }

        if (emaOverwriteFrequency is > 0 and var frequency && (iterations + 1) % frequency == 0)
        {
            foreach (var (key, variable) in variables)
            {
                variable.copy_(slots[key][AverageSlot]);
            }
        }
    }

    /// <summary>The variables of a weight, made (zeros) on first use: the base ones (average, accumulator) then the optimizer's slots.</summary>
    private Tensor[] SlotsOf(object key, Tensor variable)
    {
        if (!slots.TryGetValue(key, out var state))
        {
            // Slots outlive the caller's per-batch dispose scope.
            state = Enumerable.Range(0, BaseSlotNames.Count + SlotNames.Count).Select(s => InitialValue(s) == 0 ? zeros_like(variable).DetachFromDisposeScope()
                : Scalars.With(InitialValue(s), value => full_like(variable, value)).DetachFromDisposeScope()).ToArray();
            slots[key] = state;
        }

        return state;
    }

    /// <summary>One weight's update by the optimizer's rule: by rows where the optimizer has such a path and the gradient is given by rows, else <see cref="Update"/>.</summary>
    private void UpdateWeight(object key, Tensor variable, Tensor? dense, (Tensor Ids, Tensor Grad)? rows, Func<Tensor> denseGradient, long step)
    {
        var all = SlotsOf(key, variable);
        var leading = BaseSlotNames.Count;
        var state = leading == 0 ? all : all[leading..];
        if (dense is null && rows is { } r && UpdateByRows(variable, r.Ids, r.Grad, state, step))
        {
            return;
        }

        Update(variable, denseGradient(), state, step);
    }

    /// <summary>
    /// The same update as <see cref="Update"/> for a gradient given by rows (every other row's gradient is zero),
    /// without building the dense gradient; returns false where the optimizer has no such path.
    /// </summary>
    /// <param name="variable">The weight, (rows, width).</param>
    /// <param name="ids">Distinct row ids, ascending (as <see cref="LayerWeight.RowGradient"/> gives them).</param>
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
    /// The Keras config (<c>get_config</c>): <c>name</c>, <c>learning_rate</c> and Keras' base arguments
    /// (<c>weight_decay</c>, <c>clipnorm</c>, <c>global_clipnorm</c>, <c>clipvalue</c>, <c>use_ema</c>,
    /// <c>ema_momentum</c>, <c>ema_overwrite_frequency</c>, <c>loss_scale_factor</c>,
    /// <c>gradient_accumulation_steps</c>), then the optimizer's own arguments. A subclass with arguments adds them
    /// to <c>base.GetConfig()</c>; the factory registered with
    /// <see cref="CustomObjects.Register(string, Func{KerasStyle.Saving.LayerConfig, Optimizer})"/> reads it back (the
    /// base arguments are read for it).
    /// </summary>
    public virtual JsonObject GetConfig() => GetConfigBase();

    private JsonObject GetConfigBase() => new()
    {
        ["name"] = Name,
        ["learning_rate"] = schedule?.Serialize() ?? (JsonNode)LearningRate,
        ["weight_decay"] = WeightDecay,
        ["clipnorm"] = clipnorm,
        ["global_clipnorm"] = globalClipnorm,
        ["clipvalue"] = clipvalue,
        ["use_ema"] = useEma,
        ["ema_momentum"] = emaMomentum,
        ["ema_overwrite_frequency"] = emaOverwriteFrequency,
        ["loss_scale_factor"] = LossScaleFactor,
        ["gradient_accumulation_steps"] = gradientAccumulationSteps,
    };

    /// <summary>
    /// Sets the base arguments read from a config (<c>compile_config</c>) on an optimizer its factory made, with the
    /// checks of the properties. Only before the optimizer is used.
    /// </summary>
    internal void SetBaseArguments(double? weightDecay, double? clipNorm, double? globalClipNorm, double? clipValue, bool useEmaValue, double emaMomentumValue,
        int? emaOverwriteFrequencyValue, double? lossScaleFactor, int? gradientAccumulationStepsValue)
    {
        var check = new BaseArguments(GetType().Name)
        {
            ClipNorm = clipNorm,
            ClipValue = clipValue,
            GlobalClipNorm = globalClipNorm,
            UseEma = useEmaValue,
            EmaMomentum = emaMomentumValue,
            EmaOverwriteFrequency = emaOverwriteFrequencyValue,
            GradientAccumulationSteps = gradientAccumulationStepsValue,
        };
        lock (gate)
        {
            if (slots.Count > 0 || rawIterations > 0)
            {
                throw new InvalidOperationException($"{GetType().Name}: the base arguments can only be set before the optimizer's first update.");
            }

            (clipnorm, clipvalue, globalClipnorm) = (check.ClipNorm, check.ClipValue, check.GlobalClipNorm);
            (useEma, emaMomentum, emaOverwriteFrequency) = (check.UseEma, check.EmaMomentum, check.EmaOverwriteFrequency);
            gradientAccumulationSteps = check.GradientAccumulationSteps;
            WeightDecayValue = weightDecay;
            LossScaleFactorValue = lossScaleFactor;
        }
    }

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

    /// <summary>A finite number as Python's <c>json.dumps</c> writes a float (<c>0.0</c>, not <c>0</c>), for an argument Keras refuses as an integer.</summary>
    private protected static JsonNode PythonFloatJson(double value) => JsonNode.Parse(Callbacks.PythonFloat.Repr(value))!;

    /// <summary>The base arguments' checks, run on a throwaway optimizer-less holder (for <see cref="SetBaseArguments"/>).</summary>
    private sealed class BaseArguments : Optimizer
    {
        private readonly string owner;

        public BaseArguments(string owner)
            : base(1.0, owner) => this.owner = owner;

        public override string Name => owner;

        private protected override string OwnerName => owner;

        protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step) => throw new InvalidOperationException();
    }
}
