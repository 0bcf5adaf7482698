using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Turns text into token indices or token counts, as Keras 3.16's <c>keras.layers.TextVectorization</c>
/// (keras/src/layers/preprocessing/text_vectorization.py): each string is standardized, split into tokens, optionally
/// joined into n-grams, and looked up in a vocabulary (a <see cref="StringLookup"/> with mask token <c>""</c> at 0
/// and OOV token <c>[UNK]</c> at 1 in <c>int</c> mode). Input: strings, (batch,) or (batch, 1). Output:
/// <c>int</c>: int64 (batch, output_sequence_length), each row's indices padded with 0 or truncated (without
/// <c>output_sequence_length</c>, padded to the batch's longest row); <c>multi_hot</c>, <c>count</c>, <c>tf_idf</c>:
/// float32 (batch, vocabulary size or <c>max_tokens</c>). No weights; the vocabulary goes to the config when given,
/// to <c>.keras</c> assets when learned by <see cref="Adapt(Array)"/>.
/// </summary>
/// <remarks>
/// As TensorFlow's ops behind Keras: <c>lower</c> lowercases ASCII letters only (<c>tf.strings.lower</c> without an
/// encoding); <c>strip_punctuation</c> removes Keras' regex class <c>[!"#$%&amp;()\*\+,-\./:;&lt;=&gt;?@\[\\\]^_`{|}~\']</c>
/// (ASCII punctuation); <c>whitespace</c> splits on runs of ASCII whitespace and drops empty tokens; <c>character</c>
/// splits into Unicode code points; n-grams are grouped by width, joined with a space. A callable <c>standardize</c>
/// or <c>split</c> is a C# function registered with <see cref="RegisterStandardize"/> / <see cref="RegisterSplit"/>
/// and named in the constructor (Keras calls it on a tensor of strings; here it runs once per string). Keras needs
/// TensorFlow for this layer, which is not installable here: behaviour comes from its source, test expectations are
/// computed by hand. <c>sparse</c>, <c>ragged</c> and <c>one_hot</c> output are refused.
/// </remarks>
[KerasLayer("TextVectorization", OwnsDType = true)]
public sealed class TextVectorization : Layer
{
    private static readonly ConcurrentDictionary<string, Func<string, string>> Standardizers = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<string, IEnumerable<string>>> Splitters = new(StringComparer.Ordinal);
    private readonly StringLookup lookup;
    private readonly int[]? ngrams;
    private readonly JsonNode? ngramsArgument;

    /// <summary>Creates the layer.</summary>
    /// <param name="maxTokens">Largest vocabulary, the mask and OOV tokens included; null (default) for no limit.</param>
    /// <param name="standardize"><c>lower_and_strip_punctuation</c> (default), <c>lower</c>, <c>strip_punctuation</c>, null for none, or a name registered with <see cref="RegisterStandardize"/>.</param>
    /// <param name="split"><c>whitespace</c> (default), <c>character</c>, null (each string is one token), or a name registered with <see cref="RegisterSplit"/>.</param>
    /// <param name="ngrams">Null (default), n (n-grams of 1 to n tokens) or the widths to make, e.g. { 1, 3 }.</param>
    /// <param name="outputMode"><c>int</c> (default), <c>multi_hot</c> (alias <c>binary</c>), <c>count</c> or <c>tf_idf</c>.</param>
    /// <param name="outputSequenceLength">With <c>int</c>: the length every row is padded or truncated to; null for the batch's longest.</param>
    /// <param name="padToMaxTokens">Make non-int outputs <paramref name="maxTokens"/> wide.</param>
    /// <param name="vocabulary">The vocabulary (optionally starting with <c>""</c> and <c>[UNK]</c>); null to learn it with <see cref="Adapt(Array)"/>.</param>
    /// <param name="idfWeights">With <c>tf_idf</c> and a vocabulary: one weight per entry.</param>
    /// <param name="sparse">Only false.</param>
    /// <param name="ragged">Only false (ragged outputs need TensorFlow).</param>
    /// <param name="encoding">Only <c>utf-8</c>.</param>
    /// <param name="name">Layer name; defaults to <c>text_vectorization_N</c>.</param>
    /// <exception cref="ArgumentException">An argument Keras refuses, an unknown mode or an unregistered function name.</exception>
    /// <exception cref="NotSupportedException">sparse, ragged, one_hot.</exception>
    public TextVectorization(int? maxTokens = null, string? standardize = "lower_and_strip_punctuation", string? split = "whitespace", int[]? ngrams = null,
        string outputMode = "int", int? outputSequenceLength = null, bool padToMaxTokens = false, IReadOnlyList<string>? vocabulary = null,
        IReadOnlyList<double>? idfWeights = null, bool sparse = false, bool ragged = false, string encoding = "utf-8", string? name = null)
        : this(maxTokens, standardize, split, ngrams, ngrams is null ? null : new JsonArray(ngrams.Select(n => (JsonNode?)n).ToArray()), outputMode, outputSequenceLength,
            padToMaxTokens, vocabulary, idfWeights, sparse, ragged, encoding, null, null, name)
    {
    }

