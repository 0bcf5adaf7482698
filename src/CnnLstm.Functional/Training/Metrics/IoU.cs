using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Training.Losses;
using static TorchSharp.torch;

namespace KerasStyle.Training.Metrics;

/// <summary>
/// Keras' <c>IoU</c> (keras/src/metrics/iou_metrics.py, with its base <c>_IoUBase</c>): a confusion matrix of
/// (true class, predicted class) counts over every batch since the last reset, and the mean over
/// <see cref="TargetClassIds"/> of each class's intersection over union, tp / (tp + fp + fn), among the classes seen
/// (a class that is neither a target nor a prediction counts as absent, as Keras). Targets and predictions are class
/// ids of any shape (flattened; a float id is truncated, as Keras' cast), or with <see cref="SparseYTrue"/> /
/// <see cref="SparseYPred"/> false one-hot or scores reduced by argmax over <see cref="Axis"/>. Ids outside
/// [0, <see cref="NumClasses"/>) and targets equal to <see cref="IgnoreClass"/> are skipped. Sample weights are
/// flattened as the ids (one per id, or one in all); with Keras' default integer dtype (<c>int32</c>) they are
/// truncated to integers as Keras' state is, with <c>float32</c> they are kept.
/// </summary>
public class IoU : Metric
{
    private readonly int[] targetClassIds;

    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="numClasses">The number of classes, at least 1.</param>
    /// <param name="targetClassIds">The classes whose IoU is averaged, each in [0, numClasses).</param>
    /// <param name="name">The logged name; null for Keras' <c>io_u</c>, <c>io_u_1</c>, ... (unique per session).</param>
    /// <param name="dtype">The state's type: null, <c>int</c> or <c>int32</c> (Keras' default: weights truncated to
    /// integers), <c>int64</c>, or <c>float32</c>.</param>
    /// <param name="ignoreClass">A target class to skip, or null.</param>
    /// <param name="sparseYTrue">Whether targets are class ids (true) or one-hot (argmax over <paramref name="axis"/>).</param>
    /// <param name="sparseYPred">Whether predictions are class ids (true) or scores (argmax over <paramref name="axis"/>).</param>
    /// <param name="axis">The class axis of non-sparse inputs: -1 or 0 (Keras' result also sums over it, which fails otherwise).</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 class, a target class id out of range, or another axis.</exception>
    /// <exception cref="ArgumentException">No target class id, or an empty name.</exception>
    /// <exception cref="NotSupportedException">Another dtype.</exception>
    public IoU(int numClasses, IReadOnlyList<int> targetClassIds, string? name = null, string? dtype = null, int? ignoreClass = null,
        bool sparseYTrue = true, bool sparseYPred = true, int axis = -1)
        : this("io_u", numClasses, targetClassIds, name, dtype, ignoreClass, sparseYTrue, sparseYPred, axis)
    {
    }

    /// <summary>The constructor of the family, with Keras' default name prefix of the class.</summary>
    private protected IoU(string prefix, int numClasses, IReadOnlyList<int> targetClassIds, string? name, string? dtype, int? ignoreClass,
        bool sparseYTrue, bool sparseYPred, int axis)
        : base(name ?? NameScope.UniqueKeras3Name(prefix))
    {
        ArgumentNullException.ThrowIfNull(targetClassIds);
        NumClasses = numClasses >= 1 ? numClasses
            : throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"{GetType().Name}: num_classes must be at least 1.");
        if (targetClassIds.Count == 0)
        {
            throw new ArgumentException($"{GetType().Name}: target_class_ids must name at least one class.", nameof(targetClassIds));
        }

