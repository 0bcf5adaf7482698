using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>MeanMetricWrapper</c> (keras/src/metrics/reduction_metrics.py): the weighted mean over every entry of
/// a per-entry function of targets and predictions, kept as a weighted total and a total weight. Wrap a function
/// of your own with it (<c>new MeanMetricWrapper(MyError, "my_error")</c>) to use it eagerly or in <c>Compile</c>;
/// it is also the base of the library's accuracy, regression and hinge metrics.
/// </summary>
public class MeanMetricWrapper : Metric
{
    private readonly Func<Tensor, Tensor, Tensor?, Tensor> statistics;
    private readonly Func<Tensor, Tensor, Tensor> function;

    /// <summary>Wraps <paramref name="fn"/>, as Keras' <c>MeanMetricWrapper(fn, name)</c>.</summary>
    /// <param name="fn">The value of each entry: (targets, predictions), both float32 of the same rank, to a tensor of
    /// shape (batch,) or (batch, ...), e.g. the predictions' shape without the last axis; its weighted mean over
    /// every entry since the last reset is the result (a sample's weight spreads over its entries). Its method name
    /// is written as Keras' <c>fn</c> in the config.</param>
    /// <param name="name">The logged name; null for Keras' default <c>mean_metric_wrapper</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fn"/> is null.</exception>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public MeanMetricWrapper(Func<Tensor, Tensor, Tensor> fn, string? name = null)
        : base(name ?? "mean_metric_wrapper")
    {
        function = fn ?? throw new ArgumentNullException(nameof(fn));
        statistics = MeanStatistics(fn);
    }

    internal override bool FromStatistics => true;

    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights) => statistics(target, output, weights);

    internal override double Result(double[] statistics) => Ratio(statistics[0], statistics[1]);

    /// <summary>
    /// Name and dtype; for a wrapper of a user's function (not a subclass) also Keras' <c>fn</c>, the serialized
    /// function by its method name, which reading a compile config resolves through a metric factory registered under
    /// that name (<see cref="CustomObjects"/>).
    /// </summary>
    public override System.Text.Json.Nodes.JsonObject GetConfig()
    {
        var config = base.GetConfig();
        if (GetType() == typeof(MeanMetricWrapper))
        {
            var fn = function.Method.Name;
            config["fn"] = new System.Text.Json.Nodes.JsonObject { ["module"] = null, ["class_name"] = "function", ["config"] = fn, ["registered_name"] = fn };
        }

        return config;
    }
}

/// <summary>Keras' <c>CategoricalAccuracy</c> (accuracy_metrics.py): whether the argmax of the one-hot target equals the prediction's, averaged (weighted).</summary>
/// <param name="name">The logged name.</param>
public sealed class CategoricalAccuracy(string name = "categorical_accuracy")
    : MeanMetricWrapper((y, p) => y.argmax(-1).eq(p.argmax(-1)).to_type(ScalarType.Float32), name);

/// <summary>
/// Keras' <c>SparseCategoricalAccuracy</c> (accuracy_metrics.py): whether the class id target equals the prediction's
/// argmax, averaged (weighted). Targets are ids: the predictions' shape without the class axis, or with it as 1.
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class SparseCategoricalAccuracy(string name = "sparse_categorical_accuracy")
    : MeanMetricWrapper((y, p) => y.reshape(p.shape[..^1]).to_type(ScalarType.Int64).eq(p.argmax(-1)).to_type(ScalarType.Float32), name)
{
    internal override bool SparseTargets => true;
}

/// <summary>Keras' <c>MeanSquaredError</c> metric (regression_metrics.py): the mean of (y - p)² over the last axis, averaged (weighted).</summary>
/// <param name="name">The logged name.</param>
public sealed class MeanSquaredError(string name = "mean_squared_error") : MeanMetricWrapper(SquaredErrors, name)
{
    internal static Tensor SquaredErrors(Tensor y, Tensor p) => Scalars.Square(y - p).mean(new long[] { -1 });
}

/// <summary>Keras' <c>MeanAbsoluteError</c> metric (regression_metrics.py): the mean of |y - p| over the last axis, averaged (weighted).</summary>
/// <param name="name">The logged name.</param>
public sealed class MeanAbsoluteError(string name = "mean_absolute_error")
    : MeanMetricWrapper((y, p) => (y - p).abs().mean(new long[] { -1 }), name);

/// <summary>
/// Keras' <c>RootMeanSquaredError</c> (regression_metrics.py): the root of the weighted mean squared error over every
/// batch since the last reset (not a mean of batch roots).
/// </summary>
/// <param name="name">The logged name.</param>
public sealed class RootMeanSquaredError(string name = "root_mean_squared_error") : MeanMetricWrapper(MeanSquaredError.SquaredErrors, name)
{
    internal override double Result(double[] statistics) => Math.Sqrt(base.Result(statistics));
}
