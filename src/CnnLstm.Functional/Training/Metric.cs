using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>
/// A Keras metric, stateful across the batches of an epoch as Keras 3's metric objects are: each batch adds its
/// statistics (a weighted total and count for the mean metrics; true and false positives and negatives for
/// <see cref="Precision"/>, <see cref="Recall"/> and <see cref="AUC"/>), and the epoch's value is computed from the
/// sums, so an epoch's precision is that of all its samples, not a mean of batch precisions. A batch's own value is
/// logged per batch. Sample weights (<c>sampleWeight</c>, <c>classWeight</c>) and masks weight every statistic.
/// A metric is given by name (a string converts to a metric: <c>"accuracy"</c>, see <see cref="Known"/>) or as an
/// object with arguments (<c>new AUC(curve: "PR", name: "pr_auc")</c>); its <see cref="Name"/> is the logged name
/// (<c>val_</c> + name for validation), as in Keras 3.
/// <c>accuracy</c> resolves as Keras 3 does: binary (threshold 0.5) for one output unit, sparse categorical for
/// sparse cross-entropy, categorical (argmax) otherwise, also with binary cross-entropy on several units.
/// Sources: keras/src/metrics/ (accuracy_metrics.py, confusion_metrics.py, regression_metrics.py,
/// reduction_metrics.py) and keras/src/trainers/compile_utils.py.
/// </summary>
public abstract class Metric
{
    /// <summary>Sets the logged name.</summary>
    /// <exception cref="ArgumentException">An empty name.</exception>
    private protected Metric(string name)
    {
        Name = !string.IsNullOrWhiteSpace(name) ? name : throw new ArgumentException($"{GetType().Name}: the name must not be empty.", nameof(name));
    }

    /// <summary>The names <see cref="Resolve(string, Loss, int?)"/> accepts.</summary>
    public static IReadOnlyList<string> Known { get; } = new[]
    {
        "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "precision", "recall", "auc",
        "mse", "mean_squared_error", "mae", "mean_absolute_error", "rmse", "root_mean_squared_error",
    };

    /// <summary>The name used in logs and history, e.g. <c>accuracy</c> or <c>pr_auc</c>.</summary>
    public string Name { get; }

    /// <summary>A metric by its Keras name (one of <see cref="Known"/>), resolved for each output at <c>Compile</c>.</summary>
    /// <param name="name">The name; null gives null (which <c>Compile</c> refuses).</param>
    [return: NotNullIfNotNull(nameof(name))]
    public static implicit operator Metric?(string? name) => name is null ? null : new NamedMetric(name, name, null);

    /// <summary>Resolves a Keras metric name for a model output and loss.</summary>
    /// <param name="name">The metric name, one of <see cref="Known"/> (<c>rmse</c> is this library's short name for
    /// Keras' <c>root_mean_squared_error</c>).</param>
    /// <param name="loss">The loss of that output.</param>
    /// <param name="outputUnits">The output's last dimension.</param>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static Metric Resolve(string name, Loss loss, int? outputUnits) => Resolve(name, name, loss, outputUnits);