        if (targetClassIds.Max() >= numClasses || targetClassIds.Min() < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(targetClassIds), $"{GetType().Name}: target class id {(targetClassIds.Max() >= numClasses ? targetClassIds.Max() : targetClassIds.Min())} is out of range, which is [0, {numClasses}) (as Keras).");
        }

        this.targetClassIds = targetClassIds.ToArray();
        DType = dtype switch
        {
            null or "int" or "int32" => "int32",
            "int64" or "float32" => dtype,
            _ => throw new NotSupportedException($"{GetType().Name}: dtype {dtype} is not supported; give int32 (Keras' default), int64 or float32."),
        };
        Axis = axis is -1 or 0 ? axis
            : throw new ArgumentOutOfRangeException(nameof(axis), axis, $"{GetType().Name}: axis must be -1 or 0 (Keras' result sums the per-class IoUs over this axis, which fails for another).");
        IgnoreClass = ignoreClass;
        SparseYTrue = sparseYTrue;
        SparseYPred = sparseYPred;
    }

    /// <summary>The number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>The classes whose IoU is averaged.</summary>
    public IReadOnlyList<int> TargetClassIds => targetClassIds;

    /// <summary>The target class skipped, or null.</summary>
    public int? IgnoreClass { get; }

    /// <summary>Whether targets are class ids.</summary>
    public bool SparseYTrue { get; }

    /// <summary>Whether predictions are class ids.</summary>
    public bool SparseYPred { get; }

    /// <summary>The class axis of non-sparse inputs.</summary>
    public int Axis { get; }

    /// <summary>The state's type: <c>int32</c> (weights truncated to integers), <c>int64</c> or <c>float32</c>.</summary>
    public string DType { get; }

    internal override bool FromStatistics => true;

    /// <summary>Adds a batch: ids (or one-hot/scores reduced by argmax) of any shape, flattened, with weights flattened alike.</summary>
    /// <param name="yTrue">Targets: class ids, or one-hot with <see cref="SparseYTrue"/> false.</param>
    /// <param name="yPred">Predictions: class ids, or scores with <see cref="SparseYPred"/> false.</param>
    /// <param name="sampleWeight">Null, one weight, or one per id (as many as the flattened ids).</param>
    /// <exception cref="ArgumentException">Targets and predictions of different numbers of ids, or weights that do not fit them.</exception>
    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        ArgumentNullException.ThrowIfNull(yTrue);
        ArgumentNullException.ThrowIfNull(yPred);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Accumulate(Statistics(yTrue, yPred, sampleWeight).data<double>().ToArray(), yPred.shape);
    }

    /// <summary>Refuses class-id targets with <see cref="SparseYTrue"/> false, at <c>Compile</c>.</summary>
    internal override Metric ForOutput(Loss loss, Shape shape, string label) => SparseYTrue || !loss.SparseTargets ? this
        : throw new ArgumentException($"Compile: the metric '{Name}' takes one-hot targets (sparse_y_true false), but {loss.Name} takes class ids for output {label}.", "metrics");

    /// <summary>The batch's confusion matrix (true class, predicted class), flattened.</summary>
    internal override Tensor Statistics(Tensor target, Tensor output, Tensor? weights)
    {
        var y = Ids(target, SparseYTrue, "yTrue");
        var p = PredictedIds(output);
        if (y.numel() != p.numel())
        {
            throw new ArgumentException($"metric '{Name}': yTrue of shape ({string.Join(", ", target.shape)}) gives {y.numel()} class ids but yPred of shape ({string.Join(", ", output.shape)}) gives {p.numel()}; they must match (Keras flattens both).", "yTrue");
        }

        var w = weights is null ? ones(y.numel(), dtype: ScalarType.Float64) : weights.to_type(ScalarType.Float64).reshape(-1);
        if (w.numel() == 1)
        {
            w = w.expand(y.numel());
        }
        else if (w.numel() != y.numel())
        {
            throw new ArgumentException($"metric '{Name}': sampleWeight of shape ({string.Join(", ", weights!.shape)}) does not fit the {y.numel()} class ids of yTrue ({string.Join(", ", target.shape)}); give one weight per id (Keras flattens weights as the ids).", "sampleWeight");
        }

        if (DType != "float32")
        {
            w = w.trunc();
        }

        var classes = Scalars.OfInt(NumClasses);
        var valid = y.ge(Scalars.OfInt(0)).logical_and(y.lt(classes)).logical_and(p.ge(Scalars.OfInt(0))).logical_and(p.lt(classes));
        if (IgnoreClass is { } ignore)
        {
            valid = valid.logical_and(y.ne(Scalars.OfInt(ignore)));
        }

        var index = where(valid, y.mul(classes).add(p, Scalars.IntOne), zeros_like(y));
        return zeros(NumClasses * NumClasses, dtype: ScalarType.Float64).index_add(0, index, where(valid, w, zeros_like(w)), Scalars.IntOne);
    }

    internal override double Result(double[] statistics)
    {
        var n = NumClasses;
        var (total, valid) = (0.0, 0.0);
        foreach (var c in targetClassIds)
        {
            var (predicted, actual) = (0.0, 0.0);
            for (var i = 0; i < n; i++)
            {
                predicted += statistics[(i * n) + c];
                actual += statistics[(c * n) + i];
            }

            var tp = statistics[(c * n) + c];
            var denominator = (float)(predicted + actual - tp);
            if (denominator > 1e-9)
            {
                total += tp / (denominator + SmoothedCrossentropy.Epsilon);
                valid++;
            }
        }

        return total / (valid + SmoothedCrossentropy.Epsilon);
    }

    /// <summary>Keras 3.16's <c>IoU.get_config</c>.</summary>
    public override JsonObject GetConfig() => new()
    {
        ["name"] = Name, ["dtype"] = DType, ["num_classes"] = NumClasses, ["target_class_ids"] = Ids(), ["ignore_class"] = IgnoreClass,
        ["sparse_y_true"] = SparseYTrue, ["sparse_y_pred"] = SparseYPred, ["axis"] = Axis,
    };

    /// <summary>The predictions' class ids, flattened.</summary>
    private protected virtual Tensor PredictedIds(Tensor output) => Ids(output, SparseYPred, "yPred");

    /// <summary><see cref="TargetClassIds"/> as a JSON list.</summary>
    private protected JsonArray Ids() => new(targetClassIds.Select(i => (JsonNode?)i).ToArray());

    /// <summary>Class ids (truncated, as Keras' cast) or the argmax over <see cref="Axis"/>, flattened, int64.</summary>
    private Tensor Ids(Tensor values, bool sparse, string argument)
    {
        if (sparse)
        {
            return values.to_type(ScalarType.Float64).trunc().to_type(ScalarType.Int64).reshape(-1);
        }

        if (values.dim() == 0)
        {
            throw new ArgumentException($"metric '{Name}': {argument} is a scalar; one-hot or scores need a class axis ({Axis}).", argument);
        }

        return values.to_type(ScalarType.Float32).argmax(Axis).reshape(-1);
    }

    /// <summary>Reads a serialized IoU-family metric with Keras 3.16's keys for its class.</summary>
    /// <exception cref="FormatException">A missing or mistyped argument, a value out of range, or an unknown argument.</exception>
    /// <exception cref="NotSupportedException">A dtype this library does not implement.</exception>
    internal static IoU FromConfig(string className, LayerConfig config)
    {
        var name = config.GetNullableString("name");
        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        try
        {
            IoU metric = className switch
            {
                "BinaryIoU" => new BinaryIoU(config.GetRaw("target_class_ids") is null ? null : config.GetIntList("target_class_ids"), config.GetDouble("threshold", 0.5), name, dtype),
                "IoU" => new IoU(config.GetInt("num_classes"), config.GetIntList("target_class_ids"), name, dtype, config.GetNullableInt("ignore_class"),
                    config.GetBool("sparse_y_true", true), config.GetBool("sparse_y_pred", true), config.GetInt("axis", -1)),
                "MeanIoU" => new MeanIoU(config.GetInt("num_classes"), name, dtype, config.GetNullableInt("ignore_class"),
                    config.GetBool("sparse_y_true", true), config.GetBool("sparse_y_pred", true), config.GetInt("axis", -1)),
                "OneHotIoU" => new OneHotIoU(config.GetInt("num_classes"), config.GetIntList("target_class_ids"), name, dtype, config.GetNullableInt("ignore_class"),
                    config.GetBool("sparse_y_pred", false), config.GetInt("axis", -1)),
                _ => new OneHotMeanIoU(config.GetInt("num_classes"), name, dtype, config.GetNullableInt("ignore_class"), config.GetBool("sparse_y_pred", false), config.GetInt("axis", -1)),
            };
            var unknown = config.UnreadKeys;
            return unknown.Count == 0 ? metric
                : throw config.Error($"unknown argument{(unknown.Count > 1 ? "s" : string.Empty)} {string.Join(", ", unknown.Select(k => $"'{k}'"))} for the metric {className}.");
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"compile_config: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }
}

/// <summary>
/// Keras' <c>MeanIoU</c> (keras/src/metrics/iou_metrics.py): <see cref="IoU"/> averaged over every class, the
/// standard semantic-segmentation metric.
/// </summary>
public class MeanIoU : IoU
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="numClasses">The number of classes, at least 1.</param>
    /// <param name="name">The logged name; null for Keras' <c>mean_io_u</c>, <c>mean_io_u_1</c>, ... (unique per session).</param>
    /// <param name="dtype">null, <c>int</c> or <c>int32</c> (Keras' default: weights truncated to integers), <c>int64</c>, or <c>float32</c>.</param>
    /// <param name="ignoreClass">A target class to skip, or null.</param>
    /// <param name="sparseYTrue">Whether targets are class ids (true) or one-hot.</param>
    /// <param name="sparseYPred">Whether predictions are class ids (true) or scores.</param>
    /// <param name="axis">The class axis of non-sparse inputs: -1 or 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 class, or another axis.</exception>
    /// <exception cref="NotSupportedException">Another dtype.</exception>
    public MeanIoU(int numClasses, string? name = null, string? dtype = null, int? ignoreClass = null, bool sparseYTrue = true, bool sparseYPred = true, int axis = -1)
        : this("mean_io_u", numClasses, name, dtype, ignoreClass, sparseYTrue, sparseYPred, axis)
    {
    }

    /// <summary>The constructor of MeanIoU and OneHotMeanIoU.</summary>
    private protected MeanIoU(string prefix, int numClasses, string? name, string? dtype, int? ignoreClass, bool sparseYTrue, bool sparseYPred, int axis)
        : base(prefix, numClasses, Enumerable.Range(0, Math.Max(numClasses, 1)).ToArray(), name, dtype, ignoreClass, sparseYTrue, sparseYPred, axis)
    {
    }

    /// <summary>Keras 3.16's <c>MeanIoU.get_config</c>.</summary>
    public override JsonObject GetConfig() => new()
    {
        ["num_classes"] = NumClasses, ["name"] = Name, ["dtype"] = DType, ["ignore_class"] = IgnoreClass, ["sparse_y_true"] = SparseYTrue,
        ["sparse_y_pred"] = SparseYPred, ["axis"] = Axis,
    };
}

