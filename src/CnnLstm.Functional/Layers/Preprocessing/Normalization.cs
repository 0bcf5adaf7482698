using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using KerasStyle.Training;
using KerasStyle.Training.Data;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Shifts and scales continuous features to mean 0 and variance 1, as Keras 3.16's <c>keras.layers.Normalization</c>
/// (keras/src/layers/preprocessing/normalization.py): <c>(x - mean) / max(sqrt(variance), 1e-7)</c>, or with
/// <c>invert</c> <c>mean + x × max(sqrt(variance), 1e-7)</c>, in float32 (integer inputs are cast). Each index along
/// the <c>axis</c> axes (the last by default; none: one scalar mean for everything) has its own mean and variance,
/// broadcast over the other axes. They are given (<c>mean</c>, <c>variance</c>: scalars, or arrays aligned with the kept
/// axes from the right and broadcast, as Keras' build) or learned by <see cref="Adapt(Array)"/>: on an array at once,
/// or batch by batch (<see cref="AdaptBatches"/>, <see cref="Adapt(DataSource, int?)"/>) with Keras' running
/// combination of batch moments. Shape unchanged; passes masks on.
/// </summary>
/// <remarks>
/// Weights where Keras keeps them: a layer without given values has the non-trainable <c>mean</c> and
/// <c>variance</c> (the kept axes' shape) and the integer scalar <c>count</c> (kept for older files; Keras 3's adapt
/// leaves it 0), saved in <c>.keras</c> and <c>.h5</c>; given values live in the config only. The kept axes must have a
/// known size and cannot include the batch axis (Keras' build refuses an unknown kept size; on an array of fixed batch
/// size Keras would keep one statistic per sample position, which a model of any batch size cannot use).
/// </remarks>
[KerasLayer("Normalization")]
public sealed class Normalization : Layer
{
    private readonly int[] axis;
    private readonly double[]? givenMean;
    private readonly double[]? givenVariance;
    private readonly int[] givenShape;
    private LayerWeight? meanWeight;
    private LayerWeight? varianceWeight;
    private int[] keepAxes = Array.Empty<int>();
    private int[] reduceAxes = Array.Empty<int>();
    private long[] broadcastShape = Array.Empty<long>();
    private int?[]? builtShape;
    private float[]? fixedMean;
    private float[]? fixedVariance;

    /// <summary>Creates the layer, to be adapted or with mean and variance arrays.</summary>
    /// <param name="axis">The axes with their own statistics: null for Keras' default (-1, the last), an empty array for Keras' <c>None</c> (one scalar statistic), or indices (negative from the end; not the batch axis).</param>
    /// <param name="mean">The means: null to learn them with Adapt, else a float or double array of rank at most the number of axes (aligned with the kept axes from the right and broadcast).</param>
    /// <param name="variance">The variances, of the mean's shape; null exactly when mean is.</param>
    /// <param name="invert">Undo the normalisation instead (Keras' <c>invert</c>, default false).</param>
    /// <param name="name">Layer name; defaults to <c>normalization_N</c>.</param>
    /// <exception cref="ArgumentException">Only one of mean and variance, different shapes, a mean of higher rank than the number of axes, repeated axes, or values that are not finite.</exception>
    public Normalization(int[]? axis = null, Array? mean = null, Array? variance = null, bool invert = false, string? name = null)
        : this(axis ?? new[] { -1 }, ToValues(mean, nameof(mean)), ToValues(variance, nameof(variance)), invert, name)
    {
    }

    /// <summary>Creates the layer with a scalar mean and variance (Keras' <c>Normalization(mean=3., variance=2.)</c>).</summary>
    /// <param name="mean">The mean of every value.</param>
    /// <param name="variance">The variance of every value.</param>
    /// <param name="axis">As in the other constructor (null: -1).</param>
    /// <param name="invert">Undo the normalisation instead (default false).</param>
    /// <param name="name">Layer name; defaults to <c>normalization_N</c>.</param>
    /// <exception cref="ArgumentException">Repeated axes, or values that are not finite.</exception>
    public Normalization(double mean, double variance, int[]? axis = null, bool invert = false, string? name = null)
        : this(axis ?? new[] { -1 }, (new[] { mean }, Array.Empty<int>()), (new[] { variance }, Array.Empty<int>()), invert, name)
    {
    }

