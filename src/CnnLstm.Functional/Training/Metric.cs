using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>
/// A Keras metric, stateful across the batches of an epoch as Keras 3's metric objects are: each batch adds its
/// statistics (a weighted total and count for the mean metrics; true and false positives and negatives for
/// <c>precision</c>, <c>recall</c> and <c>auc</c>), and the epoch's value is computed from the sums, so an epoch's
/// precision is that of all its samples, not a mean of batch precisions. A batch's own value is logged per batch.
/// Sample weights (<c>sampleWeight</c>, <c>classWeight</c>) and masks weight every statistic.
/// <c>accuracy</c> resolves as Keras 3 does: binary (threshold 0.5) for one output unit, sparse categorical for
/// sparse cross-entropy, categorical (argmax) otherwise, also with binary cross-entropy on several units.
/// The logged name is the name given (Keras 3's rule). Sources: keras/src/metrics/ (accuracy_metrics.py,
/// confusion_metrics.py, regression_metrics.py, reduction_metrics.py) and keras/src/trainers/compile_utils.py.
/// </summary>
public sealed class Metric
{
    /// <summary>Keras' AUC thresholds: 198 evenly spaced in (0, 1), and -epsilon and 1 + epsilon at the ends.</summary>
    private const int AucThresholds = 200;

    private readonly Func<Tensor, Tensor, Tensor?, Tensor> statistics;
    private readonly Func<double[], double> result;

    private Metric(string name, Func<Tensor, Tensor, Tensor?, Tensor> statistics, Func<double[], double> result)
    {
        Name = name;
        this.statistics = statistics;
        this.result = result;
    }

    /// <summary>The names <see cref="Resolve"/> accepts.</summary>
    public static IReadOnlyList<string> Known { get; } = new[]
    {
        "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "precision", "recall", "auc",
        "mse", "mean_squared_error", "mae", "mean_absolute_error", "rmse", "root_mean_squared_error",
    };

    /// <summary>The name used in logs and history, e.g. <c>accuracy</c>.</summary>
    public string Name { get; }

