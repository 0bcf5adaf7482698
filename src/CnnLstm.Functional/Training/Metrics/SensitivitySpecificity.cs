using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// What Keras' <c>SensitivityAtSpecificity</c>, <c>SpecificityAtSensitivity</c>, <c>PrecisionAtRecall</c> and
/// <c>RecallAtPrecision</c> share (keras/src/metrics/confusion_metrics.py, <c>SensitivitySpecificityBase</c>): weighted
/// true and false positives and negatives at <see cref="NumThresholds"/> thresholds, 0, i / (n - 1) and 1 (0.5 alone
/// for one), summed over every batch since the last reset; the result is the largest value of one rate among the
/// thresholds where the other reaches <see cref="Value"/> (0 where none does). A prediction is positive above a
/// threshold (evenly spaced ones counted by bucket of the prediction clipped to [0, 1], as Keras); a target is true
/// where nonzero. With <see cref="ClassId"/> only that class (an index into the last axis) counts.
/// </summary>
public abstract class SensitivitySpecificityBase : Metric
{
    private readonly double[] thresholds;

    /// <exception cref="ArgumentOutOfRangeException">A value outside [0, 1], fewer than 1 threshold, or a negative class id.</exception>
    private protected SensitivitySpecificityBase(string argument, double value, int numThresholds, int? classId, string? name, string prefix)
        : base(name ?? NameScope.UniqueKeras3Name(prefix))
    {
        Value = value is >= 0 and <= 1 ? value
            : throw new ArgumentOutOfRangeException(argument, value, $"{GetType().Name}: argument `{argument}` must be in the range [0, 1] (as Keras).");
        NumThresholds = numThresholds > 0 ? numThresholds
            : throw new ArgumentOutOfRangeException(nameof(numThresholds), numThresholds, $"{GetType().Name}: argument `num_thresholds` must be an integer > 0 (as Keras).");
        ClassId = classId is not < 0 ? classId
            : throw new ArgumentOutOfRangeException(nameof(classId), classId, $"{GetType().Name}: classId must be a class index (0 or more).");
        thresholds = numThresholds == 1 ? new[] { 0.5 }
            : new[] { 0.0 }.Concat(Enumerable.Range(0, numThresholds - 2).Select(i => (i + 1) * 1.0 / (numThresholds - 1))).Append(1.0).ToArray();
        ArgumentName = argument;
    }

    /// <summary>The constraint: the least value the constrained rate must reach.</summary>
    public double Value { get; }

    /// <summary>The number of thresholds.</summary>
    public int NumThresholds { get; }

    /// <summary>The thresholds: 0, i / (n - 1) and 1, or 0.5 alone.</summary>
    public IReadOnlyList<double> Thresholds => thresholds;

    /// <summary>The class counted, or null for every entry.</summary>
    public int? ClassId { get; }

    internal override bool FromStatistics => true;

    /// <summary>The Keras argument holding <see cref="Value"/> (<c>specificity</c>, <c>recall</c>...).</summary>
    private string ArgumentName { get; }

    /// <summary>Adds a batch, as Keras' <c>update_state</c>; one prediction per sample, (batch,), takes one weight per sample as Keras.</summary>
    /// <exception cref="ArgumentException">Shapes that do not fit.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        ArgumentNullException.ThrowIfNull(yTrue);
        ArgumentNullException.ThrowIfNull(yPred);
        if (yPred.dim() == 1 && yTrue.dim() == 1)
        {
            using var scope = NewDisposeScope();
            base.UpdateState(yTrue.unsqueeze(-1), yPred.unsqueeze(-1), sampleWeight);
            return;
        }

