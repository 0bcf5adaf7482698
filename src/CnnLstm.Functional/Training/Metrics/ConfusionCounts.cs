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

    /// <summary>The threshold, or null for Keras' default 0.5 (or for a <see cref="ThresholdList"/>).</summary>
    public double? Thresholds { get; }

    /// <summary>Several thresholds (Keras' list result, one count per threshold, read with <see cref="Metric.ResultValues()"/>), or null.</summary>
    public IReadOnlyList<double>? ThresholdList { get; private set; }

    internal override bool FromStatistics => true;

    private int Count => ThresholdList?.Count ?? 1;

    /// <summary>Refuses class-id targets, and several thresholds (a list a log cannot hold), at <c>Compile</c>.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label) =>
        loss.SparseTargets ? throw new ArgumentException($"Compile: the metric '{Name}' counts targets shaped like the output, but {loss.Name} takes class ids for output {label}.", "metrics")
        : Count > 1 ? throw new ArgumentException($"Compile: the metric '{Name}' ({GetType().Name} with {Count} thresholds) is not supported: Keras 3.16 logs an array for it (one count per threshold, in History and Evaluate), but this library's logs, History and Evaluate hold one number per name. Compile one {GetType().Name} per threshold, each with its own name (e.g. new {GetType().Name}({ThresholdList![0].ToString(System.Globalization.CultureInfo.InvariantCulture)}, \"{Name}_{ThresholdList![0].ToString(System.Globalization.CultureInfo.InvariantCulture)}\")), or read ResultValues() of an eager metric after Predict.", "metrics")
        : this;

    /// <summary>
    /// Adds a batch, as Keras' <c>update_state</c>; besides the weights <see cref="Metric.UpdateState(Tensor, Tensor, Tensor?)"/>
    /// takes, one weight per entry of the predictions (their shape), as Keras broadcasts them.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes that do not fit.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        if (!TryUpdateStatePerEntry(yTrue, yPred, sampleWeight))
        {
            base.UpdateState(yTrue, yPred, sampleWeight);
        }
    }

    /// <summary>Keras' result: the count, unless several thresholds were given (then read <see cref="Metric.ResultValues()"/>).</summary>
    /// <exception cref="InvalidOperationException">Several thresholds.</exception>
    public override double Result() => Count == 1 ? base.Result()
        : throw new InvalidOperationException($"{GetType().Name} '{Name}': with {Count} thresholds Keras' result is one count per threshold; read ResultValues().");

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        var p = output.to_type(ScalarType.Float32);
        var truth = target.reshape(p.shape).ne(Scalars.OfInt(0)).unsqueeze(-1);
        var thresholds = ThresholdList?.Select(t => (float)t).ToArray() ?? new[] { (float)(Thresholds ?? 0.5) };
        var positive = p.unsqueeze(-1).gt(tensor(thresholds));
        var cell = (countTrue ? truth : truth.logical_not()).logical_and(countPositive ? positive : positive.logical_not());
        return cell.to_type(ScalarType.Float64).mul(Spread(weights, p).unsqueeze(-1)).reshape(-1, thresholds.Length).sum(new long[] { 0 });
    }

    internal override double Result(double[] statistics) => Count == 1 ? statistics[0]
        : throw new InvalidOperationException($"{GetType().Name} '{Name}': with {Count} thresholds Keras' result is one count per threshold; read ResultValues().");

    internal override double[] ResultValues(double[] statistics) => statistics.ToArray();

    internal override double[] EmptyResultValues => new double[Count];

    /// <summary>Name, dtype and <c>thresholds</c> (null for the default, a list when several), as Keras.</summary>
    public override JsonObject GetConfig() => WithArguments(new JsonObject
    {
        ["thresholds"] = ThresholdList is { } list ? new JsonArray(list.Select(t => (JsonNode?)t).ToArray()) : Thresholds,
    });

    /// <summary>Sets several thresholds (the list constructors), checked as Keras.</summary>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1].</exception>
    private protected void SetThresholds(IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (thresholds.Count == 0)
        {
            throw new ArgumentException($"{GetType().Name}: give at least one threshold.", nameof(thresholds));
        }

        if (thresholds.Any(t => !(t >= 0 && t <= 1)))
        {
            throw new ArgumentOutOfRangeException(nameof(thresholds), $"{GetType().Name}: threshold values must be in [0, 1]; received [{string.Join(", ", thresholds)}] (as Keras).");
        }

        ThresholdList = thresholds.ToArray();
    }

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
/// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>true_positives</c>, then <c>true_positives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
public sealed class TruePositives(double? thresholds = null, string? name = null) : ConfusionCount(thresholds, name ?? NameScope.UniqueKeras3Name("true_positives"), true, true)
{
    /// <summary>Several thresholds, as Keras' <c>TruePositives(thresholds=[...])</c>: one count per threshold, read with <see cref="Metric.ResultValues()"/>; eager only (a log holds one number).</summary>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>true_positives</c>, then <c>true_positives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1].</exception>
    public TruePositives(IReadOnlyList<double> thresholds, string? name = null)
        : this((double?)null, name) => SetThresholds(thresholds);
}

