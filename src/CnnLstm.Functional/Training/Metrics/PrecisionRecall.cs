using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// What <see cref="Precision"/> and <see cref="Recall"/> share: their arguments, and Keras'
/// <c>update_confusion_matrix_variables</c> (keras/src/metrics/metrics_utils.py) at one threshold, with <c>top_k</c>
/// and <c>class_id</c>.
/// </summary>
public abstract class PrecisionRecall : Metric
{
    /// <summary>Keras' NEG_INF: the default threshold with <c>top_k</c>, and the value of predictions outside the top k.</summary>
    private const float NegativeInfinity = -1e10f;

    /// <summary>Checks the arguments as Keras' constructors do.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], topK below 1 or a negative classId.</exception>
    private protected PrecisionRecall(double? thresholds, int? topK, int? classId, string name)
        : base(name)
    {
        if (thresholds is { } t && !(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(thresholds), t, "Threshold values must be in [0, 1] (as Keras).");
        }

        if (topK is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(topK), topK, "topK must be at least 1.");
        }

        if (classId is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(classId), classId, "classId must be a class index (0 or more).");
        }

        Thresholds = thresholds;
        TopK = topK;
        ClassId = classId;
    }

    /// <summary>Checks the arguments as Keras' constructors do, with a list of thresholds.</summary>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], topK below 1 or a negative classId.</exception>
    private protected PrecisionRecall(IReadOnlyList<double> thresholds, int? topK, int? classId, string name)
        : this((double?)null, topK, classId, name)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (thresholds.Count == 0)
        {
            throw new ArgumentException($"{GetType().Name}: give at least one threshold.", nameof(thresholds));
        }

        if (thresholds.FirstOrDefault(t => !(t >= 0 && t <= 1), 0.5) is var bad && !(bad >= 0 && bad <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(thresholds), bad, "Threshold values must be in [0, 1] (as Keras).");
        }

        ThresholdList = thresholds.ToArray();
    }

    /// <summary>The thresholds given as a list (Keras' result is then one value per threshold, read with <see cref="Metric.ResultValues()"/>), or null.</summary>
    public IReadOnlyList<double>? ThresholdList { get; }

    /// <summary>The number of thresholds counted.</summary>
    private protected int Count => ThresholdList?.Count ?? 1;

    /// <summary>The value of one threshold from its two counts.</summary>
    private protected double[] PerThreshold(double[] statistics) =>
        Enumerable.Range(0, Count).Select(i => Ratio(statistics[i], statistics[i] + statistics[Count + i])).ToArray();

    /// <summary>Keras' result: one number, unless several thresholds were given (then read <see cref="Metric.ResultValues()"/>).</summary>
    /// <exception cref="InvalidOperationException">Several thresholds.</exception>
    public override double Result() => Count == 1 ? base.Result()
        : throw new InvalidOperationException($"{GetType().Name} '{Name}': with {Count} thresholds Keras' result is one value per threshold; read ResultValues().");

    internal override double Result(double[] statistics) => Count == 1 ? PerThreshold(statistics)[0]
        : throw new InvalidOperationException($"{GetType().Name} '{Name}': with {Count} thresholds Keras' result is one value per threshold; read ResultValues().");

    internal override double[] ResultValues(double[] statistics) => PerThreshold(statistics);

    internal override double[] EmptyResultValues => new double[Count];

    /// <summary>The threshold, or null for the default (0.5, or none with <see cref="TopK"/>).</summary>
    public double? Thresholds { get; }

    /// <summary>The number of largest predictions of the last axis that can count as positive, or null for all.</summary>
    public int? TopK { get; }

    /// <summary>The class counted (an index into the last axis), or null for every entry.</summary>
    public int? ClassId { get; }

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

    /// <summary>Checks that <c>top_k</c> and <c>class_id</c> fit the output's units, at <c>Compile</c>.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label)
    {
        if (loss.SparseTargets)
        {
            throw new ArgumentException($"Compile: the metric '{Name}' counts targets shaped like the output, but {loss.Name} takes class ids for output {label}.", "metrics");
        }

        if (Count > 1)
        {
            throw new ArgumentException($"Compile: the metric '{Name}' ({GetType().Name} with {Count} thresholds) is not supported: Keras 3.16 logs an array for it (one value per threshold, in History and Evaluate), but this library's logs, History and Evaluate hold one number per name. Compile one {GetType().Name} per threshold, each with its own name (e.g. new {GetType().Name}(thresholds: {ThresholdList![0].ToString(System.Globalization.CultureInfo.InvariantCulture)}, name: \"{Name}_{ThresholdList![0].ToString(System.Globalization.CultureInfo.InvariantCulture)}\")), or read ResultValues() of an eager metric after Predict.", "metrics");
        }

        var units = shape.Last;
        if (ClassId is { } id && (units is null || id >= units))
        {
            throw new ArgumentException($"Compile: the metric '{Name}' has classId {id}, but output {label} has shape {shape}; expected a class below its last dimension.", "metrics");
        }

        if (TopK is { } k && (units is null || k > units))
        {
            throw new ArgumentException($"Compile: the metric '{Name}' has topK {k}, but output {label} has shape {shape}; expected at most its last dimension.", "metrics");
        }

        return this;
    }

    /// <summary>Weighted (true positives, false positives, false negatives), (3, thresholds).</summary>
    private protected Tensor Counts(Tensor target, Tensor output, Tensor? weights)
    {
        var p = output.to_type(ScalarType.Float32);
        var truth = target.reshape(p.shape).ne(Scalars.OfInt(0));
        var w = Metric.Spread(weights, p);
        if (TopK is { } k)
        {
            var top = zeros_like(p, dtype: ScalarType.Bool).scatter(-1, p.topk(k, -1).indexes, ones_like(p, dtype: ScalarType.Bool));
            p = where(top, p, full_like(p, Scalars.Of(NegativeInfinity)));
        }

        if (ClassId is { } id)
        {
            p = p[TensorIndex.Ellipsis, TensorIndex.Single(id)];
            truth = truth[TensorIndex.Ellipsis, TensorIndex.Single(id)];
            w = w[TensorIndex.Ellipsis, TensorIndex.Single(id)];
        }

        var thresholds = ThresholdList?.Select(x => (float)x).ToArray() ?? new[] { (float)(Thresholds ?? (TopK is null ? 0.5 : NegativeInfinity)) };
        var positive = p.unsqueeze(-1).gt(tensor(thresholds));
        var t = truth.to_type(ScalarType.Float64).unsqueeze(-1);
        var predicted = positive.to_type(ScalarType.Float64);
        var weight = w.unsqueeze(-1);
        Tensor Sum(Tensor cells) => cells.mul(weight).reshape(-1, thresholds.Length).sum(new long[] { 0 });
        return stack(new[] { Sum(t * predicted), Sum(Scalars.OneMinus(t) * predicted), Sum(t * Scalars.OneMinus(predicted)) });
    }

    internal override bool FromStatistics => true;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => WithArguments(new JsonObject
    {
        ["thresholds"] = ThresholdList is { } list ? new JsonArray(list.Select(x => (JsonNode?)x).ToArray()) : Thresholds, ["top_k"] = TopK, ["class_id"] = ClassId,
    });

    /// <summary>Reads a serialized Precision or Recall: a threshold (a number or a one-item list), top_k, class_id.</summary>
    /// <exception cref="FormatException">An argument of the wrong type, or an unknown argument.</exception>
    /// <exception cref="NotSupportedException">Several thresholds (Keras' value is then a list, which a log cannot hold).</exception>
    internal static (double? Thresholds, int? TopK, int? ClassId, string? Name) Read(LayerConfig config)
    {
        var name = config.GetNullableString("name");
        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        if (dtype is not null && dtype != "float32")
        {
            throw new NotSupportedException($"compile_config: the metric {config.ClassName} with dtype {dtype} is not supported; this library computes metrics in float64 from float32 outputs.");
        }

        double? thresholds = config.GetRaw("thresholds") switch
        {
            null => null,
            JsonArray { Count: 1 } one when one[0] is JsonValue v && v.TryGetValue<double>(out var x) => x,
            JsonArray many => throw new NotSupportedException($"compile_config: the metric {config.ClassName} with thresholds {many.ToJsonString()} is not supported: with several thresholds Keras' value is a list, which this library's logs (one number per name) cannot hold; use one metric per threshold."),
            _ => config.GetDouble("thresholds", 0.5),
        };
        var topK = config.GetNullableInt("top_k");
        var classId = config.GetNullableInt("class_id");
        var unknown = config.UnreadKeys;
        return unknown.Count == 0 ? (thresholds, topK, classId, name)
            : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the metric {config.ClassName}.");
    }
}