    private Normalization(int[] axis, (double[] Data, int[] Shape)? mean, (double[] Data, int[] Shape)? variance, bool invert, string? name)
        : base(CheckedName(axis, mean, variance, name))
    {
        this.axis = (int[])axis.Clone();
        givenMean = mean?.Data;
        givenVariance = variance?.Data;
        givenShape = mean?.Shape ?? Array.Empty<int>();
        Invert = invert;
    }

    /// <summary>The axes with their own statistics as given (Keras' <c>axis</c>, a tuple; empty for <c>None</c>).</summary>
    public IReadOnlyList<int> Axis => axis;

    /// <summary>Whether the layer undoes the normalisation (Keras' <c>invert</c>).</summary>
    public bool Invert { get; }

    /// <summary>Whether mean and variance were given (then the layer has no weights and cannot be adapted).</summary>
    public bool HasGivenStatistics => givenMean is not null;

    /// <inheritdoc/>
    public override bool SupportsMasking => true;

    private static (double[] Data, int[] Shape)? ToValues(Array? values, string what)
    {
        if (values is null)
        {
            return null;
        }

        var element = values.GetType().GetElementType();
        if (element != typeof(float) && element != typeof(double))
        {
            throw new ArgumentException($"Normalization: {what} must be a float or double array, but got {TensorData.TypeName(values)}.", what);
        }

        var data = new double[values.Length];
        var i = 0;
        foreach (var v in values)
        {
            data[i++] = v is float f ? f : (double)v;
        }

        return (data, Enumerable.Range(0, values.Rank).Select(values.GetLength).ToArray());
    }

    private static string? CheckedName(int[] axis, (double[] Data, int[] Shape)? mean, (double[] Data, int[] Shape)? variance, string? name)
    {
        if (axis.Distinct().Count() != axis.Length)
        {
            throw new ArgumentException($"Normalization: axis [{string.Join(", ", axis)}] repeats an axis.", nameof(axis));
        }

        if (mean.HasValue != variance.HasValue)
        {
            throw new ArgumentException($"Normalization: when setting values directly, both mean and variance must be set (got {(mean.HasValue ? "a mean without variance" : "a variance without mean")}).", nameof(variance));
        }

        if (mean is { } m && variance is { } v)
        {
            if (!m.Shape.SequenceEqual(v.Shape))
            {
                throw new ArgumentException($"Normalization: when setting values directly, mean and variance must have the same shape, but got mean shape {WeightArray.ShapeText(m.Shape)} and variance shape {WeightArray.ShapeText(v.Shape)}.", nameof(variance));
            }

            if (m.Shape.Length > axis.Length)
            {
                throw new ArgumentException($"Normalization: the rank of mean must be less than or equal to the number of axes ({axis.Length}), but got mean shape {WeightArray.ShapeText(m.Shape)} for axis ({string.Join(", ", axis)}).", nameof(mean));
            }

            if (m.Data.Concat(v.Data).Any(x => !double.IsFinite(x)))
            {
                throw new ArgumentException("Normalization: mean and variance must be finite.", nameof(mean));
            }
        }

        return name;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["axis"] = new JsonArray(axis.Select(a => (JsonNode)JsonValue.Create(a)).ToArray());
        config["invert"] = Invert;
        config["mean"] = givenMean is null ? null : Nested(givenMean, givenShape);
        config["variance"] = givenVariance is null ? null : Nested(givenVariance, givenShape);
        return config;
    }