    /// <summary>Resolves a Keras metric name for a model output and loss.</summary>
    /// <param name="name">The metric name, one of <see cref="Known"/> (<c>rmse</c> is this library's short name for
    /// Keras' <c>root_mean_squared_error</c>).</param>
    /// <param name="loss">The loss of that output.</param>
    /// <param name="outputUnits">The output's last dimension.</param>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static Metric Resolve(string name, Loss loss, int? outputUnits)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(loss);
        return name switch
        {
            // Keras 3's rule (compile_utils.is_binary_or_sparse_categorical): binary for one output unit, whatever
            // the loss; sparse for class-id targets; categorical (argmax) otherwise, binary cross-entropy included.
            "accuracy" or "acc" when outputUnits == 1 => Mean(name, BinaryHits),
            "accuracy" or "acc" when loss.SparseTargets => Mean(name, SparseHits),
            "accuracy" or "acc" => Mean(name, CategoricalHits),
            "binary_accuracy" => Mean(name, BinaryHits),
            "categorical_accuracy" => Mean(name, CategoricalHits),
            "sparse_categorical_accuracy" => Mean(name, SparseHits),
            "mae" or "mean_absolute_error" => Mean(name, (y, p) => (y - p).abs().mean(new long[] { -1 })),
            "mse" or "mean_squared_error" => Mean(name, SquaredErrors),
            "rmse" or "root_mean_squared_error" => new Metric(name, MeanStatistics(SquaredErrors), s => Math.Sqrt(Ratio(s[0], s[1]))),
            "precision" => new Metric(name, (y, p, w) => Confusion(y, p, w, new[] { 0.5 }, positives: true, negatives: false), s => Ratio(s[0], s[0] + s[1])),
            "recall" => new Metric(name, (y, p, w) => Confusion(y, p, w, new[] { 0.5 }, positives: true, negatives: true), s => Ratio(s[0], s[0] + s[3])),
            "auc" => new Metric(name, (y, p, w) => Confusion(y, p, w, AucThresholdValues, positives: true, negatives: true), RocAuc),
            _ => throw new ArgumentException($"Compile: unknown metric '{name}'; known metrics are {string.Join(", ", Known)}.", "metrics"),
        };
    }

    /// <summary>
    /// The batch's statistics, a 1-D double tensor to be summed over batches: for the mean metrics (weighted total,
    /// total weight); for the confusion metrics (true positives, false positives, true negatives, false negatives)
    /// per threshold. <paramref name="weights"/> (null: all 1) weighs each sample, shape (batch,), or each step of
    /// a masked output, shape (batch, steps).
    /// </summary>
    internal Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => statistics(target, output, weights);

    /// <summary>The metric's value from (summed) statistics; 0 where Keras divides by zero (<c>divide_no_nan</c>).</summary>
    internal double Result(double[] statistics) => result(statistics);

    private static readonly double[] AucThresholdValues = Enumerable.Range(0, AucThresholds)
        .Select(i => i == 0 ? -1e-7 : i == AucThresholds - 1 ? 1 + 1e-7 : (double)i / (AucThresholds - 1)).ToArray();

    private static Metric Mean(string name, Func<Tensor, Tensor, Tensor> perEntry) => new(name, MeanStatistics(perEntry), s => Ratio(s[0], s[1]));

    /// <summary>Keras' <c>Mean</c> over per-entry values (the class axis reduced): weighted total and total weight.</summary>
    private static Func<Tensor, Tensor, Tensor?, Tensor> MeanStatistics(Func<Tensor, Tensor, Tensor> perEntry) => (y, p, w) =>
    {
        var values = perEntry(y, p).to_type(ScalarType.Float64);
        var weights = w is null ? ones_like(values) : Spread(w.to_type(ScalarType.Float64), values);
        return stack(new[] { (values * weights).sum(), weights.sum() });
    };

    private static Tensor BinaryHits(Tensor y, Tensor p) => y.eq(p.gt(0.5).to_type(y.dtype)).to_type(ScalarType.Float32).mean(new long[] { -1 });

    private static Tensor CategoricalHits(Tensor y, Tensor p) => y.argmax(-1).eq(p.argmax(-1)).to_type(ScalarType.Float32);

    private static Tensor SparseHits(Tensor y, Tensor p) => y.reshape(p.shape[..^1]).to_type(ScalarType.Int64).eq(p.argmax(-1)).to_type(ScalarType.Float32);

    private static Tensor SquaredErrors(Tensor y, Tensor p) => (y - p).square().mean(new long[] { -1 });

    /// <summary>
    /// Keras' confusion counts over every entry (targets true where nonzero, predictions true above the threshold),
    /// weighted: (tp, fp) for each threshold, then (tn, fn) when <paramref name="negatives"/>.
    /// </summary>
    private static Tensor Confusion(Tensor y, Tensor p, Tensor? w, double[] thresholds, bool positives, bool negatives)
    {
        var truth = y.reshape(p.shape).ne(0).to_type(ScalarType.Float64).reshape(-1, 1);
        var weights = (w is null ? ones_like(p, dtype: ScalarType.Float64) : Spread(w.to_type(ScalarType.Float64), p)).reshape(-1, 1);
        var predicted = p.to_type(ScalarType.Float64).reshape(-1, 1).gt(tensor(thresholds, dtype: ScalarType.Float64).reshape(1, -1)).to_type(ScalarType.Float64);
        var parts = new List<Tensor>();
        if (positives)
        {
            parts.Add((predicted * truth * weights).sum(new long[] { 0 }));
            parts.Add((predicted * (1 - truth) * weights).sum(new long[] { 0 }));
        }

        if (negatives)
        {
            parts.Add(((1 - predicted) * (1 - truth) * weights).sum(new long[] { 0 }));
            parts.Add(((1 - predicted) * truth * weights).sum(new long[] { 0 }));
        }

        return cat(parts.ToArray(), 0);
    }

    /// <summary>Keras' ROC AUC by interpolation: the trapezoids of (false positive rate, recall) over the thresholds.</summary>
    private static double RocAuc(double[] s)
    {
        const int n = AucThresholds;
        double Recall(int i) => Ratio(s[i], s[i] + s[(3 * n) + i]);
        double FalsePositiveRate(int i) => Ratio(s[n + i], s[n + i] + s[(2 * n) + i]);
        var area = 0.0;
        for (var i = 0; i < n - 1; i++)
        {
            area += (FalsePositiveRate(i) - FalsePositiveRate(i + 1)) * (Recall(i) + Recall(i + 1)) / 2;
        }

        return area;
    }

    /// <summary>Sample (batch,) or step (batch, steps) weights broadcast over the trailing axes of <paramref name="like"/>.</summary>
    private static Tensor Spread(Tensor weights, Tensor like)
    {
        var w = weights;
        while (w.dim() < like.dim())
        {
            w = w.unsqueeze(-1);
        }

        return w.expand(like.shape);
    }

    private static double Ratio(double numerator, double denominator) => denominator == 0 ? 0 : numerator / denominator;
}
