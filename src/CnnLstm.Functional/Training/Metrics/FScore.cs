using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>FBetaScore</c> (keras/src/metrics/f_score_metrics.py): per class, (1 + β²)·P·R / (β²·P + R) from the
/// weighted true positives, false positives and false negatives summed over every batch since the last reset
/// (P = tp / (tp + fp + ε), R = tp / (tp + fn + ε), ε = 1e-7, as Keras). Inputs are (batch, classes); a prediction is
/// positive above <see cref="Threshold"/>, or, without one, where it is its row's largest (and not 0). Targets count
/// by their value (1 for true). <see cref="Average"/> <c>micro</c> counts every entry together; <c>macro</c> is the
/// mean of the class scores; <c>weighted</c> their mean weighted by each class's (weighted) number of true targets;
/// null (Keras' default) gives one score per class, read with <see cref="Metric.ResultValues()"/> (a list, which a
/// training log cannot hold: <c>Compile</c> refuses it).
/// </summary>
public class FBetaScore : Metric
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="average">null (one score per class), <c>micro</c>, <c>macro</c> or <c>weighted</c>.</param>
    /// <param name="beta">The weight of recall in the harmonic mean, more than 0.</param>
    /// <param name="threshold">Predictions above it are positive, in (0, 1]; null for each row's largest.</param>
    /// <param name="name">The logged name.</param>
    /// <exception cref="ArgumentException">Another average, or an empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> not above 0, or a threshold outside (0, 1].</exception>
    public FBetaScore(string? average = null, double beta = 1.0, double? threshold = null, string name = "fbeta_score")
        : base(name)
    {
        Average = average is null or "micro" or "macro" or "weighted" ? average
            : throw new ArgumentException($"{GetType().Name}: invalid average '{average}'; expected null, micro, macro or weighted (as Keras).", nameof(average));
        Beta = double.IsFinite(beta) && beta > 0 ? beta
            : throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{GetType().Name}: beta must be > 0 (as Keras).");
        Threshold = threshold is not { } t || (t > 0 && t <= 1) ? threshold
            : throw new ArgumentOutOfRangeException(nameof(threshold), t, $"{GetType().Name}: the threshold must verify 0 < threshold <= 1 (as Keras).");
    }

    /// <summary>null, <c>micro</c>, <c>macro</c> or <c>weighted</c>.</summary>
    public string? Average { get; }

    /// <summary>The weight of recall.</summary>
    public double Beta { get; }

    /// <summary>The threshold, or null for each row's largest prediction.</summary>
    public double? Threshold { get; }

    internal override bool FromStatistics => true;

    internal override double[] EmptyResultValues => Average is null ? Array.Empty<double>() : base.EmptyResultValues;

    /// <summary>
    /// Adds a batch, as Keras' <c>update_state</c>: targets and predictions (batch, classes), checked before the state
    /// changes; weights of lower rank get trailing axes and broadcast ((batch,), a scalar, or (batch, classes)).
    /// </summary>
    /// <exception cref="ArgumentException">Inputs that are not both of rank 2, or shapes that do not fit.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        ArgumentNullException.ThrowIfNull(yTrue);
        ArgumentNullException.ThrowIfNull(yPred);
        RequireRank2(yTrue.shape, yPred.shape);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var p = EagerArguments.Float(yPred, nameof(yPred));
        var y = EagerArguments.Float(yTrue, nameof(yTrue));
        EagerArguments.RequireBroadcast(y.shape, p.shape, $"metric '{Name}': yTrue", nameof(yTrue));
        Tensor? w = null;
        if (sampleWeight is not null)
        {
            w = EagerArguments.Float(sampleWeight, nameof(sampleWeight));
            while (w.dim() < 2)
            {
                w = w.unsqueeze(-1);
            }

            EagerArguments.RequireBroadcast(w.shape, p.shape, $"metric '{Name}': sampleWeight", nameof(sampleWeight));
        }

        Accumulate(Statistics(y, p, w).data<double>().ToArray(), p.shape);
    }

    /// <summary>The score; with <see cref="Average"/> null Keras' result is one score per class: read <see cref="Metric.ResultValues()"/>.</summary>
    /// <exception cref="InvalidOperationException">No average.</exception>
    public override double Result() => Average is not null ? base.Result()
        : throw new InvalidOperationException($"{GetType().Name} '{Name}': without average Keras' result is one score per class; read ResultValues().");

    /// <summary>Refuses what Keras refuses (outputs not (batch, classes)) and what a log cannot hold (no average), and class-id targets.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label)
    {
        if (Average is null)
        {
            throw new ArgumentException($"Compile: the metric '{Name}' ({GetType().Name} with average null, Keras' default) is not supported: Keras 3.16 logs an array for it (one score per class, in History and Evaluate), but this library's logs, History and Evaluate hold one number per name. Give average \"macro\", \"micro\" or \"weighted\" (e.g. new {GetType().Name}(average: \"macro\")), or read ResultValues() of an eager metric after Predict for the per-class scores.", "metrics");
        }

        if (shape.Rank != 2 || shape.Last is null)
        {
            throw new ArgumentException($"Compile: {GetType().Name} expects 2D inputs with shape (batch_size, output_dim), with output_dim fully defined (as Keras), but output {label} has shape {shape}.", "metrics");
        }

        return !loss.SparseTargets ? this
            : throw new ArgumentException($"Compile: the metric '{Name}' counts targets shaped like the output, but {loss.Name} takes class ids for output {label}.", "metrics");
    }

    /// <summary>Weighted true positives, false positives, false negatives and true targets: per class, or (micro) in total.</summary>
    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        RequireRank2(target.shape, output.shape);
        var p = output.to_type(ScalarType.Float32);
        var positive = Threshold is { } threshold ? p.gt(Scalars.Of((float)threshold))
            : p.ge(p.amax(new long[] { -1 }, keepdim: true)).logical_and(p.abs().gt(Scalars.Of(1e-9f)));
        var predicted = positive.to_type(ScalarType.Float64);
        var y = target.to_type(ScalarType.Float64).expand(p.shape);
        var w = weights is { } given && given.dim() == p.dim() ? given.to_type(ScalarType.Float64).expand(p.shape) : Spread(weights, p);
        Tensor Sum(Tensor value) => Average == "micro" ? value.mul(w).sum().unsqueeze(0) : value.mul(w).sum(new long[] { 0 });
        return cat(new[] { Sum(predicted.mul(y)), Sum(predicted.mul(Scalars.OneMinus(y))), Sum(Scalars.OneMinus(predicted).mul(y)), Sum(y) });
    }

    internal override double Result(double[] statistics) => Average is not null ? ResultValues(statistics)[0]
        : throw new InvalidOperationException($"{GetType().Name} '{Name}': without average Keras' result is one score per class; read ResultValues().");

    internal override double[] ResultValues(double[] statistics)
    {
        const double epsilon = SmoothedCrossentropy.Epsilon;
        var n = statistics.Length / 4;
        var b2 = Beta * Beta;
        var scores = new double[n];
        for (var i = 0; i < n; i++)
        {
            var (tp, fp, fn) = (statistics[i], statistics[n + i], statistics[(2 * n) + i]);
            var precision = tp / (tp + fp + epsilon);
            var recall = tp / (tp + fn + epsilon);
            scores[i] = precision * recall / ((b2 * precision) + recall + epsilon) * (1 + b2);
        }

        if (Average == "weighted")
        {
            var support = statistics.Skip(3 * n).ToArray();
            var total = support.Sum() + epsilon;
            return new[] { scores.Select((s, i) => s * (support[i] / total)).Sum() };
        }

        return Average is null ? scores : new[] { scores.Average() };
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => WithArguments(new JsonObject { ["average"] = Average, ["beta"] = PythonFloat(Beta), ["threshold"] = Threshold is { } t ? PythonFloat(t) : null });

    /// <summary>Reads a serialized FBetaScore or F1Score; <c>beta</c> and <c>threshold</c> must be floats, as Keras checks.</summary>
    /// <exception cref="FormatException">An argument of the wrong type or range, or an unknown argument.</exception>
    /// <exception cref="NotSupportedException">A dtype other than float32.</exception>
    internal static FBetaScore FromConfig(LayerConfig config, bool f1)
    {
        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        if (dtype is not null && dtype != "float32")
        {
            throw new NotSupportedException($"compile_config: the metric {config.ClassName} with dtype {dtype} is not supported; this library computes metrics in float64 from float32 outputs.");
        }

        double? Float(string key)
        {
            var node = config.GetRaw(key);
            return node is null ? null
                : node is JsonValue v && !v.TryGetValue<long>(out _) && v.TryGetValue<double>(out var x) ? x
                : throw config.Error($"Invalid `{key}` argument value. It should be a Python float. Received: {key}={node.ToJsonString()} (as Keras).");
        }

        var name = config.GetNullableString("name");
        var average = config.GetNullableString("average");
        var threshold = Float("threshold");
        try
        {
            FBetaScore metric = f1 ? new F1Score(average, threshold, name ?? "f1_score")
                : new FBetaScore(average, config.UnreadKeys.Contains("beta") ? Float("beta") ?? throw config.Error("Invalid `beta` argument value. It should be a Python float. Received: beta=None (as Keras).") : 1.0, threshold, name ?? "fbeta_score");
            var unknown = config.UnreadKeys;
            return unknown.Count == 0 ? metric
                : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the metric {config.ClassName}.");
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    private void RequireRank2(long[] yTrue, long[] yPred)
    {
        if (yTrue.Length != 2 || yPred.Length != 2)
        {
            throw new ArgumentException($"{GetType().Name} '{Name}' expects 2D inputs with shape (batch_size, output_dim); received input shapes: yPred ({string.Join(", ", yPred)}) and yTrue ({string.Join(", ", yTrue)}) (as Keras).", nameof(yPred));
        }
    }
}

/// <summary>
/// Keras' <c>F1Score</c> (keras/src/metrics/f_score_metrics.py): <see cref="FBetaScore"/> with β = 1, the harmonic
/// mean of precision and recall; its config has no <c>beta</c>.
/// </summary>
public sealed class F1Score : FBetaScore
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="average">null (one score per class), <c>micro</c>, <c>macro</c> or <c>weighted</c>.</param>
    /// <param name="threshold">Predictions above it are positive, in (0, 1]; null for each row's largest.</param>
    /// <param name="name">The logged name.</param>
    /// <exception cref="ArgumentException">Another average, or an empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside (0, 1].</exception>
    public F1Score(string? average = null, double? threshold = null, string name = "f1_score")
        : base(average, 1.0, threshold, name)
    {
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => WithArguments(new JsonObject { ["average"] = Average, ["threshold"] = Threshold is { } t ? PythonFloat(t) : null });
}