    /// <summary>Resolves the Keras metric <paramref name="function"/>, logged as <paramref name="name"/>.</summary>
    internal static Metric Resolve(string function, string name, Loss loss, int? outputUnits)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(loss);
        return function switch
        {
            // Keras 3's rule (compile_utils.is_binary_or_sparse_categorical): binary for one output unit, whatever
            // the loss; sparse for class-id targets; categorical (argmax) otherwise, binary cross-entropy included.
            "accuracy" or "acc" when outputUnits == 1 => new BinaryAccuracy(name: name),
            "accuracy" or "acc" when loss.SparseTargets => Mean(name, SparseHits),
            "accuracy" or "acc" => Mean(name, CategoricalHits),
            "binary_accuracy" => new BinaryAccuracy(name: name),
            "categorical_accuracy" => Mean(name, CategoricalHits),
            "sparse_categorical_accuracy" => Mean(name, SparseHits),
            "mae" or "mean_absolute_error" => Mean(name, (y, p) => (y - p).abs().mean(new long[] { -1 })),
            "mse" or "mean_squared_error" => Mean(name, SquaredErrors),
            "rmse" or "root_mean_squared_error" => new Computed(name, MeanStatistics(SquaredErrors), s => Math.Sqrt(Ratio(s[0], s[1]))),
            "precision" => new Precision(name: name),
            "recall" => new Recall(name: name),
            "auc" => new AUC(name: name),
            _ => throw new ArgumentException($"Compile: unknown metric '{function}'; known metrics are {string.Join(", ", Known)}.", "metrics"),
        };
    }

    /// <summary>
    /// The metric computed for one output at <c>Compile</c>: a name resolved for the output and loss, or the object
    /// itself once its arguments are checked against the output.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name, or arguments that do not fit the output (a class id or
    /// label count beyond its units...).</exception>
    internal virtual Metric ForOutput(Loss loss, Shape shape, string label) => this;

    /// <summary>
    /// The batch's statistics, a 1-D double tensor to be summed over batches: for the mean metrics (weighted total,
    /// total weight); for the confusion metrics their counts per threshold. <paramref name="weights"/> (null: all 1)
    /// weighs each sample, shape (batch,), or each step of a masked output, shape (batch, steps).
    /// </summary>
    internal abstract Tensor Statistics(Tensor target, Tensor output, Tensor? weights);

    /// <summary>The metric's value from (summed) statistics; 0 where Keras divides by zero (<c>divide_no_nan</c>).</summary>
    internal abstract double Result(double[] statistics);

    /// <summary>The metric as a compile config holds it: its Keras name, or the serialized class with its arguments.</summary>
    internal abstract JsonNode Serialize();

    /// <summary>A serialized <c>keras.metrics</c> class: name and dtype, then <paramref name="arguments"/>.</summary>
    private protected JsonObject Serialized(string className, JsonObject arguments)
    {
        var config = new JsonObject { ["name"] = Name, ["dtype"] = "float32" };
        foreach (var (key, value) in arguments)
        {
            config[key] = value?.DeepClone();
        }

        return new JsonObject { ["module"] = "keras.metrics", ["class_name"] = className, ["config"] = config, ["registered_name"] = null };
    }

    /// <summary>Keras' <c>Mean</c> over per-entry values (the class axis reduced): weighted total and total weight.</summary>
    internal static Func<Tensor, Tensor, Tensor?, Tensor> MeanStatistics(Func<Tensor, Tensor, Tensor> perEntry) => (y, p, w) =>
    {
        var values = perEntry(y, p).to_type(ScalarType.Float64);
        var weights = w is null ? ones_like(values) : Spread(w.to_type(ScalarType.Float64), values);
        return stack(new[] { (values * weights).sum(), weights.sum() });
    };

    /// <summary>Sample (batch,) or step (batch, steps) weights, all 1 when null, broadcast over the trailing axes of <paramref name="like"/>, in double.</summary>
    internal static Tensor Spread(Tensor? weights, Tensor like)
    {
        if (weights is null)
        {
            return ones_like(like, dtype: ScalarType.Float64);
        }

        var w = weights.to_type(ScalarType.Float64);
        while (w.dim() < like.dim())
        {
            w = w.unsqueeze(-1);
        }

        return w.expand(like.shape);
    }

    /// <summary>Keras' <c>divide_no_nan</c>.</summary>
    internal static double Ratio(double numerator, double denominator) => denominator == 0 ? 0 : numerator / denominator;

    private static Metric Mean(string name, Func<Tensor, Tensor, Tensor> perEntry) => new Computed(name, MeanStatistics(perEntry), s => Ratio(s[0], s[1]));

    private static Tensor CategoricalHits(Tensor y, Tensor p) => y.argmax(-1).eq(p.argmax(-1)).to_type(ScalarType.Float32);

    private static Tensor SparseHits(Tensor y, Tensor p) => y.reshape(p.shape[..^1]).to_type(ScalarType.Int64).eq(p.argmax(-1)).to_type(ScalarType.Float32);

    private static Tensor SquaredErrors(Tensor y, Tensor p) => (y - p).square().mean(new long[] { -1 });

    /// <summary>A metric resolved from a name: its statistics and result as functions.</summary>
    private sealed class Computed(string name, Func<Tensor, Tensor, Tensor?, Tensor> statistics, Func<double[], double> result) : Metric(name)
    {
        internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => statistics(target, output, weights);

        internal override double Result(double[] statistics) => result(statistics);

        internal override JsonNode Serialize() => JsonValue.Create(Name);
    }
}