    /// <summary>Creates the layer with <c>ngrams</c> given as one integer n (Keras' <c>ngrams=n</c>: widths 1 to n).</summary>
    /// <param name="ngrams">n, at least 1.</param>
    /// <param name="maxTokens">See the main constructor.</param>
    /// <param name="standardize">See the main constructor.</param>
    /// <param name="split">See the main constructor.</param>
    /// <param name="outputMode">See the main constructor.</param>
    /// <param name="outputSequenceLength">See the main constructor.</param>
    /// <param name="padToMaxTokens">See the main constructor.</param>
    /// <param name="vocabulary">See the main constructor.</param>
    /// <param name="idfWeights">See the main constructor.</param>
    /// <param name="name">See the main constructor.</param>
    public TextVectorization(int ngrams, int? maxTokens = null, string? standardize = "lower_and_strip_punctuation", string? split = "whitespace",
        string outputMode = "int", int? outputSequenceLength = null, bool padToMaxTokens = false, IReadOnlyList<string>? vocabulary = null,
        IReadOnlyList<double>? idfWeights = null, string? name = null)
        : this(maxTokens, standardize, split, Enumerable.Range(1, Math.Max(0, ngrams)).ToArray(), JsonValue.Create(ngrams), outputMode, outputSequenceLength,
            padToMaxTokens, vocabulary, idfWeights, false, false, "utf-8", null, null, name)
    {
    }

    private TextVectorization(int? maxTokens, string? standardize, string? split, int[]? ngrams, JsonNode? ngramsArgument, string outputMode, int? outputSequenceLength,
        bool padToMaxTokens, IReadOnlyList<string>? vocabulary, IReadOnlyList<double>? idfWeights, bool sparse, bool ragged, string encoding, bool? hasInputVocabulary,
        int? vocabularySize, string? name)
        : base(CheckedName(standardize, split, ngrams, outputMode, outputSequenceLength, sparse, ragged, name))
    {
        Standardize = standardize;
        Split = split;
        this.ngrams = ngrams;
        this.ngramsArgument = ngramsArgument;
        OutputMode = IndexLookup.NormalizeOutputMode("TextVectorization", outputMode, allowOneHot: false);
        OutputSequenceLength = outputSequenceLength;
        Encoding = encoding;
        lookup = new StringLookup(maxTokens, 1, string.Empty, "[UNK]", vocabulary, idfWeights, false, OutputMode, padToMaxTokens, false, encoding,
            hasInputVocabulary, vocabularySize, null);
    }

    /// <summary>Keras' <c>standardize</c>, or null.</summary>
    public string? Standardize { get; }

    /// <summary>Keras' <c>split</c>, or null.</summary>
    public string? Split { get; }

    /// <summary>The n-gram widths (Keras' <c>_ngrams</c>), or null.</summary>
    public IReadOnlyList<int>? Ngrams => ngrams;

    /// <summary>Keras' <c>output_mode</c>.</summary>
    public string OutputMode { get; }

    /// <summary>Keras' <c>output_sequence_length</c>.</summary>
    public int? OutputSequenceLength { get; }

