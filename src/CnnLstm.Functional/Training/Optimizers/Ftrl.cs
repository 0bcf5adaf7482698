using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's Ftrl (keras/src/optimizers/ftrl.py), "Follow The Regularized Leader" with online L1/L2 and shrinkage
/// L2: with p = <c>learning_rate_power</c>, l2 = l2_regularization_strength + β / (2 lr),
/// g' = g + 2 · l2_shrinkage · w; n' = n + g²; z += g' - (n'^(-p) - n^(-p)) / lr · w;
/// w = (clip(z, -l1, l1) - z) / (n'^(-p) / lr + 2 l2); n = n'. The accumulator n starts at
/// <c>initial_accumulator_value</c>, the linear term z at 0.
/// </summary>
public sealed class Ftrl : Optimizer
{
    private static readonly string[] Slots = { "accumulator", "linear" };

    /// <summary>Creates Ftrl with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate (Keras default 0.001).</param>
    /// <param name="learningRatePower">How the rate falls as the accumulator grows; 0 or less (Keras default -0.5).</param>
    /// <param name="initialAccumulatorValue">The accumulator's starting value, 0 or more (Keras default 0.1).</param>
    /// <param name="l1RegularizationStrength">L1 strength, 0 or more.</param>
    /// <param name="l2RegularizationStrength">L2 strength, 0 or more.</param>
    /// <param name="l2ShrinkageRegularizationStrength">Shrinkage-type L2 strength (added to the gradient), 0 or more.</param>
    /// <param name="beta">The paper's β, added as β / (2 lr) to the L2 strength.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>ftrl</c>, then <c>ftrl_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range (Keras' checks).</exception>
    public Ftrl(LearningRateOrSchedule? learningRate = null, double learningRatePower = -0.5, double initialAccumulatorValue = 0.1, double l1RegularizationStrength = 0.0,
        double l2RegularizationStrength = 0.0, double l2ShrinkageRegularizationStrength = 0.0, double beta = 0.0, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        InitialAccumulatorValue = initialAccumulatorValue >= 0 && double.IsFinite(initialAccumulatorValue) ? initialAccumulatorValue
            : throw new ArgumentOutOfRangeException(nameof(initialAccumulatorValue), initialAccumulatorValue, $"Ftrl: initial_accumulator_value needs to be positive or zero. Received: {initialAccumulatorValue}.");
        LearningRatePower = learningRatePower <= 0 && double.IsFinite(learningRatePower) ? learningRatePower
            : throw new ArgumentOutOfRangeException(nameof(learningRatePower), learningRatePower, $"Ftrl: learning_rate_power needs to be negative or zero. Received: {learningRatePower}.");
        L1RegularizationStrength = Check(l1RegularizationStrength, "l1_regularization_strength", nameof(l1RegularizationStrength));
        L2RegularizationStrength = Check(l2RegularizationStrength, "l2_regularization_strength", nameof(l2RegularizationStrength));
        L2ShrinkageRegularizationStrength = Check(l2ShrinkageRegularizationStrength, "l2_shrinkage_regularization_strength", nameof(l2ShrinkageRegularizationStrength));
        Beta = double.IsFinite(beta) ? beta : throw new ArgumentOutOfRangeException(nameof(beta), beta, "Ftrl: beta must be a finite number.");
    }

    /// <summary>The learning-rate power (0 or less).</summary>
    public double LearningRatePower { get; }

    /// <summary>The accumulator's starting value.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>L1 strength.</summary>
    public double L1RegularizationStrength { get; }

    /// <summary>L2 strength.</summary>
    public double L2RegularizationStrength { get; }

    /// <summary>Shrinkage-type L2 strength.</summary>
    public double L2ShrinkageRegularizationStrength { get; }

    /// <summary>The paper's β.</summary>
    public double Beta { get; }

    /// <summary>accumulator, linear, weight by weight as Keras builds them.</summary>
    protected override IReadOnlyList<string> SlotNames => Slots;

    private protected override double SlotInitialValue(int slot) => slot == 0 ? InitialAccumulatorValue : 0;

    private static double Check(double value, string key, string argument) =>
        value >= 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(argument, value, $"Ftrl: {key} needs to be positive or zero. Received: {value}.");

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(
        ("learning_rate_power", LearningRatePower),
        ("initial_accumulator_value", InitialAccumulatorValue),
        ("l1_regularization_strength", L1RegularizationStrength),
        ("l2_regularization_strength", L2RegularizationStrength),
        ("l2_shrinkage_regularization_strength", L2ShrinkageRegularizationStrength),
        ("beta", Beta));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var (accumulator, linear) = (state[0], state[1]);
        double rate = (float)LearningRate;
        var l2 = L2RegularizationStrength + (Beta / (2.0 * rate));
        var gradToUse = grad.add(variable, Scalars.Of(2 * L2ShrinkageRegularizationStrength));
        var newAccumulator = accumulator.addcmul(grad, grad, Scalars.One);
        var newPower = newAccumulator.pow(Scalars.Of(-LearningRatePower));
        var sigma = Scalars.With(rate, r => newPower.sub(accumulator.pow(Scalars.Of(-LearningRatePower))).div_(r));
        linear.add_(gradToUse, Scalars.One).sub_(sigma.mul_(variable));
        var quadratic = Scalars.With(rate, r => newPower.div(r));
        Scalars.With(2 * l2, twiceL2 => quadratic.add_(twiceL2, Scalars.One));
        var clipped = linear.clamp(Scalars.Of(-L1RegularizationStrength), Scalars.Of(L1RegularizationStrength));
        variable.copy_(clipped.sub_(linear).div_(quadratic));
        accumulator.copy_(newAccumulator);
    }
}
