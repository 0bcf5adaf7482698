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
/// Outside a model a metric is used as Keras' (keras/src/metrics/metric.py): <see cref="UpdateState(Tensor, Tensor, Tensor?)"/>
/// adds a batch, <see cref="Result()"/> gives the value over every batch since <see cref="ResetState"/>, and
/// <see cref="Invoke(Tensor, Tensor, Tensor?)"/> does both, on tensors or C# arrays. <c>Fit</c> and <c>Evaluate</c>
/// keep their own totals and leave that state alone.
/// To write a metric, subclass it as Keras' <c>Metric</c>: add state with <see cref="AddVariable"/> in the
/// constructor, override <see cref="UpdateState(Tensor, Tensor, Tensor?)"/> and <see cref="Result()"/> (and
/// <see cref="ResetState"/> only if zeros are not the start); such a metric works in <c>Compile</c>, where each
/// batch's variables are summed over the epoch (Keras' <c>aggregation="sum"</c>), so the state must be sums
/// (docs/training.md, "Writing your own metric").
/// Sources: keras/src/metrics/ (metric.py, accuracy_metrics.py, confusion_metrics.py, regression_metrics.py,
/// reduction_metrics.py) and keras/src/trainers/compile_utils.py.
/// </summary>
public abstract class Metric
{
    private readonly List<MetricVariable> variables = new();

    /// <summary>Serializes the state: one metric object may serve two models trained on two threads.</summary>
    private readonly object gate = new();

    /// <summary>The library's metrics' state: their statistics summed over the updates since the last reset.</summary>
    private double[]? totals;

    /// <summary>Sets the logged name (for a subclass: Keras' <c>Metric.__init__</c>).</summary>
    /// <param name="name">The name; null for the class name in snake case (<c>SampleCount</c>: <c>sample_count</c>).</param>
    /// <exception cref="ArgumentException">An empty name.</exception>
    protected Metric(string? name = null)
    {
        name ??= NameScope.ToSnakeCase(GetType().Name);
        Name = !string.IsNullOrWhiteSpace(name) ? name : throw new ArgumentException($"{GetType().Name}: the name must not be empty.", nameof(name));
    }

    /// <summary>The state variables added with <see cref="AddVariable"/>, in order (Keras' <c>variables</c>).</summary>
    public IReadOnlyList<MetricVariable> Variables => variables;

    /// <summary>Whether the metric's class is one of this library's (saved as a <c>keras.metrics</c> class) rather than a user's.</summary>
    internal bool IsBuiltIn => GetType().Assembly == typeof(Metric).Assembly;

    /// <summary>Whether the metric computes <see cref="Statistics"/> itself (the library's metrics) rather than through a user's <see cref="UpdateState(Tensor, Tensor, Tensor?)"/>.</summary>
    internal virtual bool FromStatistics => false;

    /// <summary>
    /// Adds a state variable, zeros of <paramref name="shape"/> (a scalar when null), as Keras' <c>add_variable</c>
    /// with <c>aggregation="sum"</c>; call it in the constructor. <see cref="ResetState"/> sets it to zeros again.
    /// </summary>
    /// <param name="name">The variable's name, e.g. <c>count</c>.</param>
    /// <param name="shape">Its shape; null or empty for a scalar.</param>
    /// <returns>The variable, read and written in <see cref="UpdateState(Tensor, Tensor, Tensor?)"/> and <see cref="Result()"/>.</returns>
    /// <exception cref="ArgumentException">An empty name, or a negative size.</exception>
    protected MetricVariable AddVariable(string name, long[]? shape = null)
    {
        var variable = new MetricVariable(name, shape ?? Array.Empty<long>());
        variables.Add(variable);
        return variable;
    }

