using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's Adagrad (keras/src/optimizers/adagrad.py): a = a + g² (a starts at <c>initial_accumulator_value</c>);
/// p -= lr g / √(a + ε).
/// </summary>
public sealed class Adagrad : Optimizer
{
    private static readonly string[] Slots = { "accumulator" };

    /// <summary>Creates Adagrad with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="initialAccumulatorValue">The accumulator's starting value (Keras default 0.1); 0 or more.</param>
    /// <param name="epsilon">Added to the accumulator under the square root; must be positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public Adagrad(LearningRateOrSchedule? learningRate = null, double initialAccumulatorValue = 0.1, double epsilon = 1e-7)
        : base(learningRate ?? 0.001)
    {
        InitialAccumulatorValue = initialAccumulatorValue >= 0 && double.IsFinite(initialAccumulatorValue) ? initialAccumulatorValue
            : throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, "Adagrad: initial_accumulator_value must be 0 or more (a negative one makes the square root NaN).");
        Epsilon = epsilon > 0 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Adagrad: epsilon must be positive.");
    }

    /// <summary>The accumulator's starting value.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>Added under the square root.</summary>
    public double Epsilon { get; }

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
        var root = accumulator.add(Scalars.Of(Epsilon), Scalars.One).sqrt_();
        Scalars.With(-(float)LearningRate, negativeRate => variable.addcdiv_(grad, root, negativeRate));
    }
}