        base.UpdateState(yTrue, yPred, sampleWeight);
    }

    /// <summary>Refuses class-id targets, and a class id beyond the output's units, at <c>Compile</c>.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label)
    {
        if (loss.SparseTargets)
        {
            throw new ArgumentException($"Compile: the metric '{Name}' counts targets shaped like the output, but {loss.Name} takes class ids for output {label}.", "metrics");
        }

        return ClassId is not { } id || (shape.Rank >= 2 && shape.Last is { } units && id < units) ? this
            : throw new ArgumentException($"Compile: the metric '{Name}' has classId {id}, but output {label} has shape {shape}; expected a class below its last dimension.", "metrics");
    }

    /// <summary>(tp, fp, tn, fn), each one per threshold.</summary>
    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        var p = output.to_type(ScalarType.Float32);
        var truth = target.reshape(p.shape).ne(Scalars.OfInt(0)).to_type(ScalarType.Float64);
        var w = Spread(weights, p);
        if (ClassId is { } id)
        {
            if (p.dim() < 2 || id >= p.shape[^1])
            {
                throw new ArgumentException($"metric '{Name}': classId {id} needs yPred of shape (num_samples, num_classes) with more than {id} classes, got ({string.Join(", ", p.shape)}) (as Keras).", "yPred");
            }

            p = p[TensorIndex.Ellipsis, TensorIndex.Single(id)];
            truth = truth[TensorIndex.Ellipsis, TensorIndex.Single(id)];
            w = w[TensorIndex.Ellipsis, TensorIndex.Single(id)];
        }

        Tensor positive;
        if (NumThresholds > 1)
        {
            // Keras' evenly spaced path: bucket ceil(p (n - 1)) - 1 of p clipped to [0, 1] (-1 for 0, below every
            // threshold); a prediction is positive at every threshold up to its bucket.
            var bucket = p.clamp(Scalars.OfInt(0), Scalars.IntOne).mul(Scalars.OfInt(NumThresholds - 1)).ceil().sub(Scalars.IntOne);
            positive = arange(Scalars.OfInt(0), Scalars.OfInt(NumThresholds), Scalars.IntOne, dtype: ScalarType.Float32).le(bucket.unsqueeze(-1));
        }
        else
        {
            positive = p.unsqueeze(-1).gt(Scalars.Of(0.5f));
        }

        var predicted = positive.to_type(ScalarType.Float64);
        var t = truth.unsqueeze(-1);
        var weight = w.unsqueeze(-1);
        Tensor Count(Tensor label, Tensor prediction) => label.mul(prediction).mul(weight).reshape(-1, NumThresholds).sum(new long[] { 0 });
        return cat(new[] { Count(t, predicted), Count(Scalars.OneMinus(t), predicted), Count(Scalars.OneMinus(t), Scalars.OneMinus(predicted)), Count(t, Scalars.OneMinus(predicted)) });
    }

    internal override double Result(double[] statistics)
    {
        var n = NumThresholds;
        var best = 0.0;
        for (var i = 0; i < n; i++)
        {
            var (constrained, dependent) = Rates(statistics[i], statistics[n + i], statistics[(2 * n) + i], statistics[(3 * n) + i]);
            // Keras compares its float32 rates with the value as float32.
            if ((float)constrained >= (float)Value)
            {
                best = Math.Max(best, dependent);
            }
        }

        return best;
    }

    /// <summary>Keras' <c>get_config</c>: name, dtype, class_id, num_thresholds and the constraint's argument.</summary>
    public override JsonObject GetConfig() => WithArguments(new JsonObject { ["class_id"] = ClassId, ["num_thresholds"] = NumThresholds, [ArgumentName] = PythonFloat(Value) });

    /// <summary>The constrained rate and the rate maximized, from one threshold's counts.</summary>
    private protected abstract (double Constrained, double Dependent) Rates(double tp, double fp, double tn, double fn);

    /// <summary>Reads a serialized metric of this family: its constraint argument (required), num_thresholds, class_id.</summary>
    /// <exception cref="FormatException">A missing or mistyped argument, a value out of range, or an unknown argument.</exception>
    /// <exception cref="NotSupportedException">A dtype other than float32.</exception>
    internal static SensitivitySpecificityBase FromConfig(string className, LayerConfig config)
    {
        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        if (dtype is not null && dtype != "float32")
        {
            throw new NotSupportedException($"compile_config: the metric {className} with dtype {dtype} is not supported; this library computes metrics in float64 from float32 outputs.");
        }

        var argument = className switch
        {
            "SensitivityAtSpecificity" => "specificity",
            "SpecificityAtSensitivity" => "sensitivity",
            "PrecisionAtRecall" => "recall",
            _ => "precision",
        };
        var name = config.GetNullableString("name");
        var value = config.UnreadKeys.Contains(argument) && config.GetRaw(argument) is not null ? config.GetDouble(argument, 0)
            : throw config.Error($"the argument '{argument}' is required.");
        var numThresholds = config.GetInt("num_thresholds", 200);
        var classId = config.GetNullableInt("class_id");
        try
        {
            SensitivitySpecificityBase metric = className switch
            {
                "SensitivityAtSpecificity" => new SensitivityAtSpecificity(value, numThresholds, classId, name),
                "SpecificityAtSensitivity" => new SpecificityAtSensitivity(value, numThresholds, classId, name),
                "PrecisionAtRecall" => new PrecisionAtRecall(value, numThresholds, classId, name),
                _ => new RecallAtPrecision(value, numThresholds, classId, name),
            };
            var unknown = config.UnreadKeys;
            return unknown.Count == 0 ? metric
                : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the metric {className}.");
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }
}

