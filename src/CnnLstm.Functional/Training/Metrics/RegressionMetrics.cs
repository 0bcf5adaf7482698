using System.Text.Json.Nodes;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>MeanAbsolutePercentageError</c> metric (keras/src/metrics/regression_metrics.py, the function in
/// keras/src/losses/losses.py): 100 · mean over the last axis of |y - p| / max(|y|, 1e-7), averaged (weighted).
/// Keras' string names <c>mean_absolute_percentage_error</c> and <c>mape</c>.
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class MeanAbsolutePercentageError(string name = "mean_absolute_percentage_error")
    : MeanMetricWrapper((y, p) => y.sub(p).div(y.abs().clamp_min(Scalars.Of(RegressionFunctions.Epsilon))).abs().mean(new long[] { -1 }).mul(Scalars.Of(100.0)), name);

/// <summary>
/// Keras' <c>MeanSquaredLogarithmicError</c> metric: mean over the last axis of
/// (log(max(p, 1e-7) + 1) - log(max(y, 1e-7) + 1))², averaged (weighted). Keras' names
/// <c>mean_squared_logarithmic_error</c> and <c>msle</c>.
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class MeanSquaredLogarithmicError(string name = "mean_squared_logarithmic_error")
    : MeanMetricWrapper((y, p) => Scalars.Square(RegressionFunctions.LogOnePlus(p).sub(RegressionFunctions.LogOnePlus(y))).mean(new long[] { -1 }), name);

/// <summary>
/// Keras' <c>LogCoshError</c> metric: mean over the last axis of log(cosh(p - y)), computed as
/// x + softplus(-2x) - log 2, averaged (weighted). Keras' default name is <c>logcosh</c>; its string name in
/// <c>Compile</c> is <c>log_cosh_error</c> (logged so).
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class LogCoshError(string name = "logcosh")
    : MeanMetricWrapper((y, p) =>
    {
        var x = p.sub(y);
        return x.add(Scalars.Softplus(x.mul(Scalars.Of(-2.0))), Scalars.One).add(Scalars.Of(-Math.Log(2.0)), Scalars.One).mean(new long[] { -1 });
    }, name);

/// <summary>
/// Keras' <c>CosineSimilarity</c> metric: the sum over the last axis of the L2-normalised targets times the
/// L2-normalised predictions (x · rsqrt(max(Σx², 1e-14)), as Keras' <c>normalize</c>), averaged (weighted).
/// Keras' <c>get_config</c> writes only name and dtype (not <c>axis</c>), so does this.
/// </summary>
public sealed class CosineSimilarity : MeanMetricWrapper
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="name">The logged name.</param>
    /// <param name="axis">The axis of the vectors compared: -1 (the last), the only one this library supports.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> other than -1.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public CosineSimilarity(string name = "cosine_similarity", int axis = -1)
        : base(axis == -1 ? Similarity : throw new ArgumentOutOfRangeException(nameof(axis), axis, "CosineSimilarity: this library compares vectors along the last axis only (axis=-1); its sample weights and Compile's reduction assume it."), name)
    {
    }

    private static Tensor Similarity(Tensor y, Tensor p) => Normalize(y).mul(Normalize(p)).sum(new long[] { -1 });

    private static Tensor Normalize(Tensor x) =>
        x.mul(Scalars.Square(x).sum(new long[] { -1 }, keepdim: true).clamp_min(Scalars.Of(RegressionFunctions.Epsilon * RegressionFunctions.Epsilon)).rsqrt());
}

/// <summary>
/// Keras' <c>Hinge</c> metric (keras/src/metrics/hinge_metrics.py): mean over the last axis of max(1 - y·p, 0),
/// averaged (weighted); targets that are all 0 or 1 in a batch become -1 or 1 first, as Keras.
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class Hinge(string name = "hinge")
    : MeanMetricWrapper((y, p) => RegressionFunctions.Margins(y, p).mean(new long[] { -1 }), name);

/// <summary>Keras' <c>SquaredHinge</c> metric: mean over the last axis of max(1 - y·p, 0)², averaged (weighted); 0/1 targets become -1/1 as for <see cref="Hinge"/>.</summary>
/// <param name="name">The logged name.</param>
public sealed class SquaredHinge(string name = "squared_hinge")
    : MeanMetricWrapper((y, p) => Scalars.Square(RegressionFunctions.Margins(y, p)).mean(new long[] { -1 }), name);

/// <summary>
/// Keras' <c>CategoricalHinge</c> metric: max(max((1 - y)·p) - Σ y·p + 1, 0) over the last axis (one-hot targets),
/// averaged (weighted).
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class CategoricalHinge(string name = "categorical_hinge")
    : MeanMetricWrapper((y, p) =>
    {
        var positive = y.mul(p).sum(new long[] { -1 });
        var negative = Scalars.OneMinus(y).mul(p).amax(new long[] { -1 });
        return negative.sub(positive).add(Scalars.One, Scalars.One).clamp_min(Scalars.Zero);
    }, name);