/// <summary>
/// Keras' <c>BinaryIoU</c> (keras/src/metrics/iou_metrics.py): <see cref="IoU"/> of two classes, a prediction being
/// class 1 at or above <see cref="Threshold"/> and a target its value as a class id (0 or 1).
/// </summary>
public sealed class BinaryIoU : IoU
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="targetClassIds">The classes averaged, among 0 and 1; null for both.</param>
    /// <param name="threshold">Predictions at or above it are class 1.</param>
    /// <param name="name">The logged name; null for Keras' <c>binary_io_u</c>, <c>binary_io_u_1</c>, ... (unique per session).</param>
    /// <param name="dtype">null, <c>int</c> or <c>int32</c> (Keras' default: weights truncated to integers), <c>int64</c>, or <c>float32</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A target class id other than 0 or 1, or a threshold that is not finite.</exception>
    /// <exception cref="NotSupportedException">Another dtype.</exception>
    public BinaryIoU(IReadOnlyList<int>? targetClassIds = null, double threshold = 0.5, string? name = null, string? dtype = null)
        : base("binary_io_u", 2, targetClassIds ?? new[] { 0, 1 }, name, dtype, null, true, true, -1)
    {
        Threshold = double.IsFinite(threshold) ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "BinaryIoU: the threshold must be a finite number.");
    }

    /// <summary>The threshold at or above which a prediction is class 1.</summary>
    public double Threshold { get; }

    /// <summary>Keras 3.16's <c>BinaryIoU.get_config</c>.</summary>
    public override JsonObject GetConfig() => new() { ["target_class_ids"] = Ids(), ["threshold"] = PythonFloat(Threshold), ["name"] = Name, ["dtype"] = DType };

    private protected override Tensor PredictedIds(Tensor output) =>
        output.to_type(ScalarType.Float32).ge(Scalars.Of((float)Threshold)).to_type(ScalarType.Int64).reshape(-1);
}

