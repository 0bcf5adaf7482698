using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Maps strings to indices through a vocabulary, as Keras 3.16's <c>keras.layers.StringLookup</c>
/// (keras/src/layers/preprocessing/string_lookup.py over index_lookup.py; see <see cref="IndexLookup"/> for the
/// indices, output modes and the learned order). Input: strings (<see cref="DType.String"/>) of any shape
/// (batch, ...); output: int64 indices of the same shape (<c>int</c>), or float32 (batch, depth) encodings; with
/// <c>invert</c>, int indices in and strings out. Defaults: <c>num_oov_indices</c> 1, <c>oov_token</c> <c>[UNK]</c>,
/// no mask token. No weights; the vocabulary is saved in the config when given, in <c>.keras</c> assets when
/// learned.
/// </summary>
/// <remarks>Keras needs TensorFlow for this layer, which is not installable here: its behaviour is taken from
/// Keras' source, with expectations computed by hand in the tests (the OOV buckets with
/// <see cref="Hashing.ToHashBucketFast"/>, checked against TensorFlow's values, and Keras' docstring example). With
/// several OOV indices an unknown string goes to OOV index <c>oov_start + to_hash_bucket_fast(s,
/// num_oov_indices)</c> (FarmHash Fingerprint64), or with a <c>salt</c> <c>to_hash_bucket_strong</c> (SipHash-2-4)
/// keyed by it. A config's <c>oov_method</c> (Keras' StringLookup passes it to IndexLookup through its keyword
/// arguments) must be <c>floormod</c> or <c>farmhash</c> and is written back; strings are hashed either way.
/// <c>sparse=True</c> and an encoding other than UTF-8 are refused.</remarks>
[KerasLayer("StringLookup", OwnsDType = true)]
public sealed class StringLookup : IndexLookup
{
    /// <summary>Creates the layer.</summary>
    /// <param name="maxTokens">Largest vocabulary, special indices included; null (default) for no limit.</param>
    /// <param name="numOovIndices">Out-of-vocabulary indices (default 1; 0 refuses unknown strings when called; above 1, unknown strings are hashed into them).</param>
    /// <param name="maskToken">The token at index 0 in <c>int</c> mode (dropped in other modes); null (default) for none.</param>
    /// <param name="oovToken">What <c>invert</c> returns for an OOV index (default <c>[UNK]</c>).</param>
    /// <param name="vocabulary">The vocabulary, optionally starting with the mask and OOV tokens; null to learn it with <see cref="IndexLookup.Adapt(Array)"/>.</param>
    /// <param name="idfWeights">With <c>tf_idf</c> and a vocabulary: one weight per vocabulary entry.</param>
    /// <param name="invert">Map indices back to strings (only with <c>int</c> output).</param>
    /// <param name="outputMode"><c>int</c> (default), <c>one_hot</c>, <c>multi_hot</c>, <c>count</c> or <c>tf_idf</c>.</param>
    /// <param name="padToMaxTokens">Make non-int outputs <paramref name="maxTokens"/> wide.</param>
    /// <param name="sparse">Only false (Keras' sparse outputs need TensorFlow).</param>
    /// <param name="encoding">Only <c>utf-8</c>.</param>
    /// <param name="salt">Keras' <c>salt</c>: two integers, the SipHash key hashing unknown strings when
    /// <paramref name="numOovIndices"/> is above 1 (Keras' single integer <c>s</c> is <c>new[] { s, s }</c>; negative
    /// values are read as their unsigned 64-bit pattern, as TensorFlow does); default null (FarmHash, no key).</param>
    /// <param name="name">Layer name; defaults to <c>string_lookup_N</c>.</param>
    /// <exception cref="ArgumentException">An argument Keras refuses (see Keras' messages; a salt of another length than 2), or a bad vocabulary.</exception>
    /// <exception cref="NotSupportedException">sparse, another encoding.</exception>
    public StringLookup(int? maxTokens = null, int numOovIndices = 1, string? maskToken = null, string oovToken = "[UNK]",
        IReadOnlyList<string>? vocabulary = null, IReadOnlyList<double>? idfWeights = null, bool invert = false, string outputMode = "int",
        bool padToMaxTokens = false, bool sparse = false, string encoding = "utf-8", IReadOnlyList<long>? salt = null, string? name = null)
        : this(maxTokens, numOovIndices, maskToken, oovToken, vocabulary, idfWeights, invert, outputMode, padToMaxTokens, sparse, encoding, null, null, name, "floormod", salt)
    {
    }

    internal StringLookup(int? maxTokens, int numOovIndices, string? maskToken, string? oovToken, IReadOnlyList<string>? vocabulary, IReadOnlyList<double>? idfWeights,
        bool invert, string outputMode, bool padToMaxTokens, bool sparse, string encoding, bool? hasInputVocabulary, int? vocabularySize, string? name,
        string oovMethod = "floormod", IReadOnlyList<long>? salt = null)
        : base("StringLookup", maxTokens, numOovIndices, maskToken, oovToken, invert, outputMode, padToMaxTokens, sparse,
            hasInputVocabulary ?? vocabulary is not null, vocabularySize, oovMethod, salt, integerKeys: false, CheckedName(encoding, outputMode, idfWeights, vocabulary, name))
    {
        Encoding = encoding;
        if (vocabulary is not null)
        {
            SetVocabularyCore(vocabulary, idfWeights, recordInput: true);
        }
    }

    /// <summary>Keras' <c>encoding</c>: <c>utf-8</c>.</summary>
    public string Encoding { get; }

    private protected override string KerasName => "StringLookup";

    internal override bool StringOutput => Invert;