    /// <summary>Values as NumPy's <c>tolist()</c> writes them: a number for a scalar, nested lists otherwise.</summary>
    private static JsonNode Nested(double[] data, int[] shape)
    {
        var offset = 0;
        JsonNode Level(int depth)
        {
            if (depth == shape.Length)
            {
                return JsonValue.Create(data[offset++]);
            }

            var list = new JsonArray();
            for (var i = 0; i < shape[depth]; i++)
            {
                list.Add(Level(depth + 1));
            }

            return list;
        }

        return Level(0);
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config: <c>axis</c> an integer, a list or null; <c>mean</c>/<c>variance</c> null, numbers or nested lists.</summary>
    internal static Normalization FromConfig(LayerConfig config)
    {
        var raw = config.GetRaw("axis");
        int[] axis = config.Has("axis") ? raw switch
        {
            null => Array.Empty<int>(),
            JsonValue v when v.TryGetValue<int>(out var one) => new[] { one },
            JsonArray list when list.All(e => e is JsonValue ev && ev.TryGetValue<int>(out _)) => list.Select(e => e!.GetValue<int>()).ToArray(),
            _ => throw config.Error($"'axis' {raw.ToJsonString()} is not an integer, a list of integers or null."),
        } : new[] { -1 };
        try
        {
            return new Normalization(axis, ReadNested(config, "mean"), ReadNested(config, "variance"), config.GetBool("invert", false), config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    private static (double[] Data, int[] Shape)? ReadNested(LayerConfig config, string key)
    {
        var raw = config.GetRaw(key);
        if (raw is null)
        {
            return null;
        }

        var data = new List<double>();
        var shape = new List<int>();
        void Walk(JsonNode? node, int depth)
        {
            switch (node)
            {
                case JsonValue v when v.TryGetValue<double>(out var number):
                    if (depth != shape.Count)
                    {
                        throw config.Error($"'{key}' {raw.ToJsonString()} is not a rectangular array.");
                    }

                    data.Add(number);
                    return;
                case JsonArray list:
                    if (depth == shape.Count && data.Count == 0)
                    {
                        shape.Add(list.Count);
                    }
                    else if (depth >= shape.Count || shape[depth] != list.Count)
                    {
                        throw config.Error($"'{key}' {raw.ToJsonString()} is not a rectangular array.");
                    }

                    foreach (var item in list)
                    {
                        Walk(item, depth + 1);
                    }

                    return;
                default:
                    throw config.Error($"'{key}' {raw.ToJsonString()} is not a number or a list of numbers.");
            }
        }

        Walk(raw, 0);
        return (data.ToArray(), shape.ToArray());
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">An axis out of range or the batch axis, an unknown size on a kept axis, a shape other than the built one on a kept axis, or given values that do not broadcast.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        var rank = input.Shape.Rank;
        var dims = Enumerable.Range(0, rank).Select(d => input.Shape[d]).ToArray();
        Resolve(dims, input.Label + $" with shape {input.Shape}", out _, out _);
        return new[] { (input.Shape, DType.Float32) };
    }

    /// <summary>The kept and reduced axes for per-sample dims (with batch), with every check of Keras' build.</summary>
    private void Resolve(int?[] dims, string what, out int[] keep, out int[] reduce)
    {
        var rank = dims.Length;
        if (axis.Any(a => a < -rank || a >= rank))
        {
            throw InputError($"all axis values must be in the range [-ndim, ndim), but got axis ({string.Join(", ", axis)}) for {what} (ndim {rank}).");
        }

        keep = axis.Select(a => a < 0 ? a + rank : a).Distinct().Order().ToArray();
        if (keep.Contains(0))
        {
            throw InputError($"axis ({string.Join(", ", axis)}) includes the batch axis of {what}; the kept axes must be others (a model's batch size is not known).");
        }

        if (keep.Length != axis.Length)
        {
            throw InputError($"axis ({string.Join(", ", axis)}) names one axis of {what} twice.");
        }

        foreach (var d in keep)
        {
            if (dims[d] is null)
            {
                throw InputError($"all axis values to be kept must have a known shape, but axis {d} of {what} is unknown.");
            }
        }

        var kept = keep;
        reduce = Enumerable.Range(0, rank).Where(d => !kept.Contains(d)).ToArray();
        if (builtShape is not null && (builtShape.Length != rank || keep.Any(d => builtShape[d] != dims[d])))
        {
            throw InputError($"was built for input shape ({string.Join(", ", builtShape.Select(d => d?.ToString() ?? "None"))}), but got {what}.");
        }

        if (givenMean is not null)
        {
            var expanded = ExpandedShape(keep, rank);
            for (var d = 0; d < rank; d++)
            {
                var target = kept.Contains(d) ? dims[d]!.Value : 1;
                if (expanded[d] != 1 && expanded[d] != target)
                {
                    throw InputError($"the given mean and variance of shape {WeightArray.ShapeText(givenShape)} do not broadcast to the kept axes ({string.Join(", ", keep)}) of {what}.");
                }
            }
        }
    }

    /// <summary>Keras' alignment of given values: their axes on the kept axes from the right, 1 elsewhere.</summary>
    private int[] ExpandedShape(int[] keep, int rank)
    {
        var expanded = Enumerable.Repeat(1, rank).ToArray();
        for (var i = 1; i <= givenShape.Length; i++)
        {
            expanded[keep[^i]] = givenShape[^i];
        }

        return expanded;
    }

    /// <inheritdoc/>
    protected override void Build(KerasTensor input)
    {
        var dims = Enumerable.Range(0, input.Shape.Rank).Select(d => input.Shape[d]).ToArray();
        Resolve(dims, input.Label, out keepAxes, out reduceAxes);
        builtShape = dims;
        var kept = keepAxes;
        broadcastShape = Enumerable.Range(0, dims.Length).Select(d => kept.Contains(d) ? (long)dims[d]!.Value : 1L).ToArray();
        var statShape = keepAxes.Select(d => (long)dims[d]!.Value).ToArray();
        if (givenMean is null)
        {
            meanWeight = AddWeight("mean", statShape, () => zeros(statShape), trainable: false);
            varianceWeight = AddWeight("variance", statShape, () => ones(statShape), trainable: false);
            AddWeight("count", Array.Empty<long>(), () => zeros(Array.Empty<long>()), trainable: false).Integer = true;
        }
        else
        {
            fixedMean = Broadcast(givenMean);
            fixedVariance = Broadcast(givenVariance!);
        }
    }

    /// <summary>Given values aligned (<see cref="ExpandedShape"/>) and broadcast to the broadcast shape, as float32.</summary>
    private float[] Broadcast(double[] values)
    {
        using var scope = NewDisposeScope();
        var expanded = ExpandedShape(keepAxes, broadcastShape.Length).Select(d => (long)d).ToArray();
        var t = tensor(values, expanded).to_type(ScalarType.Float32).expand(broadcastShape).contiguous();
        return t.data<float>().ToArray();
    }

    private (Tensor Mean, Tensor Scale) Statistics(Device device)
    {
        Tensor mean, variance;
        if (meanWeight is not null)
        {
            mean = meanWeight.Variable.reshape(broadcastShape);
            variance = varianceWeight!.Variable.reshape(broadcastShape);
        }
        else
        {
            mean = tensor(fixedMean!, broadcastShape, device: device);
            variance = tensor(fixedVariance!, broadcastShape, device: device);
        }

        return (mean, variance.sqrt().clamp_min(Scalars.Of(1e-7)));
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var x = input.dtype == ScalarType.Float32 ? input : input.to_type(ScalarType.Float32);
        var (mean, scale) = Statistics(x.device);
        var result = Invert ? mean.add(x.mul(scale), Scalars.IntOne) : x.sub(mean).div(scale);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Learns the mean and variance of <paramref name="data"/> (samples along the first axis) over every axis but the
    /// kept ones, as Keras' <c>adapt</c> on an array; builds the layer from the data's shape when it is not built yet.
    /// </summary>
    /// <param name="data">A float, double, int or long array (batch, ...).</param>
    /// <exception cref="InvalidOperationException">Mean and variance were given.</exception>
    /// <exception cref="LayerInputException">Data whose kept axes differ from the built shape (or see <see cref="ComputeOutputSpecs"/>).</exception>
    public void Adapt(Array data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var scope = NewDisposeScope();
        var values = TensorData.FromArray(data, nameof(data)).to_type(ScalarType.Float64);
        var (keep, reduce) = PrepareAdapt(values, "the adapt data");
        var mean = values.mean(reduce.Select(a => (long)a).ToArray());
        var variance = values.var(reduce.Select(a => (long)a).ToArray(), unbiased: false);
        Assign(mean, variance);
    }

    /// <summary>
    /// Learns the mean and variance batch by batch, as Keras' <c>adapt</c> on an iterable of batches: each batch's
    /// moments are combined into the running ones weighted by their counts (Keras' lack-of-fit formula).
    /// </summary>
    /// <param name="batches">The batches, each (batch, ...) with the same kept sizes.</param>
    /// <exception cref="ArgumentException">No batches.</exception>
    /// <exception cref="InvalidOperationException">Mean and variance were given.</exception>
    /// <exception cref="LayerInputException">A batch whose kept axes differ.</exception>
    public void AdaptBatches(IEnumerable<Array> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        AdaptTensors(batches.Select(b => TensorData.FromArray(b ?? throw new ArgumentException($"Normalization '{Name}': a batch is null.", nameof(batches)), nameof(batches))));
    }

    /// <summary>
    /// Learns the mean and variance batch by batch from a <see cref="DataSource"/>'s inputs (the single input of each
    /// batch; targets are ignored), as Keras' <c>adapt</c> on a dataset.
    /// </summary>
    /// <param name="data">The batches; a source of unknown count is read to its end.</param>
    /// <param name="steps">Read at most this many batches; null for all.</param>
    /// <exception cref="ArgumentException">No batches, or batches of several inputs.</exception>
    /// <exception cref="InvalidOperationException">Mean and variance were given.</exception>
    /// <exception cref="LayerInputException">A batch whose kept axes differ.</exception>
    public void Adapt(DataSource data, int? steps = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        AdaptTensors(Batches(data, steps, this));
    }

    private void AdaptTensors(IEnumerable<Tensor> batches)
    {
        using var scope = NewDisposeScope();
        Tensor? totalMean = null, totalVariance = null;
        long totalCount = 0;
        foreach (var raw in batches)
        {
            var batch = raw.to_type(ScalarType.Float64);
            var (_, reduce) = PrepareAdapt(batch, $"a batch of shape ({string.Join(", ", batch.shape)})");
            var axes = reduce.Select(a => (long)a).ToArray();
            var batchMean = batch.mean(axes);
            var batchVariance = batch.var(axes, unbiased: false);
            var batchCount = reduce.Aggregate(1L, (p, d) => p * batch.shape[d]);
            totalMean ??= zeros_like(batchMean);
            totalVariance ??= zeros_like(batchVariance);
            totalCount += batchCount;
            var batchWeight = (double)batchCount / totalCount;
            var existingWeight = 1.0 - batchWeight;
            var newMean = totalMean.mul(Scalars.Of(existingWeight)).add(batchMean.mul(Scalars.Of(batchWeight)), Scalars.IntOne);
            totalVariance = Scalars.Square(totalMean.sub(newMean)).add(totalVariance, Scalars.IntOne).mul(Scalars.Of(existingWeight))
                .add(Scalars.Square(batchMean.sub(newMean)).add(batchVariance, Scalars.IntOne).mul(Scalars.Of(batchWeight)), Scalars.IntOne);
            totalMean = newMean;
        }

        if (totalMean is null)
        {
            throw new ArgumentException($"Normalization '{Name}': adapt received no batches; expected at least one.", nameof(batches));
        }

        Assign(totalMean, totalVariance!);
    }

    /// <summary>Builds the layer from the data's shape when needed (checking it as a call would) and gives the kept and reduced axes.</summary>
    private (int[] Keep, int[] Reduce) PrepareAdapt(Tensor data, string what)
    {
        if (givenMean is not null)
        {
            throw new InvalidOperationException($"Normalization '{Name}': mean and variance were given when creating the layer; it has nothing to adapt.");
        }

        if (data.dim() == 0)
        {
            throw InputError($"{what} is a scalar; adapt takes samples along the first axis.");
        }

        var dims = new int?[] { null }.Concat(data.shape.Skip(1).Select(d => (int?)checked((int)d))).ToArray();
        var spec = new KerasTensor(Shape.WithBatch(dims.Skip(1)), DType.Float32, this, what);
        BuildFor(spec);
        Resolve(dims, what, out var keep, out var reduce);
        return (keep, reduce);
    }

    private void Assign(Tensor mean, Tensor variance)
    {
        using var noGrad = no_grad();
        meanWeight!.Variable.copy_(mean.to_type(ScalarType.Float32).reshape(meanWeight.Variable.shape));
        varianceWeight!.Variable.copy_(variance.to_type(ScalarType.Float32).reshape(varianceWeight.Variable.shape));
    }

    /// <summary>The single input of each batch of a data source, read in order (a source of unknown count to its end).</summary>
    internal static IEnumerable<Tensor> Batches(DataSource data, int? steps, Layer layer)
    {
        if (steps is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{layer.ClassName} '{layer.Name}': steps must be at least 1.");
        }

        var count = data.ReadCount();
        var read = 0;
        for (var i = 0; (count is null || i < count) && (steps is null || i < steps); i++)
        {
            DataBatch? batch;
            try
            {
                batch = data.GetBatch(i);
            }
            catch (EndOfDataException) when (count is null)
            {
                batch = null;
            }
            catch (Exception e) when (e is not DataSourceException)
            {
                throw new DataSourceException($"Data source {data.GetType().Name}: GetBatch({i}) threw while {layer.ClassName} '{layer.Name}' adapted: {e.Message}", e);
            }

            if (batch is null)
            {
                break;
            }

            if (batch.X.Count != 1)
            {
                throw new ArgumentException($"{layer.ClassName} '{layer.Name}': adapt takes batches of one input, but batch {i} has {batch.X.Count}.", nameof(data));
            }

            read++;
            yield return batch.X.Arrays is { } arrays ? TensorData.FromArray(arrays[0], nameof(data)) : batch.X.Tensors![0];
        }

        if (read == 0)
        {
            throw new ArgumentException($"{layer.ClassName} '{layer.Name}': adapt received no batches from the data source; expected at least one.", nameof(data));
        }
    }

    /// <summary>ONNX: Cast to float32, then (x - mean) / max(sqrt(variance), 1e-7) (or its inverse) with the statistics as constants of the broadcast shape.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        float[] mean, scale;
        using (var scope = NewDisposeScope())
        {
            var (m, s) = Statistics(CPU);
            mean = m.contiguous().cpu().data<float>().ToArray();
            scale = s.contiguous().cpu().data<float>().ToArray();
        }

        var x = graph.Add("Cast", Name, new[] { call.Input.Name }, OnnxGraph.Attr("to", (long)OnnxGraph.Float));
        var meanName = graph.Floats($"{Name}_mean", mean, broadcastShape);
        var scaleName = graph.Floats($"{Name}_scale", scale, broadcastShape);
        return new[]
        {
            Invert ? graph.Add("Add", Name, new[] { meanName, graph.Add("Mul", Name, new[] { x, scaleName }) })
                : graph.Add("Div", Name, new[] { graph.Add("Sub", Name, new[] { x, meanName }), scaleName }),
        };
    }
}
