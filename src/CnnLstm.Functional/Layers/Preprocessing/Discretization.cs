using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using KerasStyle.Training.Data;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Buckets continuous values by bin boundaries, as Keras 3.16's <c>keras.layers.Discretization</c>
/// (keras/src/layers/preprocessing/discretization.py): a value x falls in bucket i when
/// boundaries[i - 1] &lt;= x &lt; boundaries[i] (torch's <c>bucketize(right=True)</c>, Keras' <c>digitize</c>), so n
/// boundaries give n + 1 buckets, 0 to n. <c>output_mode</c> <c>int</c> (the default) returns the bucket ids as int32 of
/// the input's shape; <c>one_hot</c>, <c>multi_hot</c> and <c>count</c> encode them as <see cref="CategoryEncoding"/>
/// does with n + 1 tokens, float32. The boundaries are given, or learned by <see cref="Adapt(Array)"/> from
/// <c>num_bins</c> and <c>epsilon</c> with Keras' approximate quantiles (its <c>summarize</c>, <c>merge_summaries</c>
/// and <c>compress_summary</c>, computed here as NumPy does them). Inputs are float32 (integers are cast). No weights:
/// Keras keeps the boundaries in the config (<c>bin_boundaries</c>, written beside <c>num_bins</c> after an adapt).
/// </summary>
/// <remarks>
/// <c>sparse=True</c> is refused, as Keras' torch backend refuses it. Each adapt starts a new summary (Keras'
/// <c>reset_state</c>), and none is saved (Keras 3.16 saves no variables for this layer).
/// </remarks>
[KerasLayer("Discretization")]
public sealed class Discretization : Layer
{
    private float[]? boundaries;

    /// <summary>Creates the layer with given boundaries.</summary>
    /// <param name="binBoundaries">The sorted boundaries (Keras' <c>bin_boundaries</c>); none gives one bucket.</param>
    /// <param name="outputMode"><c>int</c> (Keras' default), <c>one_hot</c>, <c>multi_hot</c> or <c>count</c>.</param>
    /// <param name="sparse">Keras' <c>sparse</c>: only false.</param>
    /// <param name="name">Layer name; defaults to <c>discretization_N</c>.</param>
    /// <exception cref="ArgumentException">Another output mode, sparse true, or boundaries that are not finite.</exception>
    public Discretization(double[] binBoundaries, string outputMode = "int", bool sparse = false, string? name = null)
        : this(binBoundaries ?? throw new ArgumentNullException(nameof(binBoundaries)), null, 0.01, outputMode, sparse, name)
    {
    }

    /// <summary>Creates the layer to learn <paramref name="numBins"/> buckets with <see cref="Adapt(Array)"/>.</summary>
    /// <param name="numBins">The number of buckets to learn (Keras' <c>num_bins</c>), 0 or more.</param>
    /// <param name="epsilon">The approximation of the quantiles (Keras' <c>epsilon</c>, default 0.01): each summary keeps about 1/epsilon values.</param>
    /// <param name="outputMode"><c>int</c> (Keras' default), <c>one_hot</c>, <c>multi_hot</c> or <c>count</c>.</param>
    /// <param name="sparse">Keras' <c>sparse</c>: only false.</param>
    /// <param name="name">Layer name; defaults to <c>discretization_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative numBins, or an epsilon that is not in (0, 1].</exception>
    /// <exception cref="ArgumentException">Another output mode or sparse true.</exception>
    public Discretization(int numBins, double epsilon = 0.01, string outputMode = "int", bool sparse = false, string? name = null)
        : this(null, numBins, epsilon, outputMode, sparse, name)
    {
    }

    private Discretization(double[]? binBoundaries, int? numBins, double epsilon, string outputMode, bool sparse, string? name)
        : base(CheckedName(binBoundaries, numBins, epsilon, outputMode, sparse, name))
    {
        boundaries = binBoundaries?.Select(b => (float)b).ToArray();
        NumBins = numBins;
        Epsilon = epsilon;
        OutputMode = outputMode;
    }

    /// <summary>The boundaries (Keras' <c>bin_boundaries</c>), as float32 as Keras computes with them; null until adapted when created with num_bins.</summary>
    public IReadOnlyList<float>? BinBoundaries => boundaries;

    /// <summary>The number of buckets to learn (Keras' <c>num_bins</c>); null when the boundaries were given.</summary>
    public int? NumBins { get; }

    /// <summary>Keras' <c>epsilon</c>.</summary>
    public double Epsilon { get; }

