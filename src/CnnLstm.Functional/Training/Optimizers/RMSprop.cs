using KerasStyle.Engine;
using System.Text.Json.Nodes;
using KerasStyle.Training.Schedules;
using static TorchSharp.torch;

namespace KerasStyle.Training.Optimizers;

/// <summary>
/// Keras 3's RMSprop (keras/src/optimizers/rmsprop.py): a = rho a + (1 - rho) g²; centered, also
/// ḡ = rho ḡ + (1 - rho) g and the denominator a - ḡ²; increment = lr g / √(denominator + ε); with momentum,
/// m = momentum m + increment and p -= m, otherwise p -= increment.
/// <para>
/// Where ε goes differs between Keras versions. Keras 3, and tf.keras 2.11 to 2.15's optimizer
/// (<c>optimizer_experimental</c>), put it inside the square root, always. Keras 2.0 to 2.3
/// (<c>keras/optimizers.py</c>, which has no momentum and no centered form) and tf.keras 2.0 to 2.10's
/// <c>OptimizerV2</c> (also <c>tf.keras.optimizers.legacy.RMSprop</c> in 2.11+) compute
/// p -= lr g / (√denominator + ε) without momentum, centered or not, and with momentum call
/// <c>ResourceApply(Centered)RMSProp</c>, which puts ε inside the root as Keras 3 does. <see cref="Keras2Update"/>
/// selects that older update; compiling from the training config of a file written by such a Keras sets it
/// (docs/saving.md, "Keras version rule").
/// </para>
/// </summary>
public sealed class RMSprop : Optimizer
{
    /// <summary>Creates RMSprop with Keras defaults.</summary>
    /// <param name="learningRate">Learning rate, or a <see cref="LearningRateSchedule"/> (Keras default 0.001).</param>
    /// <param name="rho">Decay of the squared-gradient average, in [0, 1).</param>
    /// <param name="momentum">Momentum, in [0, 1); 0 (the default) keeps no momentum slot, as Keras.</param>
    /// <param name="epsilon">Added to the average of squares under the square root; must be positive.</param>
    /// <param name="centered">Whether to divide by the variance (average of squares minus the squared average gradient) instead.</param>
    /// <param name="keras2Update">Whether to compute as Keras 2.0-2.3 and tf.keras 2.0-2.10 (<c>OptimizerV2</c>) did:
    /// without momentum, p -= lr g / (√a + ε), ε outside the square root (default false: Keras 3's update). With
    /// momentum the two updates are the same.</param>
    /// <param name="name">Keras' <c>name</c>; null (the default) gives the class's snake-case name made unique (<c>rm_sprop</c>, then <c>rm_sprop_1</c>, ...; <see cref="Optimizer.Name"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument outside its range.</exception>
    public RMSprop(LearningRateOrSchedule? learningRate = null, double rho = 0.9, double epsilon = 1e-7, double momentum = 0.0, bool centered = false,
        bool keras2Update = false, string? name = null)
        : base(learningRate ?? 0.001, name)
    {
        if (!(rho >= 0 && rho < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rho), rho, "RMSprop: rho must be in [0, 1).");
        }

        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "RMSprop: epsilon must be positive.");
        }

        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "RMSprop: momentum must be in [0, 1).");
        }

        Rho = rho;
        Epsilon = epsilon;
        Momentum = momentum;
        Centered = centered;
        Keras2Update = keras2Update;
        SlotNames = new[] { "velocity" }.Concat(momentum > 0 ? new[] { "momentum" } : Array.Empty<string>())
            .Concat(centered ? new[] { "average_gradient" } : Array.Empty<string>()).ToArray();
    }

    /// <summary>Decay of the squared-gradient average.</summary>
    public double Rho { get; }

    /// <summary>Added under the square root (with <see cref="Keras2Update"/> and no momentum: to the square root).</summary>
    public double Epsilon { get; }

    /// <summary>Momentum (0: none).</summary>
    public double Momentum { get; }

    /// <summary>Whether the update divides by the centered second moment.</summary>
    public bool Centered { get; }

    /// <summary>
    /// Whether the update is Keras 2.0-2.3's and tf.keras 2.0-2.10's (<c>OptimizerV2</c>): without momentum,
    /// p -= lr g / (√a + ε) (centered: √(a - ḡ²) + ε) instead of Keras 3's lr g / √(a + ε). True when compiled from the
    /// <c>training_config</c> of a file written by those Keras (<c>Model.ComputesAsKeras2</c>, and not tf.keras 2.11+'s
    /// <c>"is_legacy_optimizer": false</c>); false for optimizers made in code and for Keras 3 files. Not part of
    /// <see cref="GetConfig"/>: Keras 3 has no such argument, so the Keras 3 forms a model is saved in write Keras 3's
    /// RMSprop; the tf.keras 2 <c>.h5</c> form writes the legacy optimizer's config, which tf.keras 2 reads back as such.
    /// </summary>
    public bool Keras2Update { get; }

    /// <summary>velocity, then momentum (when used), then average_gradient (when centered), as Keras builds them.</summary>
    protected override IReadOnlyList<string> SlotNames { get; }

    /// <summary>Keras adds each slot kind for all weights before the next kind.</summary>
    private protected override int InterleavedSlots => 1;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => GetConfig(("rho", Rho), ("momentum", Momentum), ("epsilon", Epsilon), ("centered", Centered));

    /// <inheritdoc/>
    protected override void Update(Tensor variable, Tensor grad, Tensor[] state, long step)
    {
        var velocity = state[0];
        velocity.mul_(Scalars.Of(Rho)).addcmul_(grad, grad, Scalars.Of(1 - Rho));
        var moment = velocity;
        if (Centered)
        {
            var average = state[^1];
            average.mul_(Scalars.Of(Rho)).add_(grad, Scalars.Of(1 - Rho));
            moment = velocity - average.pow(Scalars.Two);
        }

        // Keras 3: √(a + ε). Keras 2.2 optimizers.py and tf.keras 2.10 optimizer_v2/rmsprop.py without momentum: √a + ε.
        var root = Keras2Update && Momentum == 0
            ? moment.sqrt().add_(Scalars.Of(Epsilon), Scalars.One)
            : moment.add(Scalars.Of(Epsilon), Scalars.One).sqrt_();
        var increment = Scalars.With(LearningRate, rate => grad.mul(rate)).div_(root);
        if (Momentum > 0)
        {
            var m = state[1];
            m.mul_(Scalars.Of(Momentum)).add_(increment, Scalars.One);
            variable.sub_(m);
        }
        else
        {
            variable.sub_(increment);
        }
    }
}