    /// <summary>Keras' <c>encoding</c>.</summary>
    public string Encoding { get; }

    /// <summary>Keras' <c>max_tokens</c>.</summary>
    public int? MaxTokens => lookup.MaxTokens;

    /// <summary>The lookup layer inside (Keras' <c>_lookup_layer</c>).</summary>
    internal StringLookup Lookup => lookup;

    /// <inheritdoc/>
    internal override bool TakesStrings => true;


    /// <summary>
    /// Registers a C# standardization under a name, for <c>standardize</c> and for loading a file whose layer names
    /// it (Keras' registered name <c>package&gt;name</c>). It receives each string and returns it standardized.
    /// </summary>
    /// <param name="registeredName">The name; not empty.</param>
    /// <param name="function">The function.</param>
    public static void RegisterStandardize(string registeredName, Func<string, string> function)
    {
        ArgumentException.ThrowIfNullOrEmpty(registeredName);
        ArgumentNullException.ThrowIfNull(function);
        Standardizers[registeredName] = function;
    }

    /// <summary>Registers a C# tokenizer under a name, for <c>split</c> (see <see cref="RegisterStandardize"/>): each string to its tokens.</summary>
    /// <param name="registeredName">The name; not empty.</param>
    /// <param name="function">The function.</param>
    public static void RegisterSplit(string registeredName, Func<string, IEnumerable<string>> function)
    {
        ArgumentException.ThrowIfNullOrEmpty(registeredName);
        ArgumentNullException.ThrowIfNull(function);
        Splitters[registeredName] = function;
    }

    private static string? CheckedName(string? standardize, string? split, int[]? ngrams, string outputMode, int? outputSequenceLength, bool sparse, bool ragged, string? name)
    {
        if (standardize is not (null or "lower_and_strip_punctuation" or "lower" or "strip_punctuation") && !Standardizers.ContainsKey(standardize))
        {
            throw new ArgumentException($"TextVectorization: standardize '{standardize}' is neither 'lower_and_strip_punctuation', 'lower', 'strip_punctuation', null nor a function registered with TextVectorization.RegisterStandardize (Keras' callable standardize is Python code, which this library never runs).", nameof(standardize));
        }

        if (split is not (null or "whitespace" or "character") && !Splitters.ContainsKey(split))
        {
            throw new ArgumentException($"TextVectorization: split '{split}' is neither 'whitespace', 'character', null nor a function registered with TextVectorization.RegisterSplit (Keras' callable split is Python code, which this library never runs).", nameof(split));
        }

        if (ngrams is not null && (ngrams.Length == 0 || ngrams.Any(n => n < 1)))
        {
            throw new ArgumentException($"TextVectorization: ngrams must be null, an integer of at least 1 or widths of at least 1; got [{string.Join(", ", ngrams)}].", nameof(ngrams));
        }

        ArgumentNullException.ThrowIfNull(outputMode);
        if (outputMode == "one_hot")
        {
            throw new NotSupportedException("TextVectorization: output_mode 'one_hot' encodes each token of a ragged row, which Keras' TextVectorization documents no output for; use 'multi_hot', 'count', 'tf_idf' or 'int'.");
        }

        var mode = IndexLookup.NormalizeOutputMode("TextVectorization", outputMode, allowOneHot: false);
        if (mode != "int" && outputSequenceLength is not null)
        {
            throw new ArgumentException($"TextVectorization: output_sequence_length must not be set if output_mode is not 'int'; got output_sequence_length={outputSequenceLength}.", nameof(outputSequenceLength));
        }

        if (outputSequenceLength is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(outputSequenceLength), outputSequenceLength, "TextVectorization: output_sequence_length must be positive.");
        }

        if (sparse)
        {
            throw new NotSupportedException("TextVectorization: sparse=True gives a TensorFlow SparseTensor (TensorFlow backend only); this library has dense outputs only.");
        }

        if (ragged)
        {
            throw new NotSupportedException("TextVectorization: ragged=True gives a TensorFlow RaggedTensor (TensorFlow backend only); this library pads rows (output_sequence_length).");
        }

