using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>AUC</c> (keras/src/metrics/confusion_metrics.py, metrics_utils.py): weighted true and false positives and
/// negatives at each threshold, summed over an epoch's batches, and the area under the ROC, precision-recall or
/// precision-recall-gain curve they trace. Thresholds are -epsilon, <c>numThresholds</c> - 2 evenly spaced ones in
/// (0, 1) (or the sorted <see cref="Thresholds"/>) and 1 + epsilon; evenly spaced thresholds count predictions
/// clipped to [0, 1] by bucket, others compare them directly, as Keras does. Targets count as true where nonzero.
/// With <see cref="MultiLabel"/> each label (last axis of a rank-2 output) has its own curve and the result is the
/// (label-weighted) mean of their areas; otherwise every entry joins one curve, weighted by its label's weight.
/// </summary>
public sealed class AUC : Metric
{
    private readonly double[] thresholds;
    private readonly bool evenlySpaced;
    private readonly double[]? userThresholds;

    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="numThresholds">The number of thresholds, more than 1 (ignored when <paramref name="thresholds"/> is given).</param>
    /// <param name="curve"><c>ROC</c>, <c>PR</c> or <c>PRGAIN</c> (also lower case).</param>
    /// <param name="summationMethod"><c>interpolation</c> (trapezoids; for PR, Davis and Goadrich's interpolation),
    /// <c>minoring</c> or <c>majoring</c> (also capitalised).</param>
    /// <param name="name">The logged name; null for Keras' <c>auc</c>, <c>auc_1</c>, ... (unique per session).</param>
    /// <param name="thresholds">Finite thresholds to use instead of evenly spaced ones.</param>
    /// <param name="multiLabel">One curve per label (the output must have rank 2), averaged.</param>
    /// <param name="numLabels">With <paramref name="multiLabel"/>: the number of labels, checked against the output at <c>Compile</c>.</param>
    /// <param name="labelWeights">Non-negative weights per label: the weights of the label AUCs' mean with
    /// <paramref name="multiLabel"/>, otherwise of each label's entries in the counts.</param>
    /// <param name="fromLogits">Whether the output holds logits (a sigmoid is applied first).</param>
    /// <exception cref="ArgumentException">An unknown curve or summation method, <paramref name="numLabels"/>
    /// without <paramref name="multiLabel"/>, or an empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numThresholds"/> below 2, a threshold that is not
    /// finite, or a label weight that is negative or not finite.</exception>
    public AUC(int numThresholds = 200, string curve = "ROC", string summationMethod = "interpolation", string? name = null,
        double[]? thresholds = null, bool multiLabel = false, int? numLabels = null, double[]? labelWeights = null, bool fromLogits = false)
        : base(name ?? NameScope.UniqueKeras3Name("auc"))
    {
        Curve = curve switch
        {
            "ROC" or "roc" => "ROC",
            "PR" or "pr" => "PR",
            "PRGAIN" or "prgain" => "PRGAIN",
            _ => throw new ArgumentException($"AUC: invalid curve '{curve}'; expected ROC, PR or PRGAIN.", nameof(curve)),
        };
        SummationMethod = summationMethod switch
        {
            "interpolation" or "Interpolation" => "interpolation",
            "majoring" or "Majoring" => "majoring",
            "minoring" or "Minoring" => "minoring",
            _ => throw new ArgumentException($"AUC: invalid summation method '{summationMethod}'; expected interpolation, majoring or minoring.", nameof(summationMethod)),
        };
        if (thresholds is not null)
        {
            if (thresholds.Any(t => !double.IsFinite(t)))
            {
                throw new ArgumentOutOfRangeException(nameof(thresholds), "AUC: thresholds must be finite numbers.");
            }

            userThresholds = thresholds.Order().ToArray();
            NumThresholds = userThresholds.Length + 2;
            evenlySpaced = EvenlySpaced(new[] { 0.0 }.Concat(userThresholds).Append(1.0).ToArray());
        }
        else
        {
            NumThresholds = numThresholds > 1 ? numThresholds
                : throw new ArgumentOutOfRangeException(nameof(numThresholds), numThresholds, "AUC: numThresholds must be an integer > 1.");
            userThresholds = null;
            evenlySpaced = true;
        }

        var inner = userThresholds ?? Enumerable.Range(1, NumThresholds - 2).Select(i => i * 1.0 / (NumThresholds - 1)).ToArray();
        this.thresholds = new[] { -SmoothedCrossentropy.Epsilon }.Concat(inner).Append(1 + SmoothedCrossentropy.Epsilon).ToArray();
        if (numLabels is not null && !multiLabel)
        {
            throw new ArgumentException("AUC: numLabels is needed only when multiLabel is true (as Keras).", nameof(numLabels));
        }

        if (numLabels is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(numLabels), numLabels, "AUC: numLabels must be at least 1.");
        }