/// <summary>
/// Keras' <c>Precision</c> (keras/src/metrics/confusion_metrics.py): weighted true positives / predicted positives,
/// a prediction being positive above <see cref="PrecisionRecall.Thresholds"/> (0.5), among the
/// <see cref="PrecisionRecall.TopK"/> largest of its last axis when set, for the class
/// <see cref="PrecisionRecall.ClassId"/> only when set. Targets count as true where nonzero.
/// </summary>
public sealed class Precision : PrecisionRecall
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="thresholds">One threshold in [0, 1]; null for 0.5 (for no threshold with <paramref name="topK"/>).
    /// Several thresholds give a list in Keras, which a log cannot hold: not supported.</param>
    /// <param name="topK">Only the k largest predictions of the last axis can count as positive; null for all.</param>
    /// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
    /// <param name="name">The logged name; null for Keras' <c>precision</c>, <c>precision_1</c>, ... (unique per session).</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], topK below 1 or a negative classId.</exception>
    public Precision(double? thresholds = null, int? topK = null, int? classId = null, string? name = null)
        : base(thresholds, topK, classId, name ?? NameScope.UniqueKeras3Name("precision"))
    {
    }

    /// <summary>Creates the metric with several thresholds, as Keras' <c>Precision(thresholds=[...])</c>: one value per threshold, read with <see cref="Metric.ResultValues()"/>; eager only (a log holds one number).</summary>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <param name="topK">Only the k largest predictions of the last axis can count as positive; null for all.</param>
    /// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
    /// <param name="name">The logged name; null for Keras' <c>precision</c>, <c>precision_1</c>, ... (unique per session).</param>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], topK below 1 or a negative classId.</exception>
    public Precision(IReadOnlyList<double> thresholds, int? topK = null, int? classId = null, string? name = null)
        : base(thresholds, topK, classId, name ?? NameScope.UniqueKeras3Name("precision"))
    {
    }

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => Counts(target, output, weights)[TensorIndex.Slice(0, 2)].reshape(-1);

    internal static Precision FromConfig(LayerConfig config)
    {
        var (thresholds, topK, classId, name) = Read(config);
        return new Precision(thresholds, topK, classId, name);
    }
}