        return name;
    }

    /// <summary>Keras' <c>get_vocabulary(include_special_tokens)</c>: <c>""</c>, <c>[UNK]</c>, then the terms (int mode).</summary>
    /// <param name="includeSpecialTokens">Include the mask and OOV tokens (default true).</param>
    public IReadOnlyList<string> GetVocabulary(bool includeSpecialTokens = true) => lookup.GetVocabulary(includeSpecialTokens);

    /// <summary>Keras' <c>vocabulary_size()</c>.</summary>
    public int VocabularySize() => lookup.VocabularySize();

    /// <summary>Keras' <c>set_vocabulary(vocabulary, idf_weights)</c>.</summary>
    /// <param name="vocabulary">The terms.</param>
    /// <param name="idfWeights">With <c>tf_idf</c>: one weight per term.</param>
    public void SetVocabulary(IReadOnlyList<string> vocabulary, IReadOnlyList<double>? idfWeights = null) => lookup.SetVocabulary(vocabulary, idfWeights);

    /// <summary>
    /// Learns the vocabulary from texts (Keras' <c>adapt</c> on an array): each text is standardized, split and
    /// counted as one document; terms by count, ties by the larger term first, cut to <c>max_tokens</c> - 2 in int
    /// mode. Replaces what was learned before.
    /// </summary>
    /// <param name="data">The texts, <c>string[]</c> or <c>string[n, 1]</c>.</param>
    /// <exception cref="InvalidOperationException">A vocabulary was given.</exception>
    public void Adapt(Array data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var rows = Preprocess(Texts(data));
        lookup.AdaptDocuments(new[] { rows });
    }

    /// <summary>Learns the vocabulary from batches of texts (Keras' <c>adapt</c> on an iterable of batches).</summary>
    /// <param name="batches">Batches of texts.</param>
    /// <param name="steps">At most this many batches (null: all).</param>
    public void Adapt(IEnumerable<Array> batches, int? steps = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        lookup.AdaptDocuments((steps is int s ? batches.Take(s) : batches).Select(b => Preprocess(Texts(b))));
    }

    private string[] Texts(Array data)
    {
        if (data.GetType().GetElementType() != typeof(string))
        {
            throw new ArgumentException($"TextVectorization '{Name}': expected texts (string[] or string[n, 1]), but got a {TensorData.TypeName(data)}.", nameof(data));
        }

        if (data.Rank > 2 || (data.Rank == 2 && data.GetLength(1) != 1 && Split is not null))
        {
            throw new ArgumentException($"TextVectorization '{Name}': to tokenize strings the input rank must be 1 or the last dimension 1; got a {TensorData.TypeName(data)} of {string.Join("x", Enumerable.Range(0, data.Rank).Select(data.GetLength))}.", nameof(data));
        }

        return data.Cast<string>().ToArray();
    }

    /// <summary>Keras' <c>_preprocess</c> on a column of texts (one per sample): standardize, split, n-grams; one token row per text.</summary>
    internal string[][] Preprocess(IReadOnlyList<string> texts) => PreprocessRows(texts.Select(t => new[] { t }).ToArray());

    /// <summary>
    /// Keras' <c>_preprocess</c> on rows of strings: each string standardized; with a split each row holds one text,
    /// split into tokens, without one the row's strings are its tokens; then the n-grams of each row.
    /// </summary>
    private string[][] PreprocessRows(IReadOnlyList<string[]> rows)
    {
        var result = new string[rows.Count][];
        for (var i = 0; i < rows.Count; i++)
        {
            var standardized = rows[i].Select(text => StandardizeOne(text ?? throw new ArgumentException($"TextVectorization '{Name}': text {i} is null."))).ToArray();
            var tokens = Split is null ? standardized : SplitOne(standardized[0]);
            result[i] = ngrams is null ? tokens : MakeNgrams(tokens, ngrams);
        }

        return result;
    }

    private string StandardizeOne(string text) => Standardize switch
    {
        null => text,
        "lower" => LowerAscii(text),
        "strip_punctuation" => StripPunctuation(text),
        "lower_and_strip_punctuation" => StripPunctuation(LowerAscii(text)),
        var f => Standardizers.TryGetValue(f, out var fn) ? fn(text) : throw new InvalidOperationException($"TextVectorization '{Name}': the standardize function '{f}' is no longer registered."),
    };

    private string[] SplitOne(string text) => Split switch
    {
        "whitespace" => SplitWhitespace(text),
        "character" => text.EnumerateRunes().Select(r => r.ToString()).ToArray(),
        var f => Splitters.TryGetValue(f!, out var fn) ? fn(text).ToArray() : throw new InvalidOperationException($"TextVectorization '{Name}': the split function '{f}' is no longer registered."),
    };

    /// <summary><c>tf.strings.lower</c> without an encoding: ASCII A-Z only.</summary>
    internal static string LowerAscii(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] is >= 'A' and <= 'Z')
            {
                chars[i] = (char)(chars[i] + ('a' - 'A'));
            }
        }

        return new string(chars);
    }

    /// <summary>Keras' <c>[!"#$%&amp;()\*\+,-\./:;&lt;=&gt;?@\[\\\]^_`{|}~\']</c> removed (<c>,-\.</c> is the range , - .).</summary>
    internal static string StripPunctuation(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (!"!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'".Contains(c, StringComparison.Ordinal))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary><c>tf.strings.split</c> without a separator: runs of ASCII whitespace (space, \t, \n, \v, \f, \r), no empty tokens.</summary>
    internal static string[] SplitWhitespace(string text) =>
        text.Split(new[] { ' ', '\t', '\n', '\v', '\f', '\r' }, StringSplitOptions.RemoveEmptyEntries);

    /// <summary><c>tf.strings.ngrams(tokens, widths, separator=" ")</c>: all n-grams of each width in turn, short rows giving none of a width.</summary>
    internal static string[] MakeNgrams(string[] tokens, IReadOnlyList<int> widths)
    {
        var result = new List<string>();
        foreach (var n in widths)
        {
            for (var start = 0; start + n <= tokens.Length; start++)
            {
                result.Add(string.Join(' ', tokens, start, n));
            }
        }

        return result.ToArray();
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["max_tokens"] = lookup.MaxTokens;
        config["standardize"] = FunctionOrName(Standardize, Standardizers.ContainsKey(Standardize ?? string.Empty) && Standardize is not ("lower" or "strip_punctuation" or "lower_and_strip_punctuation"));
        config["split"] = FunctionOrName(Split, Splitters.ContainsKey(Split ?? string.Empty) && Split is not ("whitespace" or "character"));
        config["ngrams"] = ngramsArgument?.DeepClone();
        config["output_mode"] = OutputMode;
        config["output_sequence_length"] = OutputSequenceLength;
        config["pad_to_max_tokens"] = lookup.PadToMaxTokens;
        config["sparse"] = false;
        config["ragged"] = false;
        var inner = lookup.GetConfig();
        config["vocabulary"] = inner["vocabulary"]?.DeepClone();
        config["idf_weights"] = inner["idf_weights"]?.DeepClone();
        config["encoding"] = Encoding;
        config["vocabulary_size"] = lookup.VocabularySize();
        return config;
    }

    private static JsonNode? FunctionOrName(string? value, bool registered) => value is null ? null
        : registered ? new JsonObject { ["module"] = "builtins", ["class_name"] = "function", ["config"] = value, ["registered_name"] = "function" }
        : JsonValue.Create(value);

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config: vocabulary inline or absent (then from <c>.keras</c> assets); a callable standardize or split must be registered.</summary>
    internal static TextVectorization FromConfig(LayerConfig config)
    {
        config.RequireDefault("sparse", false);
        config.RequireDefault("ragged", false);
        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        if (dtype is not (null or "float32" or "string"))
        {
            throw config.Error($"dtype '{dtype}' is not supported; TextVectorization reads strings.");
        }

        string? Function(string key, string fallback) => !config.Has(key) ? fallback : config.GetRaw(key) switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var text) => text,
            JsonObject f when f["config"] is JsonValue n && n.TryGetValue<string>(out var registered) && f["class_name"]?.ToString() == "function" => registered,
            var other => throw config.Error($"'{key}' is {other.ToJsonString()}: Python code or an unknown object; register a C# twin with TextVectorization.Register{(key == "split" ? "Split" : "Standardize")}(\"name\", ...) and name it."),
        };
        var standardize = Function("standardize", "lower_and_strip_punctuation");
        var split = Function("split", "whitespace");
        var ngramsNode = config.GetRaw("ngrams");
        int[]? ngrams = ngramsNode switch
        {
            null => null,
            JsonValue v when v.TryGetValue<int>(out var n) => Enumerable.Range(1, Math.Max(0, n)).ToArray(),
            JsonArray list => list.Select(x => x is JsonValue y && y.TryGetValue<int>(out var n) ? n : throw config.Error($"ngrams holds {x?.ToJsonString() ?? "null"}; expected integers.")).ToArray(),
            var other => throw config.Error($"ngrams must be null, an integer or a list of integers; got {other.ToJsonString()}."),
        };
        if (ngramsNode is JsonValue single && single.TryGetValue<int>(out var width) && width < 1)
        {
            throw config.Error($"ngrams must be at least 1; got {width}.");
        }

        try
        {
            return new TextVectorization(config.GetNullableInt("max_tokens"), standardize, split, ngrams, ngramsNode?.DeepClone(), config.GetString("output_mode", "int"),
                config.GetNullableInt("output_sequence_length"), config.GetBool("pad_to_max_tokens", false), StringLookup.ReadVocabulary(config), StringLookup.ReadIdf(config),
                false, false, config.GetString("encoding", "utf-8"), config.Has("has_input_vocabulary") ? config.GetBool("has_input_vocabulary", false) : null,
                config.GetNullableInt("vocabulary_size"), config.Name);
        }
        catch (ArgumentException e)
        {
            throw config.Error(e.Message);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="LayerInputException">Not strings of shape (batch,) or (batch, 1).</exception>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (input.DType != DType.String)
        {
            throw InputError($"takes strings (dtype string), but got {input.Label} with dtype {input.DType.ToKerasName()} and shape {input.Shape}; declare the input as new Input(Array.Empty<int>(), dtype: DType.String).");
        }

        var rank = input.Shape.Rank;
        if (rank > 2 || (rank == 2 && input.Shape[1] != 1 && Split is not null) || (rank == 1 && Split is null && OutputMode == "int"))
        {
            throw InputError($"takes one text per sample, (batch,) or (batch, 1) (with split null, (batch, 1)), but got {input.Label} with shape {input.Shape}.");
        }

        if (OutputMode == "int")
        {
            return new[] { (new Shape(null, OutputSequenceLength), DType.Int64) };
        }

        return new[] { (new Shape(null, lookup.PadToMaxTokens ? lookup.MaxTokens : lookup.VocabularySizeOrNull), DType.Float32) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var texts = StringTensors.Read(input);
        var width0 = input.dim() == 2 ? (int)input.shape[1] : 1;
        var rows = PreprocessRows(Enumerable.Range(0, (int)input.shape[0]).Select(r => texts.Skip(r * width0).Take(width0).ToArray()).ToArray());
        var indices = rows.Select(r => lookup.LookupRow(r)).ToArray();
        if (OutputMode != "int")
        {
            return lookup.EncodeRows(indices);
        }

        var width = OutputSequenceLength ?? (indices.Length == 0 ? 0 : indices.Max(r => r.Length));
        var result = new long[indices.Length * (long)width];
        for (var r = 0; r < indices.Length; r++)
        {
            Array.Copy(indices[r], 0, result, r * (long)width, Math.Min(width, indices[r].Length));
        }

        return tensor(result, new[] { indices.Length, (long)width });
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lookup.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>ONNX: refused; text layers have no ONNX form here (see docs/saving.md, which says how to split the model).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => throw IndexLookup.StringLayersOnnx(this);

    /// <summary>The inner lookup's <see cref="IndexLookup.MissingVocabulary"/>, named after this layer.</summary>
    internal string? MissingVocabulary() => lookup.MissingVocabularyOf(this);
}