        if (labelWeights is not null && labelWeights.Any(w => !double.IsFinite(w) || w < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(labelWeights), "AUC: label weights must be finite and non-negative.");
        }

        MultiLabel = multiLabel;
        NumLabels = numLabels;
        LabelWeights = labelWeights?.ToArray();
        FromLogits = fromLogits;
    }

    /// <summary>The number of thresholds, the two end points included.</summary>
    public int NumThresholds { get; }

    /// <summary><c>ROC</c>, <c>PR</c> or <c>PRGAIN</c>.</summary>
    public string Curve { get; }

    /// <summary><c>interpolation</c>, <c>majoring</c> or <c>minoring</c>.</summary>
    public string SummationMethod { get; }

    /// <summary>The thresholds, end points included.</summary>
    public IReadOnlyList<double> Thresholds => thresholds;

    /// <summary>Whether each label has its own curve.</summary>
    public bool MultiLabel { get; }

    /// <summary>The number of labels given, or null.</summary>
    public int? NumLabels { get; }

    /// <summary>The label weights, or null.</summary>
    public IReadOnlyList<double>? LabelWeights { get; }

    /// <summary>Whether the output holds logits.</summary>
    public bool FromLogits { get; }

    internal override Metric ForOutput(Loss loss, Shape shape, string label)
    {
        if (loss.SparseTargets)
        {
            throw new ArgumentException($"Compile: the metric '{Name}' counts targets shaped like the output, but {loss.Name} takes class ids for output {label}.", "metrics");
        }

        if (MultiLabel && shape.Rank != 2)
        {
            throw new ArgumentException($"Compile: the metric '{Name}' with multiLabel needs an output of rank 2 (samples, labels), but output {label} has shape {shape} (as Keras).", "metrics");
        }

        var units = shape.Last;
        if (MultiLabel && NumLabels is { } labels && labels != units)
        {
            throw new ArgumentException($"Compile: the metric '{Name}' has numLabels {labels}, but output {label} has shape {shape}.", "metrics");
        }

        if (LabelWeights is { } weights && weights.Count != units && !(weights.Count == 1 && !MultiLabel))
        {
            throw new ArgumentException($"Compile: the metric '{Name}' has {weights.Count} label weights, but output {label} has shape {shape}; expected one per unit.", "metrics");
        }

        return this;
    }

    /// <summary>(tp, fp, tn, fn), each (thresholds) or, with <see cref="MultiLabel"/>, (thresholds, labels), flattened.</summary>
    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        var p = output.to_type(ScalarType.Float32);
        if (FromLogits)
        {
            p = p.sigmoid();
        }

        var truth = target.reshape(p.shape).ne(Scalars.OfInt(0)).to_type(ScalarType.Float64).unsqueeze(-1);
        var w = Spread(weights, p);
        if (LabelWeights is not null && !MultiLabel)
        {
            w = w * tensor(LabelWeights.ToArray(), dtype: ScalarType.Float64);
        }

        Tensor positive;
        if (evenlySpaced)
        {
            // Keras' optimized path: bucket ceil(p (n - 1)) - 1 of p clipped to [0, 1] (at least 0, as the first
            // threshold is below 0); a prediction is positive at every threshold up to its bucket.
            var bucket = p.clamp(Scalars.OfInt(0), Scalars.IntOne).mul(Scalars.OfInt(NumThresholds - 1)).ceil().sub(Scalars.IntOne).relu();
            positive = arange(Scalars.OfInt(0), Scalars.OfInt(NumThresholds), Scalars.IntOne, dtype: ScalarType.Float32).le(bucket.unsqueeze(-1));
        }
        else
        {
            positive = p.unsqueeze(-1).gt(tensor(thresholds.Select(t => (float)t).ToArray()));
        }

        var predicted = positive.to_type(ScalarType.Float64);
        var weight = w.unsqueeze(-1);
        Tensor Count(Tensor label, Tensor prediction)
        {
            var counts = label * prediction * weight;
            // Per label: sum over samples only, (labels, thresholds) -> (thresholds, labels).
            return MultiLabel ? counts.sum(new long[] { 0 }).t().reshape(-1) : counts.reshape(-1, NumThresholds).sum(new long[] { 0 });
        }

        return cat(new[] { Count(truth, predicted), Count(Scalars.OneMinus(truth), predicted), Count(Scalars.OneMinus(truth), Scalars.OneMinus(predicted)), Count(truth, Scalars.OneMinus(predicted)) });
    }

    internal override double Result(double[] statistics)
    {
        var n = NumThresholds;
        var labels = statistics.Length / (4 * n);
        var areas = new double[labels];
        for (var l = 0; l < labels; l++)
        {
            var label = l;
            double Stat(int kind, int i) => statistics[(kind * n * labels) + (i * labels) + label];
            areas[l] = Area(i => Stat(0, i), i => Stat(1, i), i => Stat(2, i), i => Stat(3, i));
        }

        if (!MultiLabel)
        {
            return areas[0];
        }

        return LabelWeights is null ? areas.Average()
            : Ratio(areas.Select((a, i) => a * LabelWeights[i]).Sum(), LabelWeights.Sum());
    }

    internal override bool FromStatistics => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = new JsonObject
        {
            ["num_thresholds"] = NumThresholds, ["curve"] = Curve, ["summation_method"] = SummationMethod, ["multi_label"] = MultiLabel,
            ["num_labels"] = NumLabels, ["label_weights"] = LabelWeights is null ? null : new JsonArray(LabelWeights.Select(w => (JsonNode?)w).ToArray()),
            ["from_logits"] = FromLogits,
        };
        if (userThresholds is not null)
        {
            config["thresholds"] = new JsonArray(userThresholds.Select(t => (JsonNode?)t).ToArray());
        }

        return WithArguments(config);
    }

    /// <summary>Reads a serialized AUC with its arguments.</summary>
    /// <exception cref="FormatException">An argument of the wrong type or range, or an unknown argument.</exception>
    /// <exception cref="NotSupportedException">A dtype other than float32.</exception>
    internal static AUC FromConfig(LayerConfig config)
    {
        var name = config.GetNullableString("name");
        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        if (dtype is not null && dtype != "float32")
        {
            throw new NotSupportedException($"compile_config: the metric AUC with dtype {dtype} is not supported; this library computes metrics in float64 from float32 outputs.");
        }

        double[]? Numbers(string key) => config.GetRaw(key) switch
        {
            null => null,
            JsonArray list when list.All(v => v is JsonValue x && x.TryGetValue<double>(out _)) => list.Select(v => v!.GetValue<double>()).ToArray(),
            var other => throw config.Error($"'{key}' must be a list of numbers, got {other.ToJsonString()}."),
        };
        try
        {
            var auc = new AUC(config.GetInt("num_thresholds", 200), config.GetString("curve", "ROC"), config.GetString("summation_method", "interpolation"), name,
                Numbers("thresholds"), config.GetBool("multi_label", false), config.GetNullableInt("num_labels"), Numbers("label_weights"), config.GetBool("from_logits", false));
            var unknown = config.UnreadKeys;
            return unknown.Count == 0 ? auc
                : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the metric AUC.");
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <summary>Keras' <c>is_evenly_distributed_thresholds</c>: at least 3, and within numpy's allclose of i / (n - 1).</summary>
    private static bool EvenlySpaced(double[] values) =>
        values.Length >= 3 && values.Select((v, i) => Math.Abs(v - (double)((float)i / (values.Length - 1))) <= SmoothedCrossentropy.Epsilon + (1e-5 * (double)((float)i / (values.Length - 1)))).All(ok => ok);

    /// <summary>The area for one curve, as Keras' <c>result</c> (and <c>interpolate_pr_auc</c> for PR interpolation).</summary>
    private double Area(Func<int, double> tp, Func<int, double> fp, Func<int, double> tn, Func<int, double> fn)
    {
        var n = NumThresholds;
        var area = 0.0;
        if (Curve == "PR" && SummationMethod == "interpolation")
        {
            for (var i = 0; i < n - 1; i++)
            {
                var dtp = tp(i) - tp(i + 1);
                var (p0, p1) = (tp(i) + fp(i), tp(i + 1) + fp(i + 1));
                var slope = Ratio(dtp, Math.Max(p0 - p1, 0));
                var intercept = tp(i + 1) - (slope * p1);
                var ratio = p0 > 0 && p1 > 0 ? Ratio(p0, Math.Max(p1, 0)) : 1;
                area += Ratio(slope * (dtp + (intercept * Math.Log(ratio))), Math.Max(tp(i + 1) + fn(i + 1), 0));
            }

            return area;
        }

        double X(int i) => Curve switch
        {
            "ROC" => Ratio(fp(i), fp(i) + tn(i)),
            "PR" => Ratio(tp(i), tp(i) + fn(i)),
            _ => tp(i) == 0 ? 0 : Math.Max(1 - (Scaling(i) * Ratio(fn(i), tp(i))), 0),
        };
        double Y(int i) => Curve switch
        {
            "ROC" => Ratio(tp(i), tp(i) + fn(i)),
            "PR" => Ratio(tp(i), tp(i) + fp(i)),
            _ => tp(i) == 0 ? 1 : 1 - (Scaling(i) * Ratio(fp(i), tp(i))),
        };
        double Scaling(int i) => Ratio(tp(i) + fn(i), tn(i) + fp(i));
        for (var i = 0; i < n - 1; i++)
        {
            var height = SummationMethod switch
            {
                "interpolation" => (Y(i) + Y(i + 1)) / 2,
                "minoring" => Math.Min(Y(i), Y(i + 1)),
                _ => Math.Max(Y(i), Y(i + 1)),
            };
            area += (X(i) - X(i + 1)) * height;
        }

        return area;
    }
}
