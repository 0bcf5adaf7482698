using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// What Keras' <c>TruePositives</c>, <c>FalsePositives</c>, <c>TrueNegatives</c> and <c>FalseNegatives</c>
/// (keras/src/metrics/confusion_metrics.py, <c>_ConfusionMatrixConditionCount</c>) share: the weighted count, over
/// every entry since the last reset, of one cell of the confusion matrix, a prediction being positive above the
/// threshold (0.5) and a target true where nonzero. A sample's weight counts for each of its entries.
/// </summary>
public abstract class ConfusionCount : Metric
{
    private readonly bool countTrue;
    private readonly bool countPositive;

    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1].</exception>
    private protected ConfusionCount(double? thresholds, string name, bool countTrue, bool countPositive)
        : base(name)
    {
        Thresholds = thresholds is not { } t || (t >= 0 && t <= 1) ? thresholds
            : throw new ArgumentOutOfRangeException(nameof(thresholds), t, $"{GetType().Name}: threshold values must be in [0, 1] (as Keras).");
        this.countTrue = countTrue;
        this.countPositive = countPositive;
    }

    /// <summary>The threshold, or null for Keras' default 0.5.</summary>
    public double? Thresholds { get; }

    internal override bool FromStatistics => true;

    /// <summary>Refuses class-id targets at <c>Compile</c>: the counts compare targets shaped like the output.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label) => !loss.SparseTargets ? this
        : throw new ArgumentException($"Compile: the metric '{Name}' counts targets shaped like the output, but {loss.Name} takes class ids for output {label}.", "metrics");

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        var p = output.to_type(ScalarType.Float32);
        var truth = target.reshape(p.shape).ne(Scalars.OfInt(0));
        var positive = p.gt(Scalars.Of((float)(Thresholds ?? 0.5)));
        var cell = (countTrue ? truth : truth.logical_not()).logical_and(countPositive ? positive : positive.logical_not());
        return cell.to_type(ScalarType.Float64).mul(Spread(weights, p)).sum().unsqueeze(0);
    }

    internal override double Result(double[] statistics) => statistics[0];

    /// <summary>Name, dtype and <c>thresholds</c> (null for the default), as Keras.</summary>
    public override JsonObject GetConfig() => WithArguments(new JsonObject { ["thresholds"] = Thresholds });

    /// <summary>Reads the threshold of a serialized count: null, a number or a one-item list.</summary>
    /// <exception cref="NotSupportedException">Several thresholds (Keras' value is then a list).</exception>
    internal static double? ReadThresholds(LayerConfig config) => config.GetRaw("thresholds") switch
    {
        null => null,
        JsonArray { Count: 1 } one when one[0] is JsonValue v && v.TryGetValue<double>(out var x) => x,
        JsonArray many => throw new NotSupportedException($"compile_config: the metric {config.ClassName} with thresholds {many.ToJsonString()} is not supported: with several thresholds Keras' value is a list, which this library's logs (one number per name) cannot hold; use one metric per threshold."),
        _ => config.GetDouble("thresholds", 0.5),
    };
}

/// <summary>Keras' <c>TruePositives</c>: the weighted count of entries with a nonzero target predicted above the threshold.</summary>
/// <param name="thresholds">One threshold in [0, 1]; null for 0.5. Several (a list in Keras) are not supported, as a log holds one number.</param>
/// <param name="name">The logged name.</param>
public sealed class TruePositives(double? thresholds = null, string name = "true_positives") : ConfusionCount(thresholds, name, true, true);

/// <summary>Keras' <c>FalsePositives</c>: the weighted count of entries with a zero target predicted above the threshold.</summary>
/// <param name="thresholds">One threshold in [0, 1]; null for 0.5.</param>
/// <param name="name">The logged name.</param>
public sealed class FalsePositives(double? thresholds = null, string name = "false_positives") : ConfusionCount(thresholds, name, false, true);

/// <summary>Keras' <c>TrueNegatives</c>: the weighted count of entries with a zero target predicted at or below the threshold.</summary>
/// <param name="thresholds">One threshold in [0, 1]; null for 0.5.</param>
/// <param name="name">The logged name.</param>
public sealed class TrueNegatives(double? thresholds = null, string name = "true_negatives") : ConfusionCount(thresholds, name, false, false);

/// <summary>Keras' <c>FalseNegatives</c>: the weighted count of entries with a nonzero target predicted at or below the threshold.</summary>
/// <param name="thresholds">One threshold in [0, 1]; null for 0.5.</param>
/// <param name="name">The logged name.</param>
public sealed class FalseNegatives(double? thresholds = null, string name = "false_negatives") : ConfusionCount(thresholds, name, true, false);