/// <summary>Keras' <c>OneHotIoU</c> (keras/src/metrics/iou_metrics.py): <see cref="IoU"/> of one-hot targets (and, by default, scores as predictions).</summary>
public sealed class OneHotIoU : IoU
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="numClasses">The number of classes, at least 1.</param>
    /// <param name="targetClassIds">The classes averaged, each in [0, numClasses).</param>
    /// <param name="name">The logged name; null for Keras' <c>one_hot_io_u</c>, ... (unique per session).</param>
    /// <param name="dtype">null, <c>int</c> or <c>int32</c> (Keras' default: weights truncated to integers), <c>int64</c>, or <c>float32</c>.</param>
    /// <param name="ignoreClass">A target class to skip, or null.</param>
    /// <param name="sparseYPred">Whether predictions are class ids (false: scores).</param>
    /// <param name="axis">The class axis: -1 or 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 class, a target class id out of range, or another axis.</exception>
    /// <exception cref="NotSupportedException">Another dtype.</exception>
    public OneHotIoU(int numClasses, IReadOnlyList<int> targetClassIds, string? name = null, string? dtype = null, int? ignoreClass = null, bool sparseYPred = false, int axis = -1)
        : base("one_hot_io_u", numClasses, targetClassIds, name, dtype, ignoreClass, false, sparseYPred, axis)
    {
    }

    /// <summary>Keras 3.16's <c>OneHotIoU.get_config</c>.</summary>
    public override JsonObject GetConfig() => new()
    {
        ["num_classes"] = NumClasses, ["target_class_ids"] = Ids(), ["name"] = Name, ["dtype"] = DType, ["ignore_class"] = IgnoreClass,
        ["sparse_y_pred"] = SparseYPred, ["axis"] = Axis,
    };
}