/// <summary>Keras' <c>FalsePositives</c>: the weighted count of entries with a zero target predicted above the threshold.</summary>
/// <param name="thresholds">One threshold in [0, 1]; null for 0.5.</param>
/// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>false_positives</c>, then <c>false_positives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
public sealed class FalsePositives(double? thresholds = null, string? name = null) : ConfusionCount(thresholds, name ?? NameScope.UniqueKeras3Name("false_positives"), false, true)
{
    /// <summary>Several thresholds, as Keras' <c>FalsePositives(thresholds=[...])</c>: one count per threshold, read with <see cref="Metric.ResultValues()"/>; eager only (a log holds one number).</summary>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>false_positives</c>, then <c>false_positives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1].</exception>
    public FalsePositives(IReadOnlyList<double> thresholds, string? name = null)
        : this((double?)null, name) => SetThresholds(thresholds);
}

/// <summary>Keras' <c>TrueNegatives</c>: the weighted count of entries with a zero target predicted at or below the threshold.</summary>
/// <param name="thresholds">One threshold in [0, 1]; null for 0.5.</param>
/// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>true_negatives</c>, then <c>true_negatives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
public sealed class TrueNegatives(double? thresholds = null, string? name = null) : ConfusionCount(thresholds, name ?? NameScope.UniqueKeras3Name("true_negatives"), false, false)
{
    /// <summary>Several thresholds, as Keras' <c>TrueNegatives(thresholds=[...])</c>: one count per threshold, read with <see cref="Metric.ResultValues()"/>; eager only (a log holds one number).</summary>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>true_negatives</c>, then <c>true_negatives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1].</exception>
    public TrueNegatives(IReadOnlyList<double> thresholds, string? name = null)
        : this((double?)null, name) => SetThresholds(thresholds);
}

/// <summary>Keras' <c>FalseNegatives</c>: the weighted count of entries with a nonzero target predicted at or below the threshold.</summary>
/// <param name="thresholds">One threshold in [0, 1]; null for 0.5.</param>
/// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>false_negatives</c>, then <c>false_negatives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
public sealed class FalseNegatives(double? thresholds = null, string? name = null) : ConfusionCount(thresholds, name ?? NameScope.UniqueKeras3Name("false_negatives"), true, false)
{
    /// <summary>Several thresholds, as Keras' <c>FalseNegatives(thresholds=[...])</c>: one count per threshold, read with <see cref="Metric.ResultValues()"/>; eager only (a log holds one number).</summary>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <param name="name">The logged name; null (the default) for Keras' <c>auto_name</c>: <c>false_negatives</c>, then <c>false_negatives_1</c>, ... (counted until <c>Backend.ClearSession()</c>).</param>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1].</exception>
    public FalseNegatives(IReadOnlyList<double> thresholds, string? name = null)
        : this((double?)null, name) => SetThresholds(thresholds);
}