/// <summary>Keras' <c>SensitivityAtSpecificity</c>: the best sensitivity (recall) among the thresholds where the specificity is at least <see cref="SensitivitySpecificityBase.Value"/>.</summary>
/// <param name="specificity">The specificity to reach, in [0, 1].</param>
/// <param name="numThresholds">The number of thresholds, at least 1.</param>
/// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
/// <param name="name">The logged name; null for Keras' <c>sensitivity_at_specificity</c>, <c>..._1</c>, ... (unique per session).</param>
public sealed class SensitivityAtSpecificity(double specificity, int numThresholds = 200, int? classId = null, string? name = null)
    : SensitivitySpecificityBase("specificity", specificity, numThresholds, classId, name, "sensitivity_at_specificity")
{
    private protected override (double Constrained, double Dependent) Rates(double tp, double fp, double tn, double fn) => (Ratio(tn, tn + fp), Ratio(tp, tp + fn));
}

/// <summary>Keras' <c>SpecificityAtSensitivity</c>: the best specificity among the thresholds where the sensitivity (recall) is at least <see cref="SensitivitySpecificityBase.Value"/>.</summary>
/// <param name="sensitivity">The sensitivity to reach, in [0, 1].</param>
/// <param name="numThresholds">The number of thresholds, at least 1.</param>
/// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
/// <param name="name">The logged name; null for Keras' <c>specificity_at_sensitivity</c>, <c>..._1</c>, ... (unique per session).</param>
public sealed class SpecificityAtSensitivity(double sensitivity, int numThresholds = 200, int? classId = null, string? name = null)
    : SensitivitySpecificityBase("sensitivity", sensitivity, numThresholds, classId, name, "specificity_at_sensitivity")
{
    private protected override (double Constrained, double Dependent) Rates(double tp, double fp, double tn, double fn) => (Ratio(tp, tp + fn), Ratio(tn, tn + fp));
}

/// <summary>Keras' <c>PrecisionAtRecall</c>: the best precision among the thresholds where the recall is at least <see cref="SensitivitySpecificityBase.Value"/>.</summary>
/// <param name="recall">The recall to reach, in [0, 1].</param>
/// <param name="numThresholds">The number of thresholds, at least 1.</param>
/// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
/// <param name="name">The logged name; null for Keras' <c>precision_at_recall</c>, <c>..._1</c>, ... (unique per session).</param>
public sealed class PrecisionAtRecall(double recall, int numThresholds = 200, int? classId = null, string? name = null)
    : SensitivitySpecificityBase("recall", recall, numThresholds, classId, name, "precision_at_recall")
{
    private protected override (double Constrained, double Dependent) Rates(double tp, double fp, double tn, double fn) => (Ratio(tp, tp + fn), Ratio(tp, tp + fp));
}

/// <summary>Keras' <c>RecallAtPrecision</c>: the best recall among the thresholds where the precision is at least <see cref="SensitivitySpecificityBase.Value"/>.</summary>
/// <param name="precision">The precision to reach, in [0, 1].</param>
/// <param name="numThresholds">The number of thresholds, at least 1.</param>
/// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
/// <param name="name">The logged name; null for Keras' <c>recall_at_precision</c>, <c>..._1</c>, ... (unique per session).</param>
public sealed class RecallAtPrecision(double precision, int numThresholds = 200, int? classId = null, string? name = null)
    : SensitivitySpecificityBase("precision", precision, numThresholds, classId, name, "recall_at_precision")
{
    private protected override (double Constrained, double Dependent) Rates(double tp, double fp, double tn, double fn) => (Ratio(tp, tp + fp), Ratio(tp, tp + fn));
}
