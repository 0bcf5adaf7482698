using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// What Keras' <c>Mean</c> and <c>Sum</c> (keras/src/metrics/reduction_metrics.py) share: they take values, not
/// targets and predictions (<see cref="UpdateState(Tensor, Tensor?)"/>), reduced per sample as Keras'
/// <c>reduce_to_samplewise_values</c>. They are used eagerly, not in <c>Compile</c> (where Keras would read the
/// targets as values and the predictions as weights).
/// </summary>
public abstract class ReductionMetric : Metric
{
    private readonly MetricVariable total;

    private protected ReductionMetric(string name)
        : base(name)
    {
        total = AddVariable("total");
    }

    /// <summary>The weighted total (Keras' <c>total</c> variable).</summary>
    private protected MetricVariable Total => total;

    /// <summary>
    /// Adds values, as Keras' <c>update_state(values, sample_weight)</c>: with weights, both are brought to the same
    /// rank (a trailing 1 squeezed, or the weights given one), the values reduced over the axes the weights lack,
    /// multiplied by the weights broadcast to them, then reduced to one value per sample.
    /// </summary>
    /// <param name="values">Values, any shape ((batch, ...) or a scalar).</param>
    /// <param name="sampleWeight">Null, or weights that broadcast to the values' leading axes (a scalar, (batch,), (batch, 1), ...).</param>
    /// <exception cref="ArgumentException">Weights that do not broadcast to the values.</exception>
    public void UpdateState(Tensor values, Tensor? sampleWeight = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var v = values.detach().cpu().to_type(ScalarType.Float64);
        Tensor? w = null;
        if (sampleWeight is not null)
        {
            w = sampleWeight.detach().cpu().to_type(ScalarType.Float64);
            (v, w) = SameRank(v, w);
            if (v.dim() > w.dim())
            {
                v = Reduce(v, w.dim());
            }

            EagerArguments.RequireBroadcast(w.shape, v.shape, $"{GetType().Name} '{Name}': sampleWeight", nameof(sampleWeight));
            w = w.expand(v.shape);
            v = v.mul(w);
            if (w.dim() > 1)
            {
                w = Reduce(w, 1);
            }
        }

        if (v.dim() > 1)
        {
            v = Reduce(v, 1);
        }

        Add(v.sum().item<double>(), w is not null ? w.sum().item<double>() : v.dim() >= 1 ? v.shape[0] : 1);
    }

    /// <summary><see cref="UpdateState(Tensor, Tensor?)"/> on C# arrays (float, double, int, long or bool, any rank).</summary>
    /// <exception cref="ArgumentException">Weights that do not broadcast, or arrays of another element type.</exception>
    public void UpdateState(Array values, Array? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        UpdateState(EagerArguments.ToTensor(values, nameof(values)), sampleWeight is null ? null : EagerArguments.ToTensor(sampleWeight, nameof(sampleWeight)));
    }

    /// <summary><see cref="UpdateState(Array, Array?)"/> for one-dimensional float arrays (which TorchSharp would also convert to tensors).</summary>
    /// <exception cref="ArgumentException">Weights that do not broadcast.</exception>
    public void UpdateState(float[] values, float[]? sampleWeight = null) => UpdateState((Array)values, sampleWeight);

    /// <summary>Refused: <see cref="Mean"/> and <see cref="Sum"/> take values; call <see cref="UpdateState(Tensor, Tensor?)"/>.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null) =>
        throw new InvalidOperationException($"{GetType().Name} '{Name}' takes values, not targets and predictions: call UpdateState(values, sampleWeight); to average a function of targets and predictions use MeanMetricWrapper.");

    /// <summary>Refused at <c>Compile</c>.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label) =>
        throw new ArgumentException($"Compile: the metric '{Name}' ({GetType().Name}) takes values, not targets and predictions; use MeanMetricWrapper with a function of them.", "metrics");

    /// <summary>Adds the batch's weighted total and its weight (or sample count).</summary>
    private protected abstract void Add(double weightedTotal, double count);

    /// <summary>Keras' reduce_fn over the axes from <paramref name="from"/> on.</summary>
    private protected abstract Tensor Reduce(Tensor x, long from);

    /// <summary>Keras' <c>squeeze_or_expand_to_same_rank(values, weights)</c>.</summary>
    private static (Tensor Values, Tensor Weights) SameRank(Tensor v, Tensor w)
    {
        if (v.dim() == w.dim() + 1 && v.shape[^1] == 1)
        {
            return w.dim() == 1 ? (v, w.unsqueeze(-1)) : (v.squeeze(-1), w);
        }

        if (w.dim() == v.dim() + 1 && w.shape[^1] == 1)
        {
            return v.dim() == 1 ? (v.unsqueeze(-1), w) : (v, w.squeeze(-1));
        }

        return (v, w);
    }

    private protected static long[] From(Tensor x, long from) => Enumerable.Range((int)from, (int)(x.dim() - from)).Select(a => (long)a).ToArray();
}

/// <summary>
/// Keras' <c>Mean</c>: the weighted mean of the values given (<c>total / count</c>, 0 before any): values are
/// averaged per sample, weighted by their sample's weight. Eager only: <c>UpdateState(values, sampleWeight)</c>.
/// </summary>
public sealed class Mean : ReductionMetric
{
    private readonly MetricVariable count;

    /// <summary>Creates the metric.</summary>
    /// <param name="name">The name.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public Mean(string name = "mean")
        : base(name)
    {
        count = AddVariable("count");
    }

    /// <inheritdoc/>
    public override double Result() => Ratio(Total.Scalar, count.Scalar);

    private protected override void Add(double weightedTotal, double samples)
    {
        Total.AssignAdd(weightedTotal);
        count.AssignAdd(samples);
    }

    private protected override Tensor Reduce(Tensor x, long from) => x.mean(From(x, from));
}

/// <summary>Keras' <c>Sum</c>: the weighted sum of the values given. Eager only: <c>UpdateState(values, sampleWeight)</c>.</summary>
public sealed class Sum : ReductionMetric
{
    /// <summary>Creates the metric.</summary>
    /// <param name="name">The name.</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    public Sum(string name = "sum")
        : base(name)
    {
    }

    /// <inheritdoc/>
    public override double Result() => Total.Scalar;

    private protected override void Add(double weightedTotal, double count) => Total.AssignAdd(weightedTotal);

    private protected override Tensor Reduce(Tensor x, long from) => x.sum(From(x, from));
}