    /// <summary><c>int</c>, <c>one_hot</c>, <c>multi_hot</c> or <c>count</c> (Keras' <c>output_mode</c>).</summary>
    public string OutputMode { get; }

    internal override bool BuiltAtInit => true;

    private int Depth => boundaries is not null ? boundaries.Length + 1 : NumBins!.Value;

    private static string? CheckedName(double[]? binBoundaries, int? numBins, double epsilon, string outputMode, bool sparse, string? name)
    {
        ArgumentNullException.ThrowIfNull(outputMode);
        if (outputMode is not ("int" or "one_hot" or "multi_hot" or "count"))
        {
            throw new ArgumentException($"Discretization: output_mode '{outputMode}' is not one of 'int', 'one_hot', 'multi_hot', 'count'.", nameof(outputMode));
        }

        if (sparse && outputMode == "int")
        {
            throw new ArgumentException("Discretization: sparse=True may only be used if output_mode is 'one_hot', 'multi_hot', or 'count' (Keras refuses it too).", nameof(sparse));
        }

        CategoryEncoding.RefuseSparse(nameof(Discretization), sparse);
        if (numBins is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numBins), numBins, $"Discretization: num_bins must be greater than or equal to 0, but got {numBins}.");
        }

        if (!(epsilon > 0 && epsilon <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Discretization: epsilon must be in (0, 1], but got {epsilon}.");
        }

        if (binBoundaries is not null && binBoundaries.Any(b => !double.IsFinite(b)))
        {
            throw new ArgumentException($"Discretization: bin_boundaries [{string.Join(", ", binBoundaries)}] must be finite.", nameof(binBoundaries));
        }

        return name;
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        // Keras 3.16's get_config: these keys only, dtype as a plain string.
        ["bin_boundaries"] = boundaries is null ? null : new JsonArray(boundaries.Select(b => (JsonNode)JsonValue.Create((double)b)).ToArray()),
        ["num_bins"] = NumBins,
        ["epsilon"] = Epsilon,
        ["output_mode"] = OutputMode,
        ["sparse"] = false,
        ["name"] = Name,
        ["dtype"] = "float32",
    };

    /// <summary>
    /// Creates the layer from a Keras 3 or tf.keras 2 config; one that holds both <c>bin_boundaries</c> and
    /// <c>num_bins</c> (an adapted layer) keeps both, as Keras' <c>from_config</c>.
    /// </summary>
    internal static Discretization FromConfig(LayerConfig config)
    {
        var raw = config.GetRaw("bin_boundaries");
        double[]? given = raw switch
        {
            null => null,
            JsonArray list when list.All(e => e is JsonValue v && v.TryGetValue<double>(out _)) => list.Select(e => e!.GetValue<double>()).ToArray(),
            _ => throw config.Error($"'bin_boundaries' {raw.ToJsonString()} is not a list of numbers."),
        };
        var numBins = config.GetNullableInt("num_bins");
        var epsilon = config.GetDouble("epsilon", 0.01);
        var mode = config.GetString("output_mode", "int");
        var sparse = config.GetBool("sparse", false);
        if (given is null && numBins is null)
        {
            throw config.Error("either num_bins or bin_boundaries must be set (Keras refuses it too).");
        }

        try
        {
            var layer = new Discretization(numBins is null ? given : null, numBins, epsilon, mode, sparse, config.Name);
            if (given is not null && numBins is not null)
            {
                layer.boundaries = given.Select(b => (float)b).ToArray();
            }

            return layer;
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <summary>
    /// Learns the boundaries from the values of <paramref name="data"/> (any shape, all values pooled), as Keras'
    /// <c>adapt</c> on an array: one summary of about 1/epsilon quantiles, compressed to num_bins buckets.
    /// </summary>
    /// <param name="data">A float, double, int or long array.</param>
    /// <exception cref="InvalidOperationException">The layer was created with bin_boundaries (Keras: "use num_bins instead"), or is in a model whose shapes the new number of buckets would change.</exception>
    /// <exception cref="ArgumentException">Data that is not finite.</exception>
    public void Adapt(Array data)
    {
        ArgumentNullException.ThrowIfNull(data);
        AdaptBatches(new[] { data });
    }

    /// <summary>
    /// Learns the boundaries batch by batch from a <see cref="DataSource"/>'s inputs (the first input of each batch),
    /// as Keras' <c>adapt</c> on a dataset: each batch is summarised and merged into the running summary.
    /// </summary>
    /// <param name="data">The batches; a source of unknown count is read to its end.</param>
    /// <param name="steps">Read at most this many batches (Keras' <c>steps</c>); null for all.</param>
    /// <exception cref="InvalidOperationException">As <see cref="Adapt(Array)"/>.</exception>
    /// <exception cref="ArgumentException">A source with no batches, or values that are not finite.</exception>
    public void Adapt(DataSource data, int? steps = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        AdaptBatches(Normalization.Batches(data, steps, this).Select(TensorToArray));
    }

    private static Array TensorToArray(Tensor batch)
    {
        using var scope = NewDisposeScope();
        return batch.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
    }

    /// <summary>
    /// Learns the boundaries batch by batch, as Keras' <c>adapt</c> on an iterable of batches: each batch (all its
    /// values) is summarised and merged into the running summary, which is compressed to num_bins at the end.
    /// </summary>
    /// <param name="batches">The batches: float, double, int or long arrays of any shape.</param>
    /// <exception cref="InvalidOperationException">As <see cref="Adapt(Array)"/>.</exception>
    /// <exception cref="ArgumentException">No batches, or values that are not finite.</exception>
    public void AdaptBatches(IEnumerable<Array> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        if (NumBins is null)
        {
            throw new InvalidOperationException($"Discretization '{Name}': cannot adapt a layer created with bin_boundaries; use num_bins instead.");
        }

        // Computed aside, then kept: a failure changes nothing.
        var running = new[] { Array.Empty<float>(), Array.Empty<float>() };
        var any = false;
        foreach (var batch in batches)
        {
            var values = Flatten(batch);
            if (values.Any(v => !float.IsFinite(v)))
            {
                throw new ArgumentException($"Discretization '{Name}': the adapt data holds values that are not finite.", nameof(batches));
            }

            running = MergeSummaries(Summarize(values, Epsilon), running, Epsilon);
            any = true;
        }

        if (!any)
        {
            throw new ArgumentException($"Discretization '{Name}': adapt received no batches.", nameof(batches));
        }

        var learned = GetBinBoundaries(running, NumBins.Value);
        if (OutputMode != "int" && InboundNodes.Count > 0 && learned.Length + 1 != Depth)
        {
            throw new InvalidOperationException($"Discretization '{Name}': the adapt data gives {learned.Length + 1} buckets, but the layer is already called in a model whose output has {Depth}; adapt before calling it.");
        }

        boundaries = learned;
    }

    private static float[] Flatten(Array batch)
    {
        var result = new float[batch.Length];
        var i = 0;
        foreach (var value in batch)
        {
            result[i++] = value switch
            {
                float f => f,
                double d => (float)d,
                int n => n,
                long l => l,
                _ => throw new ArgumentException($"Discretization: adapt data of {TensorData.TypeName(batch)} is not supported; pass float, double, int or long values.", nameof(batch)),
            };
        }

        return result;
    }

    /// <summary>Keras' <c>summarize</c>: every step-th sorted value, each weighing step.</summary>
    internal static float[][] Summarize(float[] values, double epsilon)
    {
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        var numBuckets = 1.0 / epsilon;
        var increment = sorted.Length / numBuckets;
        var step = Math.Max(increment, 1);
        var start = (long)(step - 1);
        var stride = (long)step;
        var kept = new List<float>();
        for (var i = start; i < sorted.Length; i += stride)
        {
            kept.Add(sorted[i]);
        }

        return new[] { kept.ToArray(), Enumerable.Repeat((float)step, kept.Count).ToArray() };
    }

    /// <summary>Keras' <c>merge_summaries</c>: both summaries sorted by value together, then compressed.</summary>
    internal static float[][] MergeSummaries(float[][] previous, float[][] next, double epsilon)
    {
        var values = previous[0].Concat(next[0]).ToArray();
        var weights = previous[1].Concat(next[1]).ToArray();
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        return CompressSummary(new[] { order.Select(i => values[i]).ToArray(), order.Select(i => weights[i]).ToArray() }, epsilon);
    }

    /// <summary>Keras' <c>get_bin_boundaries</c>: the summary compressed to num_bins, without its last value.</summary>
    internal static float[] GetBinBoundaries(float[][] summary, int numBins)
    {
        var compressed = CompressSummary(summary, 1.0 / numBins)[0];
        return compressed.Take(Math.Max(compressed.Length - 1, 0)).ToArray();
    }

    /// <summary>
    /// Keras' <c>compress_summary</c>: the values and cumulative weights interpolated (NumPy's <c>interp</c>) at the
    /// percents epsilon, 2 epsilon, ... (NumPy's <c>arange(0, 1, epsilon)</c> plus epsilon); float32 cumulative sums
    /// and float64 interpolation as NumPy computes them.
    /// </summary>
    internal static float[][] CompressSummary(float[][] summary, double epsilon)
    {
        var n = summary[0].Length;
        if (n * epsilon < 1)
        {
            return summary;
        }

        var count = (long)Math.Ceiling((1.0 - 0.0) / epsilon);
        var percents = new double[count];
        for (var i = 0; i < count; i++)
        {
            percents[i] = epsilon + (i * epsilon);
        }

        var cumulative = new float[n];
        var total = 0f;
        for (var i = 0; i < n; i++)
        {
            total += summary[1][i];
            cumulative[i] = total;
        }

        var cumulativePercents = cumulative.Select(c => (double)(c / cumulative[^1])).ToArray();
        var values = summary[0].Select(v => (double)v).ToArray();
        var cumulativeWeights = cumulative.Select(c => (double)c).ToArray();
        var bins = new float[count];
        var newWeights = new float[count];
        var previous = 0.0;
        for (var i = 0; i < count; i++)
        {
            bins[i] = (float)Interp(percents[i], cumulativePercents, values);
            var weight = Interp(percents[i], cumulativePercents, cumulativeWeights);
            newWeights[i] = (float)(weight - previous);
            previous = weight;
        }

        return new[] { bins, newWeights };
    }

    /// <summary>NumPy's <c>interp</c> (numpy/_core/src/multiarray/compiled_base.c) of one point.</summary>
    private static double Interp(double x, double[] xp, double[] fp)
    {
        var last = xp.Length - 1;
        if (x > xp[last])
        {
            return fp[last];
        }

        if (x < xp[0])
        {
            return fp[0];
        }

        // The largest j with xp[j] <= x.
        int lo = 0, hi = last;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (xp[mid] <= x)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        var j = lo;
        if (j == last || xp[j] == x)
        {
            return fp[j];
        }

        var slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        var result = (slope * (x - xp[j])) + fp[j];
        if (double.IsNaN(result))
        {
            result = (slope * (x - xp[j + 1])) + fp[j + 1];
            if (double.IsNaN(result) && fp[j] == fp[j + 1])
            {
                result = fp[j];
            }
        }

        return result;
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">A rank-1 input in multi_hot or count mode.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        new[] { OutputMode == "int" ? (input.Shape, DType.Int32) : (CategoryEncoding.EncodedShape(this, input, OutputMode, Depth), DType.Float32) };

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Not adapted yet (created with num_bins).</exception>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var bins = boundaries ?? throw new InvalidOperationException($"Discretization '{Name}': pass bin_boundaries when creating the layer, or call Adapt before using it.");
        using var scope = NewDisposeScope();
        var x = input.dtype == ScalarType.Float32 ? input : input.to_type(ScalarType.Float32);
        var ids = bucketize(x, tensor(bins, device: x.device), false, true);
        var result = OutputMode == "int" ? ids.to_type(ScalarType.Int32) : CategoryEncoding.Encode(this, ids, OutputMode, bins.Length + 1, null);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>ONNX: the bucket id as the number of boundaries &lt;= x (GreaterOrEqual, Cast, ReduceSum), then int32 or the encoding of <see cref="CategoryEncoding"/>.</summary>
    /// <exception cref="NotSupportedException">Not adapted yet.</exception>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        var bins = boundaries ?? throw OnnxGraph.Unsupported(this, "has no boundaries yet (call Adapt before exporting).");
        var x = graph.Add("Cast", Name, new[] { call.Input.Name }, OnnxGraph.Attr("to", (long)OnnxGraph.Float));
        if (bins.Length == 0)
        {
            throw OnnxGraph.Unsupported(this, "with no boundaries (one bucket) has no ONNX form here.");
        }

        var above = graph.Add("GreaterOrEqual", Name, new[] { graph.Unsqueeze(x, Name, -1), graph.Floats($"{Name}_bins", bins, bins.Length) });
        var ids = graph.Add("ReduceSum", Name, new[] { graph.Add("Cast", Name, new[] { above }, OnnxGraph.Attr("to", (long)OnnxGraph.Int64)), graph.Int64s(-1) }, OnnxGraph.Attr("keepdims", 0L));
        return new[]
        {
            OutputMode == "int" ? graph.Add("Cast", Name, new[] { ids }, OnnxGraph.Attr("to", (long)OnnxGraph.Int32))
                : CategoryEncoding.OnnxEncode(graph, ids, call.Input.Shape, OutputMode, bins.Length + 1, Name),
        };
    }
}