    /// <summary>
    /// Adds a batch, as Keras' <c>update_state(y_true, y_pred, sample_weight)</c>. The library's metrics convert both
    /// to float32 and match their ranks as Keras (<c>squeeze_or_expand_to_same_rank</c>; class ids for sparse
    /// accuracy). A subclass overrides it (without calling this base) to update its <see cref="Variables"/>; no
    /// gradient is recorded there.
    /// </summary>
    /// <param name="yTrue">Targets, (batch, ...).</param>
    /// <param name="yPred">Predictions, (batch, ...).</param>
    /// <param name="sampleWeight">Null, or one weight per sample, (batch,) or (batch, 1), or per entry of the predictions without their last axis.</param>
    /// <exception cref="ArgumentException">Shapes that do not fit.</exception>
    /// <exception cref="InvalidOperationException">A metric given by name (resolved only for a model's output at <c>Compile</c>).</exception>
    /// <exception cref="NotImplementedException">A subclass that does not override it.</exception>
    public virtual void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        RequireBuiltIn(nameof(UpdateState));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (targets, predictions) = EagerArguments.TargetsAndPredictions(yTrue, yPred, SparseTargets, $"metric '{Name}'");
        var weights = sampleWeight is null ? null : EagerArguments.Float(sampleWeight, nameof(sampleWeight));
        if (weights is not null && weights.dim() == predictions.dim() && weights.shape[^1] == 1)
        {
            weights = weights.squeeze(-1);
        }

        var entries = predictions.shape[..^1];
        if (weights is not null && (weights.dim() > entries.Length || !weights.shape.SequenceEqual(entries[..(int)weights.dim()])))
        {
            throw new ArgumentException($"metric '{Name}': sampleWeight has shape ({string.Join(", ", sampleWeight!.shape)}) but yPred has shape ({string.Join(", ", predictions.shape)}); give (batch,), (batch, 1) or one weight per entry ({string.Join(", ", entries)}).", nameof(sampleWeight));
        }

