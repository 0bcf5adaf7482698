using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Training.Losses;

/// <summary>
/// What <see cref="BinaryCrossentropy"/> and <see cref="CategoricalCrossentropy"/> share, as Keras' two classes take
/// the same arguments (keras/src/losses/losses.py): <c>from_logits</c>, <c>label_smoothing</c> in [0, 1] and the
/// <c>axis</c> the loss reduces, written to and read from configs under those keys.
/// </summary>
public abstract class SmoothedCrossentropy : Loss
{
    /// <summary>Keras' backend epsilon.</summary>
    internal const double Epsilon = 1e-7;

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is not in [0, 1].</exception>
    private protected SmoothedCrossentropy(bool fromLogits, double labelSmoothing, int axis, string? reduction, string name, string defaultName)
        : base(reduction, name, defaultName)
    {
        // Keras documents label smoothing in [0, 1].
        LabelSmoothing = labelSmoothing is >= 0 and <= 1 ? labelSmoothing
            : throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "labelSmoothing must be in [0, 1].");
        FromLogits = fromLogits;
        Axis = axis;
    }

    /// <summary>Whether the output holds logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The label smoothing, in [0, 1].</summary>
    public double LabelSmoothing { get; }

    /// <summary>The axis the loss reduces (counted from the end when negative).</summary>
    public int Axis { get; }

    internal override void CheckOutput(Shape shape, string label) => CanonicalAxis(Axis, shape.Rank, label);

    internal override bool ReducesLastAxis(int rank) => CanonicalAxis(Axis, rank, string.Empty) == rank - 1;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["from_logits"] = FromLogits;
        config["label_smoothing"] = LabelSmoothing;
        config["axis"] = Axis;
        return config;
    }

    /// <summary>Probabilities clipped to [epsilon, 1 - epsilon], as Keras' backends do before the log.</summary>
    internal static Tensor Clipped(Tensor p) => p.clamp(Scalars.Of(Epsilon), Scalars.Of(1 - Epsilon));
}
