using System.Globalization;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Maps integers to indices through a vocabulary, as Keras 3.16's <c>keras.layers.IntegerLookup</c>
/// (keras/src/layers/preprocessing/integer_lookup.py over index_lookup.py; see <see cref="IndexLookup"/> for the
/// indices, output modes and the learned order, ties broken by the larger value first). Input: int32 or int64 values
/// of any shape (batch, ...); output: int64 indices of the same shape (<c>int</c>), or float32 (batch, depth)
/// encodings; with <c>invert</c>, indices back to the vocabulary's integers. Defaults: <c>num_oov_indices</c> 1,
/// <c>oov_token</c> -1, no mask token. With several OOV indices an unknown value <c>v</c> goes to OOV index
/// <c>oov_start + floormod(v, num_oov_indices)</c> (Keras' default <c>oov_method</c>), or with <c>oov_method</c>
/// <c>farmhash</c> <c>oov_start + to_hash_bucket_fast(str(v), num_oov_indices)</c> (FarmHash Fingerprint64 of the
/// decimal text, TensorFlow's <c>tf.strings.as_string</c>), or with a <c>salt</c> too <c>to_hash_bucket_strong</c>
/// (SipHash-2-4 keyed by it). No weights.
/// </summary>
/// <remarks>Keras needs TensorFlow for this layer, which is not installable here: its behaviour is taken from
/// Keras' source, with expectations computed by hand in the tests (and Keras' own expected farmhash buckets).
/// <c>vocabulary_dtype</c> other than int64 (as Keras) and <c>sparse=True</c> are refused.</remarks>
[KerasLayer("IntegerLookup", OwnsDType = true)]
public sealed class IntegerLookup : IndexLookup
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maxTokens">Largest vocabulary, special indices included; null (default) for no limit.</param>
    /// <param name="numOovIndices">Out-of-vocabulary indices (default 1; 0 refuses unknown values when called).</param>
    /// <param name="maskToken">The value at index 0 in <c>int</c> mode; null (default) for none.</param>
    /// <param name="oovToken">What <c>invert</c> returns for an OOV index (default -1).</param>
    /// <param name="vocabulary">The vocabulary, optionally starting with the mask and OOV tokens; null to learn it with <see cref="IndexLookup.Adapt(Array)"/>.</param>
    /// <param name="vocabularyDtype">Only <c>int64</c>, as Keras.</param>
    /// <param name="idfWeights">With <c>tf_idf</c> and a vocabulary: one weight per vocabulary entry.</param>
    /// <param name="invert">Map indices back to values (only with <c>int</c> output).</param>
    /// <param name="outputMode"><c>int</c> (default), <c>one_hot</c>, <c>multi_hot</c>, <c>count</c> or <c>tf_idf</c>.</param>
    /// <param name="sparse">Only false.</param>
    /// <param name="padToMaxTokens">Make non-int outputs <paramref name="maxTokens"/> wide.</param>
    /// <param name="oovMethod">How several OOV indices are chosen: <c>floormod</c> (default, <c>value mod num_oov_indices</c>) or <c>farmhash</c> (the hash of the value's decimal text).</param>
    /// <param name="salt">Keras' <c>salt</c>, only with <c>oov_method</c> <c>farmhash</c>: two integers, the SipHash key
    /// (Keras' single integer <c>s</c> is <c>new[] { s, s }</c>; negative values are read as their unsigned 64-bit
    /// pattern, as TensorFlow does); default null (FarmHash, no key).</param>
    /// <param name="name">Layer name; defaults to <c>integer_lookup_N</c>.</param>
    /// <exception cref="ArgumentException">An argument Keras refuses (an unknown oov_method, a salt without farmhash or of another length than 2), or a bad vocabulary.</exception>
    /// <exception cref="NotSupportedException">sparse.</exception>
    public IntegerLookup(int? maxTokens = null, int numOovIndices = 1, long? maskToken = null, long oovToken = -1, IReadOnlyList<long>? vocabulary = null,
        string vocabularyDtype = "int64", IReadOnlyList<double>? idfWeights = null, bool invert = false, string outputMode = "int", bool sparse = false,
        bool padToMaxTokens = false, string oovMethod = "floormod", IReadOnlyList<long>? salt = null, string? name = null)
        : this(maxTokens, numOovIndices, maskToken, oovToken, vocabulary, vocabularyDtype, idfWeights, invert, outputMode, sparse, padToMaxTokens, oovMethod, salt, null, null, name)
    {
    }

    private IntegerLookup(int? maxTokens, int numOovIndices, long? maskToken, long? oovToken, IReadOnlyList<long>? vocabulary, string vocabularyDtype,
        IReadOnlyList<double>? idfWeights, bool invert, string outputMode, bool sparse, bool padToMaxTokens, string oovMethod, IReadOnlyList<long>? salt,
        bool? hasInputVocabulary, int? vocabularySize, string? name)
        : base("IntegerLookup", maxTokens, numOovIndices, maskToken is long m ? IntText(m) : null, oovToken is long o ? IntText(o) : null, invert, outputMode,
            padToMaxTokens, sparse, hasInputVocabulary ?? vocabulary is not null, vocabularySize, oovMethod, salt, integerKeys: true,
            CheckedName(vocabularyDtype, outputMode, idfWeights, vocabulary, name))
    {
        if (vocabulary is not null)
        {
            SetVocabularyCore(vocabulary.Select(IntText).ToArray(), idfWeights, recordInput: true);
        }
    }

    private protected override string KerasName => "IntegerLookup";

    private static string? CheckedName(string vocabularyDtype, string outputMode, IReadOnlyList<double>? idfWeights, IReadOnlyList<long>? vocabulary, string? name)
    {
        if (vocabularyDtype != "int64")
        {
            throw new ArgumentException($"IntegerLookup: only vocabulary_dtype='int64' is supported at this time (as Keras); got '{vocabularyDtype}'.", nameof(vocabularyDtype));
        }

        var mode = NormalizeOutputMode("IntegerLookup", outputMode, allowOneHot: true);
        if (idfWeights is not null && mode != "tf_idf")
        {
            throw new ArgumentException($"IntegerLookup: idf_weights should only be set if output_mode is 'tf_idf'; got output_mode '{outputMode}'.", nameof(idfWeights));
        }

        if (mode == "tf_idf" && vocabulary is not null && idfWeights is null)
        {
            throw new ArgumentException("IntegerLookup: when a vocabulary is given in tf_idf output mode, idf_weights must also be given.", nameof(idfWeights));
        }

        return name;
    }

    /// <summary>Keras' <c>set_vocabulary(vocabulary, idf_weights)</c>.</summary>
    /// <param name="vocabulary">The values, optionally starting with the mask and OOV tokens.</param>
    /// <param name="idfWeights">With <c>tf_idf</c>: one weight per value.</param>
    public void SetVocabulary(IReadOnlyList<long> vocabulary, IReadOnlyList<double>? idfWeights = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        SetVocabularyCore(vocabulary.Select(IntText).ToArray(), idfWeights, recordInput: false);
    }

    /// <summary>Keras' <c>get_vocabulary(include_special_tokens)</c>.</summary>
    /// <param name="includeSpecialTokens">Include the mask and OOV tokens (default true).</param>
    public IReadOnlyList<long> GetVocabulary(bool includeSpecialTokens = true) =>
        GetVocabularyText(includeSpecialTokens).Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        WriteLookupConfig(config, "int64");
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config (tf.keras 2 has no <c>oov_method</c>/<c>salt</c>: their defaults).</summary>
    internal static IntegerLookup FromConfig(LayerConfig config)
    {
        ReadCommon(config);
        long[]? vocabulary = config.GetRaw("vocabulary") switch
        {
            null => null,
            JsonArray values => values.Select(v => v is JsonValue x && x.TryGetValue<long>(out var n) ? n : throw config.Error($"the vocabulary holds {v?.ToJsonString() ?? "null"}; expected integers.")).ToArray(),
            var other => throw config.Error($"the vocabulary is {other.ToJsonString()}; expected a list of integers (a file path is read from outside the model file, refused)."),
        };
        long? Token(string key, long? fallback) => config.Has(key) ? config.GetRaw(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<long>(out var n) => n,
            var other => throw config.Error($"'{key}' is {other.ToJsonString()}; expected an integer or null."),
        } : fallback;
        try
        {
            return new IntegerLookup(config.GetNullableInt("max_tokens"), config.GetInt("num_oov_indices", 1), Token("mask_token", null), Token("oov_token", -1), vocabulary,
                config.GetString("vocabulary_dtype", "int64"), StringLookup.ReadIdf(config), config.GetBool("invert", false), config.GetString("output_mode", "int"), false,
                config.GetBool("pad_to_max_tokens", false), ReadOovMethod(config), ReadSalt(config),
                config.Has("has_input_vocabulary") ? config.GetBool("has_input_vocabulary", false) : null, config.GetNullableInt("vocabulary_size"), config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">Not integers; for multi_hot, count and tf_idf, not rank 2.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (!input.DType.IsInteger())
        {
            throw InputError($"takes integer values (int32 or int64), but got {input.Label} with dtype {input.DType.ToKerasName()} and shape {input.Shape}.");
        }

        return new[] { (LookupOutputShape(input), OutputMode == "int" ? DType.Int64 : DType.Float32) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (Invert)
        {
            using var ids = input.to_type(ScalarType.Int64).cpu().contiguous();
            return TokensToTensor(LookupTokens(ids.data<long>().ToArray()), input.shape);
        }

        return Encode(LookupIndices(ReadTokens(input)), input.shape);
    }

    private protected override string[] ReadTokens(Tensor input)
    {
        using var values = input.to_type(ScalarType.Int64).cpu().contiguous();
        return values.data<long>().ToArray().Select(IntText).ToArray();
    }

    private protected override Tensor TokensToTensor(string[] values, long[] dims) =>
        tensor(values.Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray(), dims);

    private protected override int CompareTokens(string a, string b) =>
        long.Parse(a, CultureInfo.InvariantCulture).CompareTo(long.Parse(b, CultureInfo.InvariantCulture));

    private protected override JsonNode? TokenToJson(string? token) => token is null ? null : JsonValue.Create(long.Parse(token, CultureInfo.InvariantCulture));
}