        Accumulate(Statistics(targets, predictions, weights).data<double>().ToArray(), predictions.shape);
    }

    /// <summary>
    /// The confusion-matrix metrics' extra weight form (Keras' <c>update_confusion_matrix_variables</c> broadcasts the
    /// weights to the predictions): one weight per entry of the predictions, last axis included. Adds the batch and
    /// returns true for such weights; returns false for the per-sample forms, which <see cref="UpdateState(Tensor, Tensor, Tensor)"/> takes.
    /// </summary>
    /// <exception cref="ArgumentException">Weights that do not broadcast to the predictions.</exception>
    private protected bool TryUpdateStatePerEntry(Tensor yTrue, Tensor yPred, Tensor? sampleWeight)
    {
        ArgumentNullException.ThrowIfNull(yTrue);
        ArgumentNullException.ThrowIfNull(yPred);
        if (sampleWeight is null || sampleWeight.dim() < 2 || sampleWeight.dim() != yPred.dim() || sampleWeight.shape[^1] == 1)
        {
            return false;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (targets, predictions) = EagerArguments.TargetsAndPredictions(yTrue, yPred, false, $"metric '{Name}'");
        var weights = EagerArguments.Float(sampleWeight, nameof(sampleWeight));
        EagerArguments.RequireBroadcast(weights.shape, predictions.shape, $"metric '{Name}': sampleWeight", nameof(sampleWeight));
        Accumulate(Statistics(targets, predictions, weights).data<double>().ToArray(), predictions.shape);
        return true;
    }

    /// <summary>Adds a batch's statistics to the state (the library's metrics' <c>update_state</c>).</summary>
    /// <exception cref="ArgumentException">Statistics of another size than the earlier batches' (another number of classes).</exception>
    private protected void Accumulate(double[] statistics, long[] predictionShape)
    {
        lock (gate)
        {
            if (totals is null)
            {
                totals = statistics;
                return;
            }

            if (statistics.Length != totals.Length)
            {
                throw new ArgumentException($"metric '{Name}': yPred has shape ({string.Join(", ", predictionShape)}), which does not fit the state of the earlier batches ({totals.Length} statistics, now {statistics.Length}); call ResetState first.", "yPred");
            }

            for (var i = 0; i < totals.Length; i++)
            {
                totals[i] += statistics[i];
            }
        }
    }

    /// <summary><see cref="UpdateState(Tensor, Tensor, Tensor?)"/> on C# arrays (float, double, int, long or bool, any rank).</summary>
    /// <param name="yTrue">Targets, (batch, ...).</param>
    /// <param name="yPred">Predictions, (batch, ...).</param>
    /// <param name="sampleWeight">Null, or weights as the tensor overload takes them.</param>
    /// <exception cref="ArgumentException">Shapes that do not fit, or arrays of another element type.</exception>
    public void UpdateState(Array yTrue, Array yPred, Array? sampleWeight = null)
    {
        using var scope = NewDisposeScope();
        var weights = sampleWeight is null ? null : EagerArguments.ToTensor(sampleWeight, nameof(sampleWeight));
        UpdateState(EagerArguments.ToTensor(yTrue, nameof(yTrue)), EagerArguments.ToTensor(yPred, nameof(yPred)), weights);
    }

    /// <summary>
    /// <see cref="UpdateState(Array, Array, Array?)"/> for one-dimensional float arrays (which TorchSharp would also
    /// convert to tensors, making the call ambiguous otherwise).
    /// </summary>
    /// <param name="yTrue">Targets, (batch,).</param>
    /// <param name="yPred">Predictions, (batch,).</param>
    /// <param name="sampleWeight">Null, or one weight per sample.</param>
    public void UpdateState(float[] yTrue, float[] yPred, float[]? sampleWeight = null) => UpdateState((Array)yTrue, yPred, sampleWeight);

    /// <summary>
    /// The value over every batch added since the last <see cref="ResetState"/> (Keras' <c>result</c>); 0 before any,
    /// as Keras' <c>divide_no_nan</c>. A subclass overrides it to compute the value from its <see cref="Variables"/>.
    /// </summary>
    /// <exception cref="NotImplementedException">A subclass that does not override it.</exception>
    public virtual double Result()
    {
        RequireBuiltIn(nameof(Result));
        lock (gate)
        {
            return totals is null ? EmptyResult : Result(totals);
        }
    }

    /// <summary>
    /// Keras' <c>result</c> as a list: one value for a metric whose result is a number (<see cref="Result()"/>), one
    /// per class or threshold for one whose result is a vector (<see cref="FBetaScore"/> without averaging,
    /// <see cref="Precision"/> and <see cref="Recall"/> with several thresholds), which only this reads.
    /// </summary>
    /// <returns>The values over every batch since the last reset; empty for a vector before any batch (Keras builds its state on the first).</returns>
    public IReadOnlyList<double> ResultValues()
    {
        RequireBuiltIn(nameof(ResultValues));
        lock (gate)
        {
            return totals is null ? EmptyResultValues : ResultValues(totals);
        }
    }

    /// <summary>The values of a vector result from (summed) statistics; the one <see cref="Result(double[])"/> otherwise.</summary>
    internal virtual double[] ResultValues(double[] statistics) => new[] { Result(statistics) };

    /// <summary><see cref="ResultValues()"/> before any batch: the one <see cref="EmptyResult"/>.</summary>
    internal virtual double[] EmptyResultValues => new[] { EmptyResult };

    /// <summary>The result before any batch: 0 (Keras' <c>divide_no_nan</c>), NaN for <see cref="R2Score"/>.</summary>
    internal virtual double EmptyResult => 0;

    /// <summary>Forgets every batch (Keras' <c>reset_state</c>): every variable back to zeros.</summary>
    public virtual void ResetState()
    {
        lock (gate)
        {
            totals = null;
            variables.ForEach(v => v.Zero());
        }
    }

    /// <summary>Keras' <c>metric(y_true, y_pred, sample_weight)</c>: <see cref="UpdateState(Tensor, Tensor, Tensor?)"/>, then <see cref="Result()"/>.</summary>
    /// <returns>The value over every batch since the last reset, this one included.</returns>
    public double Invoke(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        UpdateState(yTrue, yPred, sampleWeight);
        return Result();
    }

    /// <summary>Keras' <c>metric(y_true, y_pred, sample_weight)</c> on C# arrays.</summary>
    /// <returns>The value over every batch since the last reset, this one included.</returns>
    public double Invoke(Array yTrue, Array yPred, Array? sampleWeight = null)
    {
        UpdateState(yTrue, yPred, sampleWeight);
        return Result();
    }

    /// <summary>Whether <paramref name="className"/> is one of the library's metric classes (or a Keras metric class read as its name).</summary>
    internal static bool IsBuiltInClass(string className) =>
        className is "AUC" or "Precision" or "Recall" or "BinaryAccuracy" or "Accuracy" or "MeanMetricWrapper" || MetricClasses.ClassNames.Contains(className) || Known.Contains(NameScope.ToSnakeCase(className));

    /// <summary>Keras' <c>metric(y_true, y_pred, sample_weight)</c> on one-dimensional float arrays.</summary>
    /// <returns>The value over every batch since the last reset, this one included.</returns>
    public double Invoke(float[] yTrue, float[] yPred, float[]? sampleWeight = null) => Invoke((Array)yTrue, yPred, sampleWeight);

    /// <summary>Whether targets are class ids (sparse categorical accuracy) rather than values shaped like the output.</summary>
    internal virtual bool SparseTargets => false;

    private void RequireBuiltIn(string method)
    {
        if (!FromStatistics)
        {
            throw new NotImplementedException($"{GetType().Name}: a metric subclass overrides {method} (Keras' update_state and result), computing from the variables it adds with AddVariable.");
        }
    }

    /// <summary>
    /// Keras' other strings for metrics this library resolves by name (keras/src/metrics/__init__.py ALL_OBJECTS_DICT:
    /// class names, and the aliases <c>MSE</c>, <c>MAE</c>), each to the library's name. <c>metrics.get</c> makes the
    /// class with its default arguments and <c>compile</c> logs it under the string given (<c>"AUC"</c> logs as
    /// <c>AUC</c>); <c>Accuracy</c> is <c>"accuracy"</c> in another case (below).
    /// </summary>
    private static readonly Dictionary<string, string> KerasStrings = new(StringComparer.Ordinal)
    {
        ["AUC"] = "auc", ["Precision"] = "precision", ["Recall"] = "recall", ["BinaryAccuracy"] = "binary_accuracy",
        ["CategoricalAccuracy"] = "categorical_accuracy", ["SparseCategoricalAccuracy"] = "sparse_categorical_accuracy",
        ["MeanSquaredError"] = "mse", ["MSE"] = "mse", ["MeanAbsoluteError"] = "mae", ["MAE"] = "mae", ["RootMeanSquaredError"] = "root_mean_squared_error",
    };

    /// <summary>
    /// The names <see cref="Resolve(string, Loss, int?)"/> accepts: Keras' metric functions and aliases, the class names
    /// of the metrics this library has (Keras' <c>metrics.get</c> makes each with its default arguments), and
    /// <c>accuracy</c>/<c>acc</c> in any case (<c>Accuracy</c>, <c>ACC</c>: Keras' compile_utils.get_metric compares
    /// <c>str(identifier).lower()</c>, so these pick binary, sparse or categorical accuracy by the output and loss, not
    /// the class <c>Accuracy</c>). Every string is logged under itself, as Keras logs it. <c>rmse</c> is this library's
    /// short name for <c>root_mean_squared_error</c> (Keras has no such string).
    /// </summary>
    public static IReadOnlyList<string> Known { get; } = new[]
    {
        "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "precision", "recall", "auc",
        "mse", "mean_squared_error", "mae", "mean_absolute_error", "rmse", "root_mean_squared_error",
    }.Concat(new[] { "Accuracy" }).Concat(KerasStrings.Keys).Concat(MetricClasses.Names.Keys).ToArray();

    /// <summary>Whether <paramref name="name"/> is one of <see cref="Known"/>, or <c>accuracy</c>/<c>acc</c> in another case.</summary>
    internal static bool IsKnownName(string name) => Known.Contains(name) || IsAccuracy(name);

    /// <summary>Keras' <c>str(identifier).lower() in ["accuracy", "acc"]</c>.</summary>
    private static bool IsAccuracy(string name) => name.ToLowerInvariant() is "accuracy" or "acc";

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
        function = IsAccuracy(function) ? "accuracy" : KerasStrings.GetValueOrDefault(function, function);
        return function switch
        {
            // Keras 3's rule (compile_utils.is_binary_or_sparse_categorical): binary for one output unit, whatever
            // the loss; sparse for class-id targets; categorical (argmax) otherwise, binary cross-entropy included.
            "accuracy" or "acc" when outputUnits == 1 => new BinaryAccuracy(name: name),
            "accuracy" or "acc" when loss.SparseTargets => new SparseCategoricalAccuracy(name),
            "accuracy" or "acc" => new CategoricalAccuracy(name),
            "binary_accuracy" => new BinaryAccuracy(name: name),
            "categorical_accuracy" => new CategoricalAccuracy(name),
            "sparse_categorical_accuracy" => new SparseCategoricalAccuracy(name),
            "mae" or "mean_absolute_error" => new Metrics.MeanAbsoluteError(name),
            "mse" or "mean_squared_error" => new Metrics.MeanSquaredError(name),
            "rmse" or "root_mean_squared_error" => new RootMeanSquaredError(name),
            "precision" => new Precision(name: name),
            "recall" => new Recall(name: name),
            "auc" => new AUC(name: name),
            _ when MetricClasses.Names.TryGetValue(function, out var create) => create(name),
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
    /// A user's metric: its variables after <see cref="UpdateState(Tensor, Tensor, Tensor?)"/> from zeros, its own
    /// state left as it was.
    /// </summary>
    internal virtual Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        lock (gate)
        {
            var saved = variables.Select(v => v.Values.ToArray()).ToArray();
            try
            {
                variables.ForEach(v => v.Zero());
                UpdateState(target, output, weights);
                return tensor(variables.SelectMany(v => v.Values).ToArray(), ScalarType.Float64);
            }
            finally
            {
                Load(saved);
            }
        }
    }

    /// <summary>
    /// The metric's value from (summed) statistics; 0 where Keras divides by zero (<c>divide_no_nan</c>). A user's
    /// metric: <see cref="Result()"/> with its variables set to them, its own state left as it was.
    /// </summary>
    internal virtual double Result(double[] statistics)
    {
        lock (gate)
        {
            var saved = variables.Select(v => v.Values.ToArray()).ToArray();
            try
            {
                var offset = 0;
                foreach (var v in variables)
                {
                    Array.Copy(statistics, offset, v.Values, 0, v.Values.Length);
                    offset += v.Values.Length;
                }

                return Result();
            }
            finally
            {
                Load(saved);
            }
        }
    }

    private void Load(double[][] values)
    {
        for (var i = 0; i < variables.Count; i++)
        {
            values[i].CopyTo(variables[i].Values, 0);
        }
    }

    /// <summary>
    /// The Keras config (<c>get_config</c>): <c>name</c> and <c>dtype</c>, then the metric's own arguments. A subclass
    /// with arguments adds them to <c>base.GetConfig()</c>; a saved compile config holds it, and the factory
    /// registered with <see cref="CustomObjects.Register(string, Func{KerasStyle.Saving.LayerConfig, Metric})"/> reads it back.
    /// </summary>
    public virtual JsonObject GetConfig() => new() { ["name"] = Name, ["dtype"] = "float32" };

    /// <summary>The metric as a compile config holds it: its Keras name, or the serialized class with its arguments; a user's class by its class name, as a custom layer.</summary>
    internal virtual JsonNode Serialize() => IsBuiltIn
        ? new JsonObject { ["module"] = "keras.metrics", ["class_name"] = GetType().Name, ["config"] = GetConfig(), ["registered_name"] = null }
        : new JsonObject { ["module"] = null, ["class_name"] = GetType().Name, ["config"] = GetConfig(), ["registered_name"] = GetType().Name };

    /// <summary>Keras' config of a metric class: name and dtype, then <paramref name="arguments"/>.</summary>
    private protected JsonObject WithArguments(JsonObject arguments)
    {
        var config = new JsonObject { ["name"] = Name, ["dtype"] = "float32" };
        foreach (var (key, value) in arguments)
        {
            config[key] = value?.DeepClone();
        }

        return config;
    }

    /// <summary>A number as Python's json writes a float (<c>2.0</c>, not <c>2</c>): Keras checks some arguments are floats.</summary>
    private protected static JsonNode PythonFloat(double value) => JsonNode.Parse(Callbacks.PythonFloat.Repr(value))!;

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
}