/// <summary>
/// Keras' <c>Accuracy</c> (keras/src/metrics/accuracy_metrics.py): how often predictions equal targets exactly,
/// the mean over the last axis of y == p, averaged (weighted). Not the string <c>"accuracy"</c>, which
/// <c>Compile</c> resolves by the output's shape and loss.
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class Accuracy(string name = "accuracy")
    : MeanMetricWrapper((y, p) => y.eq(p).to_type(ScalarType.Float32).mean(new long[] { -1 }), name);

/// <summary>
/// Keras' <c>TopKCategoricalAccuracy</c>: whether the target class (argmax of the one-hot target) is among the
/// <see cref="K"/> largest predictions (a tie with the k-th counts), averaged (weighted).
/// </summary>
public sealed class TopKCategoricalAccuracy : MeanMetricWrapper
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="k">How many of the largest predictions count, at least 1.</param>
    /// <param name="name">The logged name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> below 1.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public TopKCategoricalAccuracy(int k = 5, string name = "top_k_categorical_accuracy")
        : base(k >= 1 ? (y, p) => RegressionFunctions.InTopK(y.argmax(-1), p, k) : throw new ArgumentOutOfRangeException(nameof(k), k, "TopKCategoricalAccuracy: k must be at least 1."), name)
    {
        K = k;
    }

    /// <summary>How many of the largest predictions count.</summary>
    public int K { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => WithArguments(new JsonObject { ["k"] = K });
}

/// <summary>
/// Keras' <c>SparseTopKCategoricalAccuracy</c>: whether the class id target is among the <see cref="K"/> largest
/// predictions, averaged (weighted); with <see cref="FromSortedIds"/> the predictions are class ids sorted by score
/// and the target must be among their first k.
/// </summary>
public sealed class SparseTopKCategoricalAccuracy : MeanMetricWrapper
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="k">How many of the largest predictions count, at least 1.</param>
    /// <param name="name">The logged name.</param>
    /// <param name="fromSortedIds">Whether the predictions are class ids sorted by score (highest first) rather than scores.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> below 1.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public SparseTopKCategoricalAccuracy(int k = 5, string name = "sparse_top_k_categorical_accuracy", bool fromSortedIds = false)
        : base(k < 1 ? throw new ArgumentOutOfRangeException(nameof(k), k, "SparseTopKCategoricalAccuracy: k must be at least 1.")
            : fromSortedIds ? (y, p) => y.reshape(p.shape[..^1]).unsqueeze(-1).eq(p[TensorIndex.Ellipsis, TensorIndex.Slice(0, k)]).any(-1).to_type(ScalarType.Float32)
            : (y, p) => RegressionFunctions.InTopK(y.reshape(p.shape[..^1]).to_type(ScalarType.Int64), p, k), name)
    {
        K = k;
        FromSortedIds = fromSortedIds;
    }

    /// <summary>How many of the largest predictions count.</summary>
    public int K { get; }

    /// <summary>Whether the predictions are class ids sorted by score.</summary>
    public bool FromSortedIds { get; }

    internal override bool SparseTargets => true;

    /// <summary>Name, dtype and <c>k</c>; <c>from_sorted_ids</c> only when true, as Keras.</summary>
    public override JsonObject GetConfig()
    {
        var config = WithArguments(new JsonObject { ["k"] = K });
        if (FromSortedIds)
        {
            config["from_sorted_ids"] = true;
        }

        return config;
    }
}

/// <summary>The per-entry functions the metrics above share (keras/src/losses/losses.py).</summary>
internal static class RegressionFunctions
{
    /// <summary>Keras' <c>backend.epsilon()</c>.</summary>
    public const double Epsilon = 1e-7;

    /// <summary>log(max(x, 1e-7) + 1).</summary>
    public static Tensor LogOnePlus(Tensor x) => x.clamp_min(Scalars.Of(Epsilon)).add(Scalars.One, Scalars.One).log();

    /// <summary>max(1 - y·p, 0), with 0/1 targets (the whole batch) mapped to -1/1 (Keras' <c>convert_binary_labels_to_hinge</c>).</summary>
    public static Tensor Margins(Tensor y, Tensor p)
    {
        var binary = y.eq(Scalars.Zero).logical_or(y.eq(Scalars.One)).all().item<bool>();
        var signs = binary ? y.mul(Scalars.Two).add(Scalars.Of(-1.0), Scalars.One) : y;
        return Scalars.OneMinus(signs.mul(p)).clamp_min(Scalars.Zero);
    }

    /// <summary>Keras' <c>in_top_k</c> for class ids (shape: the predictions' without the last axis): the target's prediction at least the k-th largest.</summary>
    public static Tensor InTopK(Tensor classes, Tensor p, int k)
    {
        var kth = p.topk(Math.Min(k, (int)p.shape[^1]), -1).values[TensorIndex.Ellipsis, TensorIndex.Slice(-1, null)];
        var target = p.gather(-1, classes.to_type(ScalarType.Int64).unsqueeze(-1));
        return target.ge(kth).squeeze(-1).to_type(ScalarType.Float32);
    }
}
