using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's Adagrad (keras/src/optimizers/adagrad.py): a = a + g² (a starts at <c>initial_accumulator_value</c>);
/// p -= lr g / √(a + ε). With <see cref="Keras2Update"/>, tf.keras 2's legacy (<c>OptimizerV2</c>) Adagrad
/// (tf_keras/src/optimizers/legacy/adagrad.py, <c>ResourceApplyAdagradV2</c>): p -= lr g / (√a + ε).
/// </summary>
public sealed class Adagrad : Optimizer
{
    private static readonly string[] Slots = { "accumulator" };

    /// <summary>Creates Adagrad with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="initialAccumulatorValue">The accumulator's starting value (Keras default 0.1); 0 or more.</param>
    /// <param name="epsilon">Added to the accumulator under the square root; must be positive.</param>
    /// <param name="keras2Update">Whether to compute as tf.keras 2's legacy (<c>OptimizerV2</c>) Adagrad: ε added to the
    /// square root, p -= lr g / (√a + ε) (default false: Keras 3's update).</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>adagrad</c>, then <c>adagrad_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public Adagrad(LearningRateOrSchedule? learningRate = null, double initialAccumulatorValue = 0.1, double epsilon = 1e-7, bool keras2Update = false, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        Keras2Update = keras2Update;
        InitialAccumulatorValue = initialAccumulatorValue >= 0 && double.IsFinite(initialAccumulatorValue) ? initialAccumulatorValue
            : throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "Adagrad: initial_accumulator_value must be 0 or more (a negative one makes the square root NaN).");
        Epsilon = epsilon > 0 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Adagrad: epsilon must be positive.");
    }

    /// <summary>The accumulator's starting value.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>Added under the square root.</summary>
    public double Epsilon { get; }

    /// <summary>
    /// Whether the update is tf.keras 2's legacy one (ε outside the square root). Not part of <see cref="GetConfig"/>
    /// (Keras 3 has no such argument); the tf.keras 2 <c>.h5</c> form writes the legacy optimizer's config, which tf.keras
    /// 2 reads back as the legacy optimizer.
    /// </summary>
    public bool Keras2Update { get; }

    /// <summary>One accumulator per weight.</summary>
    protected override IReadOnlyList<string> SlotNames => Slots;

    private protected override double SlotInitialValue(int slot) => InitialAccumulatorValue;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("initial_accumulator_value", InitialAccumulatorValue), ("epsilon", Epsilon));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var accumulator = state[0];
        accumulator.addcmul_(grad, grad, Scalars.One);
        // Keras 3 and tf.keras 2.11+: √(a + ε); tf.keras 2's legacy ResourceApplyAdagradV2: √a + ε.
        var root = Keras2Update ? accumulator.sqrt().add_(Scalars.Of(Epsilon), Scalars.One) : accumulator.add(Scalars.Of(Epsilon), Scalars.One).sqrt_();
        Scalars.With(-(float)LearningRate, negativeRate => variable.addcdiv_(grad, root, negativeRate));
    }
}