/// <summary>
/// Keras' <c>Recall</c> (keras/src/metrics/confusion_metrics.py): weighted true positives / actual positives, with
/// the same thresholds, top k and class id as <see cref="Precision"/>.
/// </summary>
public sealed class Recall : PrecisionRecall
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="thresholds">One threshold in [0, 1]; null for 0.5 (for no threshold with <paramref name="topK"/>).</param>
    /// <param name="topK">Only the k largest predictions of the last axis can count as positive; null for all.</param>
    /// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
    /// <param name="name">The logged name; null for Keras' <c>recall</c>, <c>recall_1</c>, ... (unique per session).</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], topK below 1 or a negative classId.</exception>
    public Recall(double? thresholds = null, int? topK = null, int? classId = null, string? name = null)
        : base(thresholds, topK, classId, name ?? NameScope.UniqueKeras3Name("recall"))
    {
    }

    /// <summary>Creates the metric with several thresholds, as Keras' <c>Recall(thresholds=[...])</c>: one value per threshold, read with <see cref="Metric.ResultValues()"/>; eager only (a log holds one number).</summary>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <param name="topK">Only the k largest predictions of the last axis can count as positive; null for all.</param>
    /// <param name="classId">Counts only this class (an index into the last axis); null for every entry.</param>
    /// <param name="name">The logged name; null for Keras' <c>recall</c>, <c>recall_1</c>, ... (unique per session).</param>
    /// <exception cref="ArgumentException">An empty list.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1], topK below 1 or a negative classId.</exception>
    public Recall(IReadOnlyList<double> thresholds, int? topK = null, int? classId = null, string? name = null)
        : base(thresholds, topK, classId, name ?? NameScope.UniqueKeras3Name("recall"))
    {
    }

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => Counts(target, output, weights)[TensorIndex.Slice(0, 3, 2)].reshape(-1);

    internal static Recall FromConfig(LayerConfig config)
    {
        var (thresholds, topK, classId, name) = Read(config);
        return new Recall(thresholds, topK, classId, name);
    }
}