    private static string? CheckedName(string encoding, string outputMode, IReadOnlyList<double>? idfWeights, IReadOnlyList<string>? vocabulary, string? name)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        if (encoding.Replace("-", string.Empty, StringComparison.Ordinal).ToLowerInvariant() != "utf8")
        {
            throw new NotSupportedException($"StringLookup: encoding '{encoding}' is not supported; .NET strings are text, and only 'utf-8' is read.");
        }

        var mode = NormalizeOutputMode("StringLookup", outputMode, allowOneHot: true);
        if (idfWeights is not null && mode != "tf_idf")
        {
            throw new ArgumentException($"StringLookup: idf_weights should only be set if output_mode is 'tf_idf'; got output_mode '{outputMode}'.", nameof(idfWeights));
        }

        if (mode == "tf_idf" && vocabulary is not null && idfWeights is null)
        {
            throw new ArgumentException("StringLookup: when a vocabulary is given in tf_idf output mode, idf_weights must also be given.", nameof(idfWeights));
        }

        return name;
    }

    /// <summary>Keras' <c>set_vocabulary(vocabulary, idf_weights)</c>: replaces the vocabulary (see <see cref="IndexLookup"/>).</summary>
    /// <param name="vocabulary">The terms, optionally starting with the mask and OOV tokens.</param>
    /// <param name="idfWeights">With <c>tf_idf</c>: one weight per term.</param>
    public void SetVocabulary(IReadOnlyList<string> vocabulary, IReadOnlyList<double>? idfWeights = null) => SetVocabularyCore(vocabulary, idfWeights, recordInput: false);

    /// <summary>Keras' <c>get_vocabulary(include_special_tokens)</c>.</summary>
    /// <param name="includeSpecialTokens">Include the mask and OOV tokens (default true), so that a term's position is its index.</param>
    public IReadOnlyList<string> GetVocabulary(bool includeSpecialTokens = true) => GetVocabularyText(includeSpecialTokens);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        WriteLookupConfig(config, null);
        config["encoding"] = Encoding;
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config (vocabulary inline or absent; <c>binary</c>/<c>tf-idf</c> aliases; tf.keras 2 has no <c>oov_method</c>/<c>salt</c>: their defaults).</summary>
    internal static StringLookup FromConfig(LayerConfig config)
    {
        ReadCommon(config);
        config.Ignore("vocabulary_dtype");
        try
        {
            return new StringLookup(config.GetNullableInt("max_tokens"), config.GetInt("num_oov_indices", 1), config.GetNullableString("mask_token"),
                config.Has("oov_token") ? config.GetNullableString("oov_token") : "[UNK]", ReadVocabulary(config), ReadIdf(config),
                config.GetBool("invert", false), config.GetString("output_mode", "int"), config.GetBool("pad_to_max_tokens", false), false,
                config.GetString("encoding", "utf-8"), config.Has("has_input_vocabulary") ? config.GetBool("has_input_vocabulary", false) : null,
                config.GetNullableInt("vocabulary_size"), config.Name, ReadOovMethod(config), ReadSalt(config));
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <summary>A config's inline vocabulary of strings (a file path, which Keras reads outside the archive, is refused).</summary>
    internal static IReadOnlyList<string>? ReadVocabulary(LayerConfig config) => config.GetRaw("vocabulary") switch
    {
        null => null,
        JsonArray terms => terms.Select(t => t is JsonValue v && v.TryGetValue<string>(out var text) ? text : throw config.Error($"the vocabulary holds {t?.ToJsonString() ?? "null"}; expected strings.")).ToArray(),
        JsonValue path when path.TryGetValue<string>(out var file) => throw config.Error($"the vocabulary is a file path ('{file}'), which Keras reads from outside the model file (refused in safe mode); give the terms inline."),
        var other => throw config.Error($"the vocabulary is {other.ToJsonString()}; expected a list of strings or null."),
    };

    /// <summary>A config's inline idf weights.</summary>
    internal static IReadOnlyList<double>? ReadIdf(LayerConfig config) => config.GetRaw("idf_weights") switch
    {
        null => null,
        JsonArray weights => weights.Select(w => w is JsonValue v && v.TryGetValue<double>(out var x) ? x : throw config.Error($"idf_weights holds {w?.ToJsonString() ?? "null"}; expected numbers.")).ToArray(),
        var other => throw config.Error($"idf_weights is {other.ToJsonString()}; expected a list of numbers or null."),
    };

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">Not strings (or, inverted, not integer indices); for multi_hot, count and tf_idf, not rank 2.</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (Invert)
        {
            return input.DType.IsInteger() ? new[] { (input.Shape, DType.String) }
                : throw InputError($"with invert, takes integer indices, but got {input.Label} with dtype {input.DType.ToKerasName()} and shape {input.Shape}.");
        }

        if (input.DType != DType.String)
        {
            throw InputError($"takes strings (dtype string), but got {input.Label} with dtype {input.DType.ToKerasName()} and shape {input.Shape}; declare the input as new Input(shape, dtype: DType.String).");
        }

        return new[] { (LookupOutputShape(input), OutputMode == "int" ? DType.Int64 : DType.Float32) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (Invert)
        {
            using var ids = input.to_type(ScalarType.Int64).cpu().contiguous();
            return StringTensors.Register(LookupTokens(ids.data<long>().ToArray()), input.shape);
        }

        return Encode(LookupIndices(StringTensors.Read(input)), input.shape);
    }

    private protected override string[] ReadTokens(Tensor input) => StringTensors.Read(input);

    private protected override Tensor TokensToTensor(string[] values, long[] dims) => StringTensors.Register(values, dims);

    private protected override int CompareTokens(string a, string b) => CompareUtf8(a, b);

    private protected override JsonNode? TokenToJson(string? token) => token is null ? null : JsonValue.Create(token);
}
