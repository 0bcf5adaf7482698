using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Preprocessing;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Hashes categorical values (integers or strings) into <c>num_bins</c> bins, as Keras 3.16's
/// <c>keras.layers.Hashing</c> (keras/src/layers/preprocessing/hashing.py). Each value is turned into its decimal
/// string (integers as TensorFlow's <c>as_string</c>; floats are first cut to int64 toward zero, as Keras 3 does;
/// strings as their UTF-8 bytes) and hashed as TensorFlow's <c>tf.strings.to_hash_bucket_fast</c> (FarmHash
/// <c>Fingerprint64</c>, see <see cref="FarmHash"/>) or, with a <c>salt</c>, <c>to_hash_bucket_strong</c>
/// (SipHash-2-4 keyed by the two salt values, see <see cref="SipHash"/>): the bin is the hash modulo the number of bins.
/// With a <c>mask_value</c> (and <c>num_bins</c> above 1), bin 0 is kept for the values equal to it and the others
/// hash into bins 1 to <c>num_bins - 1</c>. No weights.
/// </summary>
/// <remarks>
/// <para>Output modes and shapes (batch axis first):</para>
/// <list type="bullet">
/// <item><c>int</c>: the bins, the input's shape, int64 (or the layer's <c>dtype</c>, int32 or int64).</item>
/// <item><c>one_hot</c>: (batch,) or (batch, 1) to (batch, num_bins), 1 at each value's bin.</item>
/// <item><c>multi_hot</c>, <c>count</c>: (batch, n) to (batch, num_bins), 1 for each bin present in the sample, or
/// how many of its values fell in each bin.</item>
/// </list>
/// <para>
/// Those encodings default to float32 (the layer's <c>dtype</c> may be int32 or int64). The other shapes Keras takes in
/// these modes are refused: there Keras' own output shape and the result of its call disagree (one_hot on (batch, n)
/// with n above 1, multi_hot and count on rank 3 and more, which Keras reduces along axis 1) or Keras drops the batch
/// axis (multi_hot and count on (batch,) count the whole batch as one sample). Keras' <c>sparse=True</c> (TensorFlow's
/// SparseTensor outputs) is refused: the library has no sparse tensors.
/// </para>
/// <para>
/// Strings: <see cref="Invoke(string[])"/>, <see cref="Invoke(string[,])"/> and <see cref="HashToBins(IReadOnlyList{string})"/>
/// hash strings eagerly (as does <see cref="Layer.Invoke(Array, bool)"/> on a string array, returning <c>long[...]</c>
/// in <c>int</c> mode). Inside a model the layer takes integer or float tensors, and strings from an
/// <c>Input(dtype: DType.String)</c> (or a StringLookup with <c>invert</c>): <c>Predict</c> takes <c>string[]</c> then.
/// </para>
/// <para>
/// tf.keras 2 files: the same hashes and config keys; its compat rule is followed (an <c>int</c> layer whose dtype is
/// not an integer type is read as int64 rather than refused). Keras 3.16 and tf.keras 2 compute the same bins.
/// </para>
/// <para>ONNX: refused (ONNX has no FarmHash or SipHash operator).</para>
/// </remarks>
[KerasLayer("Hashing", OwnsDType = true)]
public sealed class Hashing : Layer
{
    private static readonly string[] OutputModes = { "int", "one_hot", "multi_hot", "count" };

