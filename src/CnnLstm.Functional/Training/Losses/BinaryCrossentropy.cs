using System.Text.Json.Nodes;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// Keras' <c>BinaryCrossentropy</c> (keras/src/losses/losses.py <c>binary_crossentropy</c>): targets smoothed to
/// y (1 - labelSmoothing) + labelSmoothing / 2, then -(y log p + (1 - y) log(1 - p)) with p clipped to
/// [1e-7, 1 - 1e-7] (or from logits), the mean over <see cref="Axis"/>, reduced by <see cref="Loss.Reduction"/>.
/// When the model ends in a sigmoid (and <see cref="FromLogits"/> is false) it is computed from the logits.
/// </summary>
public sealed class BinaryCrossentropy : Loss
{
    /// <summary>Keras' backend epsilon.</summary>
    internal const double Epsilon = 1e-7;

    /// <summary>Creates the loss with Keras' arguments and defaults.</summary>
    /// <param name="fromLogits">Whether the output holds logits rather than probabilities.</param>
    /// <param name="labelSmoothing">In [0, 1]: targets move towards 0.5 by this fraction.</param>
    /// <param name="axis">The axis the mean is taken over, -1 the last (counted from the end when negative).</param>
    /// <param name="reduction">See <see cref="Loss.Reduction"/>.</param>
    /// <param name="name">The loss's name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is not in [0, 1].</exception>
    /// <exception cref="ArgumentException">An unknown reduction or an empty name.</exception>
    public BinaryCrossentropy(bool fromLogits = false, double labelSmoothing = 0.0, int axis = -1, string? reduction = "sum_over_batch_size", string name = "binary_crossentropy")
        : base(reduction, name, "binary_crossentropy")
    {
        FromLogits = fromLogits;
        LabelSmoothing = CheckSmoothing(labelSmoothing);
        Axis = axis;
    }

    /// <summary>Whether the output holds logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The label smoothing, in [0, 1].</summary>
    public double LabelSmoothing { get; }

    /// <summary>The axis the mean is taken over.</summary>
    public int Axis { get; }

    internal override string ClassName => "BinaryCrossentropy";

    internal override string? LogitsActivation => FromLogits ? null : "sigmoid";

    internal override void CheckOutput(Shape shape, string label) => CanonicalAxis(Axis, shape.Rank, label);

    internal override bool ReducesLastAxis(int rank) => CanonicalAxis(Axis, rank, string.Empty) == rank - 1;

    internal override Tensor PerEntry(Tensor target, Tensor output, Tensor? logits)
    {
        var y = LabelSmoothing > 0 ? (target * (1 - LabelSmoothing)) + (0.5 * LabelSmoothing) : target;
        var fromLogits = FromLogits ? output : logits;
        if (fromLogits is not null)
        {
            return nn.functional.binary_cross_entropy_with_logits(fromLogits, y, reduction: nn.Reduction.None).mean(new long[] { Axis });
        }

        var p = Clipped(output);
        return (-((y * p.log()) + ((1 - y) * (1 - p).log()))).mean(new long[] { Axis });
    }

    internal override JsonObject Config()
    {
        var config = base.Config();
        config["from_logits"] = FromLogits;
        config["label_smoothing"] = LabelSmoothing;
        config["axis"] = Axis;
        return config;
    }

    private protected override Loss Defaults() => new BinaryCrossentropy();

    /// <summary>Probabilities clipped to [epsilon, 1 - epsilon], as Keras' backends do before the log.</summary>
    internal static Tensor Clipped(Tensor p) => p.clamp(Epsilon, 1 - Epsilon);

    /// <summary>Keras documents label smoothing in [0, 1].</summary>
    internal static double CheckSmoothing(double labelSmoothing) =>
        labelSmoothing is >= 0 and <= 1 ? labelSmoothing
        : throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "labelSmoothing must be in [0, 1].");
}
