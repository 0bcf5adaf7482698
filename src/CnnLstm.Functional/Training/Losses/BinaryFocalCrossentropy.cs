using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>BinaryFocalCrossentropy</c> (keras/src/losses/losses.py <c>binary_focal_crossentropy</c>): targets
/// smoothed to y (1 - labelSmoothing) + labelSmoothing / 2, p = sigmoid(output) when <see cref="SmoothedCrossentropy.FromLogits"/>,
/// the binary cross-entropy (p clipped to [1e-7, 1 - 1e-7]) times (1 - p_t)^gamma with p_t = y p + (1 - y)(1 - p),
/// times y alpha + (1 - y)(1 - alpha) when <see cref="ApplyClassBalancing"/>, the mean over
/// <see cref="SmoothedCrossentropy.Axis"/>, reduced by <see cref="Loss.Reduction"/>. As Keras' torch backend, a
/// sigmoid output is used as probabilities (not through its logits).
/// </summary>
public sealed class BinaryFocalCrossentropy : SmoothedCrossentropy
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="applyClassBalancing">Whether to weigh positives by alpha and negatives by 1 - alpha.</param>
    /// <param name="alpha">The class-balancing weight of positives (used with <paramref name="applyClassBalancing"/>).</param>
    /// <param name="gamma">The focusing exponent of (1 - p_t); 0 gives the binary cross-entropy.</param>
    /// <param name="fromLogits">Whether the output holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]: targets move towards 0.5 by this fraction.</param>
    /// <param name="axis">The axis the mean is taken over, -1 the last (counted from the end when negative).</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is not in [0, 1].</exception>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public BinaryFocalCrossentropy(bool applyClassBalancing = false, double alpha = 0.25, double gamma = 2.0, bool fromLogits = false, double labelSmoothing = 0.0, int axis = -1, string? reduction = "sum_over_batch_size", string name = "binary_focal_crossentropy")
        : base(fromLogits, labelSmoothing, axis, reduction, name, "binary_focal_crossentropy")
    {
        ApplyClassBalancing = applyClassBalancing;
        Alpha = alpha;
        Gamma = gamma;
    }

    /// <summary>Whether positives weigh alpha and negatives 1 - alpha.</summary>
    public bool ApplyClassBalancing { get; }

    /// <summary>The class-balancing weight of positives.</summary>
    public double Alpha { get; }

    /// <summary>The focusing exponent.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["apply_class_balancing"] = ApplyClassBalancing;
        config["alpha"] = Alpha;
        config["gamma"] = Gamma;
        return config;
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var y = LabelSmoothing > 0 ? yTrue.mul(Scalars.Of(1 - LabelSmoothing)).add(Scalars.Of(0.5 * LabelSmoothing), Scalars.IntOne) : yTrue;
        var p = FromLogits ? yPred.sigmoid() : yPred;
        var clipped = Clipped(p);
        var bce = y.mul(clipped.log()).add(Scalars.OneMinus(y).mul(Scalars.OneMinus(clipped).log()), Scalars.IntOne).negative();
        var pT = y.mul(p).add(Scalars.OneMinus(y).mul(Scalars.OneMinus(p)), Scalars.IntOne);
        var focal = Scalars.OneMinus(pT).pow(Scalars.Of(Gamma)).mul(bce);
        if (ApplyClassBalancing)
        {
            focal = y.mul(Scalars.Of(Alpha)).add(Scalars.OneMinus(y).mul(Scalars.Of(1 - Alpha)), Scalars.IntOne).mul(focal);
        }

        return focal.mean(new long[] { Axis });
    }

    private protected override Loss? Defaults() => new BinaryFocalCrossentropy();
}