    /// <summary>Creates the layer.</summary>
    /// <param name="numBins">Number of bins, including the mask's bin 0 when <paramref name="maskValue"/> is set; positive.</param>
    /// <param name="maskValue">Values equal to it go to bin 0 (a string, for string inputs, or an integer); default null (no mask).</param>
    /// <param name="salt">Two integers, the SipHash key (Keras' <c>salt</c>; Keras' single integer <c>s</c> is
    /// <c>new[] { s, s }</c>); default null (FarmHash, no key). Negative values are read as their unsigned 64-bit
    /// pattern, as TensorFlow does.</param>
    /// <param name="outputMode"><c>int</c> (default), <c>one_hot</c>, <c>multi_hot</c> or <c>count</c>.</param>
    /// <param name="sparse">Keras' <c>sparse</c>; only false (the library has no sparse tensors).</param>
    /// <param name="dtype">The output dtype: default int64 for <c>int</c>, float32 otherwise; <c>int</c> needs an integer type.</param>
    /// <param name="name">Layer name; defaults to <c>hashing_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numBins"/> below 1.</exception>
    /// <exception cref="ArgumentException">A mask value that is neither a string nor an integer, a salt of another
    /// length than 2, an unknown output mode, a float dtype in <c>int</c> mode, or <paramref name="sparse"/> with
    /// <c>int</c> (as Keras refuses each).</exception>
    /// <exception cref="NotSupportedException"><paramref name="sparse"/> true in another mode.</exception>
    public Hashing(int numBins, object? maskValue = null, long[]? salt = null, string outputMode = "int", bool sparse = false, DType? dtype = null, string? name = null)
        : base(name)
    {
        var outputDType = dtype ?? (outputMode == "int" ? DType.Int64 : DType.Float32);
        if (numBins <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numBins), numBins, $"Hashing: The `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: num_bins={numBins}.");
        }

        if (outputMode == "int" && !outputDType.IsInteger())
        {
            throw new ArgumentException($"Hashing: When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'int64'. Received: dtype={outputDType.ToKerasName()}.", nameof(dtype));
        }

        if (!OutputModes.Contains(outputMode))
        {
            throw new ArgumentException($"Hashing: Invalid value for argument `output_mode`. Expected one of ('int', 'one_hot', 'multi_hot', 'count'). Received: output_mode={outputMode}.", nameof(outputMode));
        }

        if (sparse && outputMode == "int")
        {
            throw new ArgumentException($"Hashing: `sparse` may only be true if `output_mode` is \"one_hot\", \"multi_hot\", or \"count\". Received: sparse=True and output_mode={outputMode}.", nameof(sparse));
        }

        if (sparse)
        {
            throw new NotSupportedException("Hashing: sparse=True (TensorFlow SparseTensor outputs) is not supported; this library has no sparse tensors. Use sparse=False: the same values, dense.");
        }

        if (salt is not null && salt.Length != 2)
        {
            throw new ArgumentException($"Hashing: The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a single integer (here new[] {{ s, s }}). Received: salt=[{string.Join(", ", salt)}].", nameof(salt));
        }

        MaskValue = maskValue switch
        {
            null => null,
            string text => text,
            int or long or short or sbyte or byte or ushort or uint => Convert.ToInt64(maskValue, CultureInfo.InvariantCulture),
            _ => throw new ArgumentException($"Hashing: mask_value must be a string or an integer, but got a {maskValue.GetType().Name} ({maskValue}).", nameof(maskValue)),
        };
        NumBins = numBins;
        Salt = salt is null ? null : Array.AsReadOnly((long[])salt.Clone());
        OutputMode = outputMode;
        OutputDType = outputDType;
    }

    /// <summary>Keras' <c>num_bins</c>: the number of bins, the mask's bin 0 included.</summary>
    public int NumBins { get; }

    /// <summary>Keras' <c>mask_value</c>: null, a string, or an integer (a <see cref="long"/>).</summary>
    public object? MaskValue { get; }

    /// <summary>Keras' <c>salt</c>: null (FarmHash) or the two SipHash key words.</summary>
    public IReadOnlyList<long>? Salt { get; }

    /// <summary>Keras' <c>output_mode</c>: <c>int</c>, <c>one_hot</c>, <c>multi_hot</c> or <c>count</c>.</summary>
    public string OutputMode { get; }

    /// <summary>The output dtype (Keras' layer <c>dtype</c>).</summary>
    public DType OutputDType { get; }

    internal override bool BuiltAtInit => true;

    /// <summary>
    /// TensorFlow's <c>tf.strings.to_hash_bucket_fast</c> of one string: FarmHash <c>Fingerprint64</c> of its UTF-8
    /// bytes modulo <paramref name="numBuckets"/>.
    /// </summary>
    /// <param name="value">The string.</param>
    /// <param name="numBuckets">The number of buckets; positive.</param>
    /// <returns>The bucket, in [0, numBuckets).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numBuckets"/> below 1.</exception>
    public static long ToHashBucketFast(string value, long numBuckets)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThan(numBuckets, 1L);
        return (long)(FarmHash.Fingerprint64(Encoding.UTF8.GetBytes(value)) % (ulong)numBuckets);
    }

    /// <summary>
    /// TensorFlow's <c>tf.strings.to_hash_bucket_strong</c> of one string with <c>key=[k0, k1]</c>: SipHash-2-4 of
    /// its UTF-8 bytes under that key, modulo <paramref name="numBuckets"/>.
    /// </summary>
    /// <param name="value">The string.</param>
    /// <param name="numBuckets">The number of buckets; positive.</param>
    /// <param name="k0">The key's first word (read as unsigned 64 bits).</param>
    /// <param name="k1">The key's second word.</param>
    /// <returns>The bucket, in [0, numBuckets).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numBuckets"/> below 1.</exception>
    public static long ToHashBucketStrong(string value, long numBuckets, long k0, long k1)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThan(numBuckets, 1L);
        return (long)(SipHash.Hash24(unchecked((ulong)k0), unchecked((ulong)k1), Encoding.UTF8.GetBytes(value)) % (ulong)numBuckets);
    }

    /// <summary>The bins of strings (the <c>int</c> output, Keras' <c>_hash_values_to_bins</c>), in order.</summary>
    /// <param name="values">The strings.</param>
    /// <returns>One bin per string.</returns>
    /// <exception cref="ArgumentException">A null string, or an integer <see cref="MaskValue"/> (Keras cannot compare strings with it).</exception>
    public long[] HashToBins(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (MaskValue is long)
        {
            throw new ArgumentException($"Hashing '{Name}': mask_value={MaskValue} is an integer, which cannot be compared with string inputs (Keras fails too); give a string mask_value for strings.", nameof(values));
        }

        var bins = new long[values.Count];
        for (var i = 0; i < bins.Length; i++)
        {
            var value = values[i] ?? throw new ArgumentException($"Hashing '{Name}': string {i} is null.", nameof(values));
            bins[i] = Bin(value, MaskValue is string mask && value == mask);
        }

        return bins;
    }

    /// <summary>The bins of integers (the <c>int</c> output): each hashed as its decimal string, as Keras does.</summary>
    /// <param name="values">The integers.</param>
    /// <returns>One bin per integer.</returns>
    /// <exception cref="ArgumentException">A string <see cref="MaskValue"/> (Keras cannot compare integers with it).</exception>
    public long[] HashToBins(IReadOnlyList<long> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (MaskValue is string)
        {
            throw new ArgumentException($"Hashing '{Name}': mask_value='{MaskValue}' is a string, which cannot be compared with integer inputs (Keras fails too); give an integer mask_value.", nameof(values));
        }

        var bins = new long[values.Count];
        for (var i = 0; i < bins.Length; i++)
        {
            bins[i] = Bin(values[i].ToString(CultureInfo.InvariantCulture), MaskValue is long mask && values[i] == mask);
        }

        return bins;
    }

    /// <summary>Calls the layer on a batch of strings, (batch,): the output of <see cref="OutputMode"/>.</summary>
    /// <param name="values">One string per sample.</param>
    /// <returns>A new tensor the caller owns: (batch,) bins in <c>int</c> mode, (batch, num_bins) in <c>one_hot</c>.</returns>
    /// <exception cref="LayerInputException">A mode that needs (batch, n) strings (multi_hot, count).</exception>
    /// <exception cref="ArgumentException">A null string, or an integer mask value.</exception>
    public Tensor Invoke(string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return CallOnStrings(values, new long[] { values.Length });
    }

    /// <summary>Calls the layer on a batch of string samples, (batch, n): the output of <see cref="OutputMode"/>.</summary>
    /// <param name="values">The strings, one row per sample.</param>
    /// <returns>A new tensor the caller owns: (batch, n) bins in <c>int</c> mode, (batch, num_bins) in the other modes (one_hot needs n = 1).</returns>
    /// <exception cref="LayerInputException">one_hot on rows of more than one string.</exception>
    /// <exception cref="ArgumentException">A null string, or an integer mask value.</exception>
    public Tensor Invoke(string[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return CallOnStrings(values.Cast<string>().ToArray(), new long[] { values.GetLength(0), values.GetLength(1) });
    }

    /// <summary>
    /// The layer's output for strings given flat, row-major, with their shape (batch first): the string path of
    /// <see cref="Call(Tensor, bool, Tensor)"/>, with the same checks and encoding. A model with string inputs calls it.
    /// </summary>
    internal Tensor CallOnStrings(IReadOnlyList<string> flat, long[] shape)
    {
        ThrowIfDisposed();
        if (shape.Length == 0 || shape.Aggregate(1L, (a, d) => a * d) != flat.Count)
        {
            throw new ArgumentException($"Hashing '{Name}': {flat.Count} strings do not fill the shape ({string.Join(", ", shape)}).", nameof(shape));
        }

        var label = $"strings of shape ({string.Join(", ", shape)})";
        OutputSpec(shape.Skip(1).Select(d => (int?)checked((int)d)).ToArray(), strings: true, label);
        CheckConcrete(shape, label);
        return Encode(HashToBins(flat), shape, CPU);
    }

    /// <summary>
    /// The output's shape and dtype for an input of these sample dims (batch axis excluded), holding strings or numbers:
    /// the checks of every call.
    /// </summary>
    internal (Shape Shape, DType DType) OutputSpec(IReadOnlyList<int?> sampleDims, bool strings, string label)
    {
        if (!strings && MaskValue is string)
        {
            throw InputError($"mask_value='{MaskValue}' is a string, but {label} holds numbers (Keras cannot compare them either); give an integer mask_value.");
        }

        if (strings && MaskValue is long)
        {
            throw InputError($"mask_value={MaskValue} is an integer, but {label} holds strings (Keras cannot compare them either); give a string mask_value.");
        }

        var rank = sampleDims.Count + 1;
        switch (OutputMode)
        {
            case "int":
                return (Shape.WithBatch(sampleDims), OutputDType);
            case "one_hot":
                if (rank > 2 || (rank == 2 && sampleDims[0] is int n && n != 1))
                {
                    throw InputError($"output_mode 'one_hot' takes (batch,) or (batch, 1), but got {label} with shape {Shape.WithBatch(sampleDims)}; Keras' one_hot of (batch, n) with n above 1 gives a (batch, n, num_bins) result its own output shape (batch, num_bins) does not match. Use multi_hot or count for several values per sample.");
                }

                return (new Shape(null, NumBins), OutputDType);
            default:
                if (rank != 2)
                {
                    var why = rank == 1
                        ? "Keras counts a (batch,) input as one sample and drops the batch axis; give (batch, 1)"
                        : "Keras reduces rank-3 and larger inputs along axis 1, not the last, so its output shape and its call disagree";
                    throw InputError($"output_mode '{OutputMode}' takes (batch, n), but got {label} with shape {Shape.WithBatch(sampleDims)}: {why}.");
                }

                return (new Shape(null, NumBins), OutputDType);
        }
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config.</summary>
    internal static Hashing FromConfig(LayerConfig config)
    {
        var outputMode = config.GetString("output_mode", "int");
        var dtypeName = LayerConfig.DTypeName(config.GetRaw("dtype"));
        DType? dtype = dtypeName switch
        {
            null => null,
            "int32" => DType.Int32,
            "int64" => DType.Int64,
            "float32" => DType.Float32,
            _ => throw new NotSupportedException($"{config.Describe()}: dtype '{dtypeName}' is not supported; this layer's outputs are int32, int64 or float32."),
        };
        if (config.Keras2 && outputMode == "int" && dtype is DType.Float32)
        {
            // tf.keras 2: "Compat for when dtype was always floating and ignored by the layer."
            dtype = DType.Int64;
        }

        var numBins = config.GetNullableInt("num_bins") ?? throw config.Error("the `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: num_bins=None.");
        return new Hashing(numBins, ReadMaskValue(config), ReadSalt(config), outputMode, config.GetBool("sparse", false), dtype, config.Name);
    }

    private static object? ReadMaskValue(LayerConfig config) => config.GetRaw("mask_value") switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var text) => text,
        JsonValue v when TryGetInteger(v, out var number) => number,
        var other => throw config.Error($"mask_value {other.ToJsonString()} is not supported; only a string or an integer."),
    };

    private static long[]? ReadSalt(LayerConfig config) => config.GetRaw("salt") switch
    {
        null => null,
        JsonValue v when TryGetInteger(v, out var s) => new[] { s, s },
        JsonArray { Count: 2 } pair when pair.All(p => p is JsonValue v && TryGetInteger(v, out _)) =>
            pair.Select(p => TryGetInteger((JsonValue)p!, out var s) ? s : 0).ToArray(),
        var other => throw config.Error($"the `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a single integer. Received: salt={other.ToJsonString()}."),
    };

    private static bool TryGetInteger(JsonValue value, out long number)
    {
        number = 0;
        return value.GetValueKind() == System.Text.Json.JsonValueKind.Number
            && long.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["dtype"] = new JsonObject
        {
            ["module"] = "keras",
            ["class_name"] = "DTypePolicy",
            ["config"] = new JsonObject { ["name"] = OutputDType.ToKerasName() },
            ["registered_name"] = null,
        };
        config["num_bins"] = NumBins;
        config["salt"] = Salt is null ? null : new JsonArray(Salt.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        config["mask_value"] = MaskValue switch
        {
            null => null,
            string text => JsonValue.Create(text),
            var number => JsonValue.Create((long)number),
        };
        config["output_mode"] = OutputMode;
        config["sparse"] = false;
        return config;
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">A string mask value for numeric inputs, or a shape the output mode does not take (see the class remarks).</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        new[] { OutputSpec(input.Shape.SampleDims, strings: input.DType == DType.String, input.Label) };

    /// <summary>Strings (an <c>Input(dtype: DType.String)</c>, or <c>Invoke</c> on a string array) as well as numbers.</summary>
    internal override bool TakesStrings => true;

    /// <inheritdoc/>
    internal override (IReadOnlyList<Tensor> Outputs, Tensor?[]? Masks) Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, bool training, IReadOnlyList<DType> inputDTypes)
    {
        if (inputDTypes[0] != DType.String)
        {
            return Forward(inputs, masks, training);
        }

        var outputs = new[] { CallOnStrings(StringTensors.Read(inputs[0]), inputs[0].shape) };
        Regularizers.RegularizationLosses.RecordActivity(this, outputs);
        return (outputs, OutputMaskValues(inputs, masks));
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var shape = input.shape;
        var label = $"a tensor of shape ({string.Join(", ", shape)})";
        CheckConcrete(shape, label);
        long[] bins;
        using (var scope = NewDisposeScope())
        {
            if (is_floating_point(input))
            {
                var values = input.to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
                bins = new long[values.Length];
                var floatMask = MaskValue is long m ? (double?)m : null;
                for (var i = 0; i < values.Length; i++)
                {
                    // tf.cast to int64: toward zero; values without an int64 (NaN, infinities, beyond +-2^63) are refused.
                    var value = values[i];
                    if (!double.IsFinite(value) || value >= 9.2233720368547758e18 || value < -9.2233720368547758e18)
                    {
                        throw InputError($"cannot hash the value {value.ToString(CultureInfo.InvariantCulture)} in {label}: Keras casts floats to int64 first, and it has no int64 value.");
                    }

                    bins[i] = Bin(((long)Math.Truncate(value)).ToString(CultureInfo.InvariantCulture), floatMask == value);
                }
            }
            else
            {
                bins = HashToBins(input.to_type(ScalarType.Int64).cpu().contiguous().data<long>().ToArray());
            }
        }

        return Encode(bins, shape, input.device);
    }

    /// <summary>Refuses, at run time, a one_hot input whose last axis turned out longer than 1.</summary>
    private void CheckConcrete(long[] shape, string label)
    {
        if (OutputMode == "one_hot" && shape.Length == 2 && shape[1] != 1)
        {
            throw InputError($"output_mode 'one_hot' takes (batch,) or (batch, 1), but got {label}; use multi_hot or count for several values per sample.");
        }
    }

    /// <summary>One value's bin: 0 for the mask, else its hash modulo the bins left (Keras' <c>_hash_values_to_bins</c>).</summary>
    private long Bin(string value, bool masked)
    {
        var hashBins = NumBins;
        var useMask = MaskValue is not null && hashBins > 1;
        if (useMask)
        {
            if (masked)
            {
                return 0;
            }

            hashBins -= 1;
        }

        var bin = Salt is null ? ToHashBucketFast(value, hashBins) : ToHashBucketStrong(value, hashBins, Salt[0], Salt[1]);
        return useMask ? bin + 1 : bin;
    }

    /// <summary>The output of <see cref="OutputMode"/> for these bins of an input of this shape (Keras' <c>encode_categorical_inputs</c>).</summary>
    private Tensor Encode(long[] bins, long[] shape, Device device)
    {
        if (OutputMode == "int")
        {
            var ids = OutputDType == DType.Int32 ? tensor(bins.Select(b => (int)b).ToArray(), shape) : tensor(bins, shape);
            return ids.to(device);
        }

        var batch = shape[0];
        var perSample = batch == 0 ? 0 : bins.Length / (int)batch;
        var encoded = new float[checked(batch * NumBins)];
        for (var s = 0; s < batch; s++)
        {
            for (var j = 0; j < perSample; j++)
            {
                var at = (s * NumBins) + (int)bins[(s * perSample) + j];
                encoded[at] = OutputMode == "count" ? encoded[at] + 1 : 1;
            }
        }

        var outputShape = new[] { batch, NumBins };
        using var scope = NewDisposeScope();
        var result = OutputDType switch
        {
            DType.Int32 => tensor(encoded.Select(v => (int)v).ToArray(), outputShape),
            DType.Int64 => tensor(encoded.Select(v => (long)v).ToArray(), outputShape),
            _ => tensor(encoded, outputShape),
        };
        return result.to(device).MoveToOuterDisposeScope();
    }

    /// <summary>Refused: ONNX has no FarmHash or SipHash operator.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        throw OnnxGraph.Unsupported(this, "has no ONNX form: ONNX has no FarmHash Fingerprint64 or SipHash-2-4 operator to hash with as TensorFlow does. Split the model: hash with the layer in C# (Hashing.Invoke or HashToBins) and export the layers after it, fed with its output.");
}
