using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>CategoricalFocalCrossentropy</c> (keras/src/losses/losses.py <c>categorical_focal_crossentropy</c>):
/// one-hot targets smoothed to y (1 - labelSmoothing) + labelSmoothing / classes, p = softmax(output) over
/// <see cref="SmoothedCrossentropy.Axis"/> when <see cref="SmoothedCrossentropy.FromLogits"/>, p rescaled to sum to
/// 1 over the axis and clipped to [1e-7, 1 - 1e-7], then the sum over the axis of alpha (1 - p)^gamma (-y log p),
/// reduced by <see cref="Loss.Reduction"/>. As Keras' torch backend, a softmax output is used as probabilities.
/// </summary>
public sealed class CategoricalFocalCrossentropy : SmoothedCrossentropy
{
    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="alpha">The weight of every class's term.</param>
    /// <param name="gamma">The focusing exponent of (1 - p); 0 gives alpha times the categorical cross-entropy.</param>
    /// <param name="fromLogits">Whether the output holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]: targets move towards 1 / classes by this fraction.</param>
    /// <param name="axis">The class axis, -1 the last (counted from the end when negative).</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is not in [0, 1].</exception>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public CategoricalFocalCrossentropy(double alpha = 0.25, double gamma = 2.0, bool fromLogits = false, double labelSmoothing = 0.0, int axis = -1, string? reduction = "sum_over_batch_size", string name = "categorical_focal_crossentropy")
        : base(fromLogits, labelSmoothing, axis, reduction, name, "categorical_focal_crossentropy")
    {
        Alpha = alpha;
        Gamma = gamma;
    }

    /// <summary>The weight of every class's term.</summary>
    public double Alpha { get; }

    /// <summary>The focusing exponent.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["alpha"] = Alpha;
        config["gamma"] = Gamma;
        return config;
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor yTrue, Tensor yPred)
    {
        var axis = new long[] { Axis };
        var y = yTrue;
        if (LabelSmoothing > 0)
        {
            var classes = yPred.shape[Axis < 0 ? yPred.dim() + Axis : Axis];
            y = yTrue.mul(Scalars.Of(1 - LabelSmoothing)).add(Scalars.Of(LabelSmoothing / classes), Scalars.IntOne);
        }

        var p = FromLogits ? yPred.softmax(Axis) : yPred;
        var output = Clipped(p.div(p.sum(axis, keepdim: true)));
        var crossEntropy = y.negative().mul(output.log());
        return Scalars.OneMinus(output).pow(Scalars.Of(Gamma)).mul(Scalars.Of(Alpha)).mul(crossEntropy).sum(axis);
    }

    private protected override Loss? Defaults() => new CategoricalFocalCrossentropy();
}