/// <summary>Keras' <c>OneHotMeanIoU</c> (keras/src/metrics/iou_metrics.py): <see cref="MeanIoU"/> of one-hot targets (and, by default, scores as predictions).</summary>
public sealed class OneHotMeanIoU : MeanIoU
{
    /// <summary>Creates the metric with Keras' arguments and defaults.</summary>
    /// <param name="numClasses">The number of classes, at least 1.</param>
    /// <param name="name">The logged name; null for Keras' <c>one_hot_mean_io_u</c>, ... (unique per session).</param>
    /// <param name="dtype">null, <c>int</c> or <c>int32</c> (Keras' default: weights truncated to integers), <c>int64</c>, or <c>float32</c>.</param>
    /// <param name="ignoreClass">A target class to skip, or null.</param>
    /// <param name="sparseYPred">Whether predictions are class ids (false: scores).</param>
    /// <param name="axis">The class axis: -1 or 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 class, or another axis.</exception>
    /// <exception cref="NotSupportedException">Another dtype.</exception>
    public OneHotMeanIoU(int numClasses, string? name = null, string? dtype = null, int? ignoreClass = null, bool sparseYPred = false, int axis = -1)
        : base("one_hot_mean_io_u", numClasses, name, dtype, ignoreClass, false, sparseYPred, axis)
    {
    }

    /// <summary>Keras 3.16's <c>OneHotMeanIoU.get_config</c>.</summary>
    public override JsonObject GetConfig() => new()
    {
        ["num_classes"] = NumClasses, ["name"] = Name, ["dtype"] = DType, ["ignore_class"] = IgnoreClass, ["sparse_y_pred"] = SparseYPred, ["axis"] = Axis,
    };
}
