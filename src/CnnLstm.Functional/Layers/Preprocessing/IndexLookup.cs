using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What <see cref="StringLookup"/>, <see cref="IntegerLookup"/> and <see cref="TextVectorization"/> share, as Keras'
/// <c>IndexLookup</c> (keras/src/layers/preprocessing/index_lookup.py): a vocabulary of tokens, given or learned by
/// <see cref="Adapt(Array)"/>, maps each token to an index. Indices: with a mask token and <c>output_mode</c>
/// <c>int</c>, 0 is the mask; then <c>num_oov_indices</c> out-of-vocabulary indices; then the tokens. Output modes
/// <c>int</c> (the indices, int64, the input's shape), <c>one_hot</c>, <c>multi_hot</c>, <c>count</c> and
/// <c>tf_idf</c> (float32, last axis the vocabulary size, or <c>max_tokens</c> with <c>pad_to_max_tokens</c>); with
/// <c>invert</c>, indices back to tokens. Tokens are kept as strings (an integer token as its decimal digits); the
/// subclass reads its inputs and orders its tokens.
/// </summary>
/// <remarks>
/// Learned vocabularies follow Keras' <c>finalize_state</c>: mask and OOV tokens removed, tokens by count descending,
/// ties by token descending (<c>np.lexsort((tokens, counts))[::-1]</c>: bytes for strings, values for integers), cut
/// to <c>max_tokens</c> minus the special indices; <c>tf_idf</c>'s weights are <c>log(1 + documents / (1 +
/// documents with the token))</c>, the special indices getting their mean. Keras' <c>sparse=True</c> (TensorFlow
/// only) is refused.
/// <para>
/// With <c>num_oov_indices</c> above 1 an unknown token goes to OOV index <c>oov_start + bucket</c>, as Keras'
/// <c>_lookup_dense</c>: integers (with <c>oov_method</c> <c>floormod</c>, the default) take
/// <c>floormod(value, num_oov_indices)</c>; strings, and integers with <c>oov_method</c> <c>farmhash</c> (hashing
/// their decimal text, TensorFlow's <c>tf.strings.as_string</c>), take TensorFlow's
/// <c>tf.strings.to_hash_bucket_fast</c> (FarmHash Fingerprint64, <see cref="Hashing.ToHashBucketFast"/>) or, with a
/// <c>salt</c>, <c>to_hash_bucket_strong</c> keyed by the two salt values (SipHash-2-4,
/// <see cref="Hashing.ToHashBucketStrong"/>). <c>invert</c> gives the OOV token for every OOV index.
/// </para>
/// </remarks>
public abstract class IndexLookup : Layer
{
    private readonly List<string> tokens = new();
    private readonly Dictionary<string, long> index = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> tokenCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> documentCounts = new(StringComparer.Ordinal);
    private readonly bool integerTokens;
    private long documents;
    private float[]? idfWeights;
    private bool hasTable;

    /// <summary>Checks and stores Keras' <c>IndexLookup</c> arguments; the vocabulary, if any, is set by the subclass with <see cref="SetVocabularyCore"/>.</summary>
    private protected IndexLookup(string layerName, int? maxTokens, int numOovIndices, string? maskToken, string? oovToken, bool invert, string outputMode,
        bool padToMaxTokens, bool sparse, bool hasInputVocabulary, int? vocabularySize, string oovMethod, IReadOnlyList<long>? salt, bool integerKeys, string? name)
        : base(name)
    {
        if (maxTokens is not null && maxTokens <= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, $"{layerName}: if set, max_tokens must be greater than 1.");
        }

        if (padToMaxTokens && maxTokens is null)
        {
            throw new ArgumentException($"{layerName}: if pad_to_max_tokens is true, max_tokens must be set.", nameof(padToMaxTokens));
        }

        if (numOovIndices < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numOovIndices), numOovIndices, $"{layerName}: num_oov_indices must be greater than or equal to 0.");
        }

        ArgumentNullException.ThrowIfNull(oovMethod);
        if (oovMethod is not ("floormod" or "farmhash"))
        {
            throw new ArgumentException($"{layerName}: oov_method '{oovMethod}' is not supported; expected 'floormod' or 'farmhash'.", nameof(oovMethod));
        }

        if (salt is not null)
        {
            if (integerKeys && oovMethod != "farmhash")
            {
                throw new ArgumentException($"{layerName}: salt can only be used when oov_method='farmhash'; got oov_method '{oovMethod}'.", nameof(salt));
            }

            if (salt.Count != 2)
            {
                throw new ArgumentException($"{layerName}: the salt can only be 2 integers (Keras' tuple of 2 integers; its single integer s is new[] {{ s, s }}); got {salt.Count} values [{string.Join(", ", salt)}].", nameof(salt));
            }
        }

        outputMode = NormalizeOutputMode(layerName, outputMode, allowOneHot: true);
        if (invert && outputMode != "int")
        {
            throw new ArgumentException($"{layerName}: output_mode must be 'int' when invert is true; got '{outputMode}'.", nameof(outputMode));
        }

        if (sparse)
        {
            throw new NotSupportedException($"{layerName}: sparse=True gives a TensorFlow SparseTensor (Keras allows it only on the TensorFlow backend); this library has dense outputs only.");
        }

        MaxTokens = maxTokens;
        NumOovIndices = numOovIndices;
        OovMethod = oovMethod;
        Salt = salt is null ? null : Array.AsReadOnly(salt.ToArray());
        integerTokens = integerKeys;
        MaskToken = maskToken;
        OovToken = oovToken;
        Invert = invert;
        OutputMode = outputMode;
        PadToMaxTokens = padToMaxTokens;
        HasInputVocabulary = hasInputVocabulary;
        FrozenVocabularySize = vocabularySize;
        ConfigVocabularySize = vocabularySize;
    }

    /// <summary>Keras' <c>max_tokens</c>: the largest vocabulary, special indices included (null: no limit).</summary>
    public int? MaxTokens { get; }

    /// <summary>Keras' <c>num_oov_indices</c> (default 1).</summary>
    public int NumOovIndices { get; }

    /// <summary>
    /// Keras' <c>oov_method</c>: <c>floormod</c> (default) or <c>farmhash</c>; how several OOV indices are chosen for
    /// integers (strings are always hashed).
    /// </summary>
    public string OovMethod { get; }

    /// <summary>Keras' <c>salt</c>: null (FarmHash) or the two SipHash key words used to hash OOV tokens.</summary>
    public IReadOnlyList<long>? Salt { get; }

    /// <summary>Keras' <c>mask_token</c> (as text), or null for none.</summary>
    private protected string? MaskToken { get; }

    /// <summary>Keras' <c>oov_token</c> (as text): what <c>invert</c> gives for an unknown index.</summary>
    private protected string? OovToken { get; }

    /// <summary>Keras' <c>invert</c>: indices to tokens.</summary>
    public bool Invert { get; }

    /// <summary>Keras' <c>output_mode</c>: <c>int</c>, <c>one_hot</c>, <c>multi_hot</c>, <c>count</c> or <c>tf_idf</c>.</summary>
    public string OutputMode { get; }

    /// <summary>Keras' <c>pad_to_max_tokens</c>: non-int outputs are <c>max_tokens</c> wide.</summary>
    public bool PadToMaxTokens { get; }

    /// <summary>The vocabulary as it was given (Keras' <c>input_vocabulary</c>, written to configs), or null when learned.</summary>
    private protected IReadOnlyList<string>? InputVocabulary { get; private set; }

    /// <summary>The idf weights as given (Keras' <c>input_idf_weights</c>), or null.</summary>
    private protected IReadOnlyList<double>? InputIdfWeights { get; private set; }

    /// <summary>Keras' <c>_has_input_vocabulary</c>: a vocabulary was given, so <c>adapt</c> is refused.</summary>
    private protected bool HasInputVocabulary { get; }

    /// <summary>Keras' <c>_frozen_vocab_size</c> (config <c>vocabulary_size</c>).</summary>
    private protected int? FrozenVocabularySize { get; private set; }

    /// <summary>The <c>vocabulary_size</c> a config declared when the layer was read, for the load check.</summary>
    private protected int? ConfigVocabularySize { get; }

    /// <summary>The idf weights in use (tf_idf), padded as Keras pads them, or null.</summary>
    public IReadOnlyList<float>? IdfWeights => idfWeights;

    /// <summary>Whether a vocabulary is set (given, adapted or loaded).</summary>
    public bool HasVocabulary => hasTable;

    /// <summary>The name Keras' index_lookup uses in its messages.</summary>
    private protected abstract string KerasName { get; }

    /// <inheritdoc/>
    internal override bool TakesStrings => true;

    /// <summary>Keras' index_lookup <c>get_build_config</c> returns <c>{}</c>, which Keras writes as <c>"build_config": {}</c>.</summary>
    internal override JsonObject? BuildConfigOf(Node node, Func<Shape, JsonNode> shapeJson) => new();

    /// <summary>The index of the first OOV index: 1 with a mask token in <c>int</c> mode, else 0.</summary>
    private protected int OovStartIndex => MaskToken is not null && OutputMode == "int" ? 1 : 0;

    /// <summary>The index of the first vocabulary token.</summary>
    private protected int TokenStartIndex => OovStartIndex + NumOovIndices;

    /// <summary>Keras' <c>vocabulary_size()</c>: the tokens plus the special indices.</summary>
    public int VocabularySize() => tokens.Count + TokenStartIndex;

    /// <summary>
    /// Keras' <c>get_vocabulary(include_special_tokens)</c>: the token of each index, the mask token at 0 (int mode
    /// with a mask) and the OOV token at the OOV indices; without special tokens, the learned or given tokens only.
    /// </summary>
    /// <param name="includeSpecialTokens">Include the mask and OOV tokens (default true).</param>
    public IReadOnlyList<string> GetVocabularyText(bool includeSpecialTokens = true)
    {
        var result = new List<string>();
        if (includeSpecialTokens)
        {
            for (var i = 0; i < TokenStartIndex; i++)
            {
                result.Add(i < OovStartIndex ? MaskToken! : OovToken ?? "None");
            }
        }

        result.AddRange(tokens);
        return result;
    }

    /// <summary>Normalises Keras' aliases (<c>binary</c>, <c>tf-idf</c>) and refuses other modes.</summary>
    internal static string NormalizeOutputMode(string layerName, string outputMode, bool allowOneHot)
    {
        ArgumentNullException.ThrowIfNull(outputMode);
        var mode = outputMode switch { "binary" => "multi_hot", "tf-idf" => "tf_idf", _ => outputMode };
        if (mode is not ("int" or "multi_hot" or "count" or "tf_idf") && !(allowOneHot && mode == "one_hot"))
        {
            throw new ArgumentException($"{layerName}: output_mode '{outputMode}' is not supported; expected {(allowOneHot ? "'int', 'one_hot', 'multi_hot', 'count' or 'tf_idf'" : "'int', 'multi_hot', 'count' or 'tf_idf'")}.", nameof(outputMode));
        }

        return mode;
    }

    /// <summary>Reads the layer's input values as token texts, in row-major order.</summary>
    private protected abstract string[] ReadTokens(Tensor input);

    /// <summary>Turns token texts back into the layer's token type (invert), a tensor of <paramref name="dims"/>.</summary>
    private protected abstract Tensor TokensToTensor(string[] values, long[] dims);

    /// <summary>Orders two tokens as Keras' <c>np.lexsort</c> does (bytes for strings, values for integers).</summary>
    private protected abstract int CompareTokens(string a, string b);

    /// <summary>A token as the config writes it (a JSON string or integer).</summary>
    private protected abstract JsonNode? TokenToJson(string? token);

    /// <summary>
    /// Keras' <c>set_vocabulary(vocabulary, idf_weights)</c>: special tokens at the start are recognised and dropped,
    /// repeated tokens, a misplaced mask (or, inverted, OOV) token and a vocabulary above <c>max_tokens</c> are
    /// refused; <c>tf_idf</c> needs idf weights of the vocabulary's length (padded with their mean for the special
    /// indices unless the vocabulary had them, and with zeros to <c>max_tokens</c> with <c>pad_to_max_tokens</c>).
    /// </summary>
    /// <param name="vocabulary">The terms.</param>
    /// <param name="idf">The idf weights, one per term (tf_idf only).</param>
    /// <param name="recordInput">Record them as Keras' <c>input_vocabulary</c>/<c>input_idf_weights</c> (written to the config).</param>
    /// <param name="paddedIdf">Loading only: idf weights already padded to <c>max_tokens</c>, used as they are (instead of <paramref name="idf"/>).</param>
    private protected void SetVocabularyCore(IReadOnlyList<string> vocabulary, IReadOnlyList<double>? idf, bool recordInput, float[]? paddedIdf = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (OutputMode == "tf_idf" && idf is null && paddedIdf is null)
        {
            throw new ArgumentException($"{KerasName} '{Name}': idf_weights must be set if output_mode is 'tf_idf'.", nameof(idf));
        }

        if (OutputMode != "tf_idf" && idf is not null)
        {
            throw new ArgumentException($"{KerasName} '{Name}': idf_weights should only be set if output_mode is 'tf_idf'; output_mode is '{OutputMode}'.", nameof(idf));
        }

        if (vocabulary.Count == 0)
        {
            throw new ArgumentException($"{KerasName} '{Name}': cannot set an empty vocabulary.", nameof(vocabulary));
        }

        var special = Enumerable.Repeat(MaskToken, OovStartIndex).Concat(Enumerable.Repeat(OovToken, NumOovIndices)).ToArray();
        var foundSpecial = vocabulary.Count >= special.Length && special.Select((t, i) => t == vocabulary[i]).All(x => x);
        var newTokens = foundSpecial ? vocabulary.Skip(special.Length).ToArray() : vocabulary.ToArray();
        var repeated = newTokens.GroupBy(t => t, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        if (repeated.Length > 0)
        {
            throw new ArgumentException($"{KerasName} '{Name}': the vocabulary has repeated terms ({string.Join(", ", repeated.Select(t => $"'{t}'"))}); give each term once.", nameof(vocabulary));
        }

        var specialText = $"[{string.Join(", ", special.Select(t => $"'{t}'"))}]";
        if (MaskToken is not null && newTokens.Contains(MaskToken, StringComparer.Ordinal))
        {
            throw new ArgumentException($"{KerasName} '{Name}': found the reserved mask token '{MaskToken}' at vocabulary index {LastIndexOf(vocabulary, MaskToken)}; the vocabulary need not include the OOV and mask tokens: remove them, or put them only at the start in precisely this order: {specialText}.", nameof(vocabulary));
        }

        if (OovToken is not null && Invert && newTokens.Contains(OovToken, StringComparer.Ordinal))
        {
            throw new ArgumentException($"{KerasName} '{Name}': found the reserved OOV token '{OovToken}' at vocabulary index {LastIndexOf(vocabulary, OovToken)}; the vocabulary need not include the OOV and mask tokens: remove them, or put them only at the start in precisely this order: {specialText}.", nameof(vocabulary));
        }

        var newSize = TokenStartIndex + newTokens.Length;
        if (MaxTokens is int max && newSize > max)
        {
            throw new ArgumentException($"{KerasName} '{Name}': the vocabulary has {newSize} entries with the special indices, more than max_tokens {max}.", nameof(vocabulary));
        }

        float[]? weights = paddedIdf;
        if (OutputMode == "tf_idf" && paddedIdf is null)
        {
            if (idf!.Count != vocabulary.Count)
            {
                throw new ArgumentException($"{KerasName} '{Name}': idf_weights must be the same length as the vocabulary; it has {idf.Count} values for {vocabulary.Count} terms.", nameof(idf));
            }

            weights = PadIdf(idf.Select(w => (float)w).ToArray(), foundSpecial ? 0 : TokenStartIndex);
        }

        CheckVocabularySizeUnchanged(newSize);
        SetTable(newTokens);
        idfWeights = weights ?? idfWeights;
        if (recordInput)
        {
            InputVocabulary = vocabulary.ToArray();
            InputIdfWeights = idf?.ToArray();
        }

        FrozenVocabularySize = VocabularySize();
    }

    private static int LastIndexOf(IReadOnlyList<string> values, string value)
    {
        for (var i = values.Count - 1; i >= 0; i--)
        {
            if (values[i] == value)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Keras pads idf weights at the front (special indices: the mean in float32) and, with pad_to_max_tokens, with zeros to max_tokens.</summary>
    private float[] PadIdf(float[] weights, int front)
    {
        var mean = weights.Length == 0 ? 0f : (float)weights.Select(w => (double)w).Average();
        var back = PadToMaxTokens && MaxTokens is int max ? Math.Max(0, max - front - weights.Length) : 0;
        return Enumerable.Repeat(mean, front).Concat(weights).Concat(Enumerable.Repeat(0f, back)).ToArray();
    }

    private void CheckVocabularySizeUnchanged(int newSize)
    {
        if (OutputMode != "int" && !PadToMaxTokens && FrozenVocabularySize is int frozen && frozen != newSize)
        {
            throw new InvalidOperationException($"{KerasName} '{Name}': with output_mode '{OutputMode}' and pad_to_max_tokens false, the vocabulary size cannot change after it was set; old size {frozen}, new size {newSize}.");
        }
    }

    private void SetTable(IReadOnlyList<string> newTokens)
    {
        tokens.Clear();
        index.Clear();
        for (var i = 0; i < newTokens.Count; i++)
        {
            tokens.Add(newTokens[i]);
            index[newTokens[i]] = TokenStartIndex + i;
        }

        hasTable = true;
    }

    /// <summary>
    /// Learns the vocabulary from <paramref name="data"/> (Keras' <c>adapt</c> on an array): a rank-1 array is one
    /// token per document, a rank-2 array one document per row. Replaces what was learned before.
    /// </summary>
    /// <param name="data">The tokens: <c>string[]</c>/<c>string[,]</c> for strings, <c>int</c>/<c>long</c> arrays for integers.</param>
    /// <exception cref="InvalidOperationException">A vocabulary was given (Keras refuses to adapt then).</exception>
    public void Adapt(Array data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var rows = ToDocuments(data, rankOneIsColumn: true);
        ResetState();
        UpdateState(rows);
        FinalizeState();
    }

    /// <summary>
    /// Learns the vocabulary from batches (Keras' <c>adapt</c> on an iterable of batches): each batch is counted as
    /// Keras' <c>update_state</c> counts it (a rank-1 batch is one document), then the vocabulary is finalised.
    /// </summary>
    /// <param name="batches">The batches.</param>
    /// <param name="steps">At most this many batches (null: all).</param>
    public void Adapt(IEnumerable<Array> batches, int? steps = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ResetState();
        var taken = 0;
        foreach (var batch in batches)
        {
            if (steps is int s && taken >= s)
            {
                break;
            }

            UpdateState(ToDocuments(batch, rankOneIsColumn: false));
            taken++;
        }

        FinalizeState();
    }

    /// <summary>Learns the vocabulary from batches of token rows, one document per row (TextVectorization's adapt).</summary>
    internal void AdaptDocuments(IEnumerable<IReadOnlyList<string[]>> batches)
    {
        ResetState();
        foreach (var rows in batches)
        {
            UpdateState(rows);
        }

        FinalizeState();
    }

    /// <summary>The indices of one row of tokens.</summary>
    internal long[] LookupRow(string[] row) => LookupIndices(row);

    /// <summary>The vocabulary size once known (Keras' frozen size), else null.</summary>
    internal int? VocabularySizeOrNull => FrozenVocabularySize;

    /// <summary><see cref="MissingVocabulary"/> told of the layer that holds this lookup.</summary>
    internal string? MissingVocabularyOf(Layer holder) => MissingVocabulary()?.Replace($"{ClassName} '{Name}'", $"{holder.ClassName} '{holder.Name}'", StringComparison.Ordinal);

    /// <summary>Rows of token texts from an array (rank 1: a column of one-token documents, or one document).</summary>
    private protected virtual IReadOnlyList<string[]> ToDocuments(Array data, bool rankOneIsColumn)
    {
        using var scope = NewDisposeScope();
        var values = data.GetType().GetElementType() == typeof(string) ? StringTensors.Register(data) : TensorData.FromArray(data, nameof(data));
        var flat = ReadTokens(values);
        if (data.Rank == 1)
        {
            return rankOneIsColumn ? flat.Select(t => new[] { t }).ToArray() : new[] { flat };
        }

        var width = data.Length / Math.Max(1, data.GetLength(0));
        return Enumerable.Range(0, data.GetLength(0)).Select(r => flat.Skip(r * width).Take(width).ToArray()).ToArray();
    }

    /// <summary>Keras' <c>update_state</c>: adds the documents' token counts (and, for tf_idf, document counts).</summary>
    private protected void UpdateState(IReadOnlyList<string[]> rows)
    {
        if (HasInputVocabulary)
        {
            throw new InvalidOperationException($"Cannot adapt layer '{Name}' after setting a static vocabulary via the vocabulary argument or SetVocabulary.");
        }

        foreach (var row in rows)
        {
            foreach (var token in row)
            {
                tokenCounts[token] = tokenCounts.GetValueOrDefault(token) + 1;
            }

            if (OutputMode == "tf_idf")
            {
                foreach (var token in row.Distinct(StringComparer.Ordinal))
                {
                    documentCounts[token] = documentCounts.GetValueOrDefault(token) + 1;
                }
            }
        }

        documents += rows.Count;
    }

    /// <summary>Keras' <c>finalize_state</c>: sorts the counted tokens into the vocabulary (see the class remarks).</summary>
    private protected void FinalizeState()
    {
        if (HasInputVocabulary || tokenCounts.Count == 0)
        {
            FrozenVocabularySize = VocabularySize();
            return;
        }

        if (MaskToken is not null)
        {
            tokenCounts.Remove(MaskToken);
        }

        if (OovToken is not null)
        {
            tokenCounts.Remove(OovToken);
        }

        var sorted = tokenCounts.OrderByDescending(kv => kv.Value).ThenByDescending(kv => kv.Key, Comparer<string>.Create(CompareTokens)).Select(kv => kv.Key);
        if (MaxTokens is int max)
        {
            sorted = sorted.Take(max - TokenStartIndex);
        }

        var learned = sorted.ToArray();
        CheckVocabularySizeUnchanged(TokenStartIndex + learned.Length);
        SetTable(learned);
        if (OutputMode == "tf_idf")
        {
            var weights = learned.Select(t => (float)Math.Log(1.0 + ((double)documents / (1.0 + documentCounts.GetValueOrDefault(t))))).ToArray();
            idfWeights = PadIdf(weights, TokenStartIndex);
        }

        ResetState();
        FrozenVocabularySize = VocabularySize();
    }

    /// <summary>Keras' <c>reset_state</c>: forgets the counts of an adapt under way.</summary>
    private protected void ResetState()
    {
        tokenCounts.Clear();
        documentCounts.Clear();
        documents = 0;
    }

    /// <summary>The width of a non-int output: <c>max_tokens</c> with <c>pad_to_max_tokens</c>, else the vocabulary size (null until known).</summary>
    private protected int? Depth => PadToMaxTokens ? MaxTokens : FrozenVocabularySize;

    /// <summary>Keras' <c>compute_output_shape</c> of the lookup for a token input shape.</summary>
    private protected Shape LookupOutputShape(KerasTensor input)
    {
        if (OutputMode == "int")
        {
            return input.Shape;
        }

        var dims = input.Shape.ToArray();
        if (OutputMode == "one_hot")
        {
            return dims.Length > 1 && dims[^1] == 1 ? new Shape(dims[..^1].Append(Depth).ToArray()) : new Shape(dims.Append(Depth).ToArray());
        }

        if (dims.Length != 2)
        {
            throw InputError($"output_mode '{OutputMode}' takes tokens of rank 2, (batch, tokens), but got {input.Label} with shape {input.Shape}; Keras' bincount encodes at most rank 2 and a rank-1 input would lose its batch axis.");
        }

        return new Shape(dims[0], Depth);
    }

    /// <summary>The lookup of token texts: indices (row-major), as Keras' <c>_lookup_dense</c>.</summary>
    private protected long[] LookupIndices(string[] values)
    {
        var result = new long[values.Length];
        List<string>? missing = null;
        for (var i = 0; i < values.Length; i++)
        {
            var token = values[i];
            if (MaskToken is not null && token == MaskToken)
            {
                result[i] = OutputMode == "int" ? 0 : long.MaxValue;
            }
            else if (index.TryGetValue(token, out var found))
            {
                result[i] = found;
            }
            else if (NumOovIndices == 0)
            {
                (missing ??= new List<string>()).Add(token);
            }
            else
            {
                result[i] = OovStartIndex + (NumOovIndices == 1 ? 0 : OovBucket(token));
            }
        }

        if (missing is not null)
        {
            throw new ArgumentException($"{KerasName} '{Name}': when num_oov_indices=0 all inputs should be in the vocabulary, found OOV values [{string.Join(", ", missing.Take(10).Select(t => $"'{t}'"))}]; consider setting num_oov_indices=1.");
        }

        return result;
    }

    /// <summary>
    /// The OOV bucket (0 to num_oov_indices - 1) of an unknown token when there are several, as Keras'
    /// <c>_lookup_dense</c>: <c>floormod</c> for integers unless <c>oov_method</c> is <c>farmhash</c>; otherwise the
    /// hash of the token's text (an integer's decimal digits, <c>tf.strings.as_string</c>):
    /// <c>to_hash_bucket_fast</c>, or <c>to_hash_bucket_strong</c> keyed by the salt.
    /// </summary>
    private long OovBucket(string token)
    {
        if (integerTokens && OovMethod != "farmhash")
        {
            var v = long.Parse(token, CultureInfo.InvariantCulture);
            return ((v % NumOovIndices) + NumOovIndices) % NumOovIndices;
        }

        return Salt is null ? Hashing.ToHashBucketFast(token, NumOovIndices) : Hashing.ToHashBucketStrong(token, NumOovIndices, Salt[0], Salt[1]);
    }

    /// <summary>Indices back to tokens (invert), as Keras' inverted table: mask at 0 (with a mask), vocabulary tokens, the OOV token elsewhere.</summary>
    private protected string[] LookupTokens(long[] indices)
    {
        var result = new string[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            var k = indices[i];
            result[i] = MaskToken is not null && k == 0 ? MaskToken
                : k >= TokenStartIndex && k < TokenStartIndex + tokens.Count ? tokens[(int)(k - TokenStartIndex)]
                : OovToken ?? throw new ArgumentException($"{KerasName} '{Name}': index {k} is outside the vocabulary and the layer has no oov_token.");
        }

        return result;
    }

    /// <summary>Encodes looked-up indices as the output mode asks (Keras' <c>encode_categorical_inputs</c>, TensorFlow's bincount for rank 2).</summary>
    private protected Tensor Encode(long[] lookups, long[] dims)
    {
        if (OutputMode == "int")
        {
            return tensor(lookups, dims);
        }

        var depth = Depth ?? throw new InvalidOperationException($"{KerasName} '{Name}': with output_mode '{OutputMode}' and pad_to_max_tokens false, set the layer's vocabulary before calling it: pass a vocabulary or call Adapt.");
        if (OutputMode == "one_hot")
        {
            var outDims = dims.Length > 1 && dims[^1] == 1 ? dims[..^1].Append(depth).ToArray() : dims.Append(depth).ToArray();
            var values = new float[lookups.Length * (long)depth];
            for (var i = 0; i < lookups.Length; i++)
            {
                if (lookups[i] >= 0 && lookups[i] < depth)
                {
                    values[(i * (long)depth) + lookups[i]] = 1f;
                }
            }

            return tensor(values, outDims);
        }

        var width = dims[0] == 0 ? 0 : lookups.Length / dims[0];
        return EncodeRows(Enumerable.Range(0, (int)dims[0]).Select(r => lookups.AsSpan(r * (int)width, (int)width).ToArray()).ToArray());
    }

    /// <summary>multi_hot, count or tf_idf of rows of indices (of any lengths): float32 (rows, depth), as TensorFlow's bincount over each row.</summary>
    internal Tensor EncodeRows(long[][] indexRows)
    {
        var depth = Depth ?? throw new InvalidOperationException($"{KerasName} '{Name}': with output_mode '{OutputMode}' and pad_to_max_tokens false, set the layer's vocabulary before calling it: pass a vocabulary or call Adapt.");
        var rows = indexRows.Length;
        var result = new float[rows * (long)depth];
        for (var r = 0; r < rows; r++)
        {
            foreach (var k in indexRows[r])
            {
                if (k >= 0 && k < depth)
                {
                    result[(r * depth) + k] = OutputMode == "multi_hot" ? 1f : result[(r * depth) + k] + 1f;
                }
            }
        }

        if (OutputMode == "tf_idf")
        {
            var weights = idfWeights ?? throw new InvalidOperationException($"{KerasName} '{Name}': output_mode 'tf_idf' needs idf weights: pass idf_weights with the vocabulary or call Adapt.");
            for (var r = 0; r < rows; r++)
            {
                for (var k = 0; k < depth; k++)
                {
                    result[(r * depth) + k] *= k < weights.Length ? weights[k] : 0f;
                }
            }
        }

        return tensor(result, new[] { (long)rows, depth });
    }

    /// <summary>The config keys IndexLookup writes (Keras 3.16's order), after the base ones.</summary>
    private protected void WriteLookupConfig(JsonObject config, string? vocabularyDtype)
    {
        config["invert"] = Invert;
        config["max_tokens"] = MaxTokens;
        config["num_oov_indices"] = NumOovIndices;
        config["oov_token"] = TokenToJson(OovToken);
        config["mask_token"] = TokenToJson(MaskToken);
        config["output_mode"] = OutputMode;
        config["sparse"] = false;
        config["pad_to_max_tokens"] = PadToMaxTokens;
        if (vocabularyDtype is not null)
        {
            config["vocabulary_dtype"] = vocabularyDtype;
        }

        config["idf_weights"] = InputIdfWeights is null ? null : new JsonArray(InputIdfWeights.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray());
        config["vocabulary"] = InputVocabulary is null ? null : new JsonArray(InputVocabulary.Select(TokenToJson).ToArray());
        config["vocabulary_size"] = FrozenVocabularySize;
        config["oov_method"] = OovMethod;
        config["salt"] = Salt is null ? null : new JsonArray(Salt.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
    }

    /// <summary>
    /// Why a layer read from a file cannot compute what it computed when saved: its config declared a vocabulary
    /// (<c>vocabulary_size</c> beyond the special indices) that neither the config nor the file holds. Null when fine.
    /// </summary>
    internal string? MissingVocabulary() =>
        !hasTable && ConfigVocabularySize is int size && size > TokenStartIndex
            ? $"{ClassName} '{Name}' was saved with a vocabulary of {size} entries (its config's vocabulary_size), but the file holds no vocabulary: its config has \"vocabulary\": null and the layer has no weights in the file (Keras keeps an adapted vocabulary in a lookup table, which the legacy .h5 format does not save). Without it the model cannot turn text into the ids it was trained on. Give it when loading, as a Keras user calls set_vocabulary after load_model: Model.Load(path, vocabularies: new Dictionary<string, Array> {{ [\"{Name}\"] = terms }}) with the layer's get_vocabulary() as saved; or save the model as .keras (the vocabulary goes to assets/.../vocabulary.txt)."
            : null;

    /// <summary>
    /// Gives a layer read from a file the vocabulary the file lacks (see <see cref="MissingVocabulary"/>), as a Keras
    /// user calls <c>set_vocabulary</c> after <c>load_model</c>: string terms for StringLookup and TextVectorization,
    /// long or int values for IntegerLookup, optionally starting with the mask and OOV tokens. The result must have
    /// the size the config declared, so that the ids fit the layers trained on them.
    /// </summary>
    /// <param name="vocabulary">The terms.</param>
    /// <param name="holder">The layer named in messages (a TextVectorization holding this lookup, or this layer).</param>
    /// <exception cref="ArgumentException">The file holds the vocabulary already, the terms are of the wrong type, or they give another size.</exception>
    internal void SetMissingVocabulary(Array vocabulary, Layer holder)
    {
        var who = $"{holder.ClassName} '{holder.Name}'";
        if (MissingVocabulary() is null)
        {
            throw new ArgumentException($"Load: a vocabulary was given for {who}, but the file holds its vocabulary (or declares none); give vocabularies only for the layers the file lacks them for, or call SetVocabulary after loading.", nameof(vocabulary));
        }

        string[] terms = vocabulary switch
        {
            string[] strings when this is StringLookup => strings,
            long[] values when this is IntegerLookup => values.Select(IntText).ToArray(),
            int[] values when this is IntegerLookup => values.Select(v => IntText(v)).ToArray(),
            _ => throw new ArgumentException($"Load: the vocabulary given for {who} is a {vocabulary.GetType().Name}; it takes {(this is IntegerLookup ? "long[] or int[]" : "string[]")} terms.", nameof(vocabulary)),
        };
        var declared = ConfigVocabularySize!.Value;
        SetVocabularyCore(terms, null, recordInput: false);
        if (VocabularySize() is var given && given != declared)
        {
            // The loading model is disposed on this error, so the layer's new vocabulary goes with it.
            throw new ArgumentException($"Load: the vocabulary given for {who} makes {given} ids with the special tokens, but the file's config declares vocabulary_size {declared}: the layers after it were trained on {declared} ids. Give the vocabulary the model was saved with (Keras' get_vocabulary() of the adapted layer).", nameof(vocabulary));
        }
    }

    /// <summary>The vocabulary Keras writes to <c>assets/&lt;layer path&gt;/vocabulary.txt</c> (Keras' <c>save_assets</c>), or null when the config holds it.</summary>
    internal string? AssetVocabulary() => InputVocabulary is not null || !hasTable ? null : string.Join("\n", GetVocabularyText(true));

    /// <summary>
    /// Keras' <c>load_assets</c>: the vocabulary from <c>vocabulary.txt</c> (trailing empty lines dropped). With
    /// <c>tf_idf</c> the idf weights must have been read from the weights file first (Keras' <c>load_own_variables</c>
    /// runs before <c>load_assets</c>, which passes them to <c>set_vocabulary</c>): one weight per line, or, with
    /// <c>pad_to_max_tokens</c>, <c>max_tokens</c> weights (the form Keras saves; Keras 3.16's own <c>load_assets</c>
    /// refuses that length when the vocabulary is shorter, this library uses the weights as saved).
    /// </summary>
    /// <param name="text">The file's text.</param>
    /// <param name="holder">The layer named in messages (a TextVectorization for its inner lookup).</param>
    /// <param name="file">The model file, for messages.</param>
    /// <param name="idfEntry">Where the idf weights are in the weights file, for messages.</param>
    /// <exception cref="KerasFileException">tf_idf without idf weights in the file, or idf weights of another length.</exception>
    internal void LoadAssetVocabulary(string text, Layer holder, string file, string idfEntry)
    {
        if (InputVocabulary is not null)
        {
            return;
        }

        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        if (OutputMode != "tf_idf")
        {
            SetVocabularyCore(lines, null, recordInput: false);
            return;
        }

        var stored = idfWeights ?? throw new KerasFileException(file,
            $"{holder.ClassName} '{holder.Name}' (output_mode 'tf_idf') has a learned vocabulary of {lines.Count} entries in the assets but no idf weights in the weights file: Keras' save_own_variables stores them at '{idfEntry}' (load_own_variables reads them there). The entry is missing; the file is incomplete.");
        if (stored.Length == lines.Count)
        {
            SetVocabularyCore(lines, stored.Select(w => (double)w).ToArray(), recordInput: false);
        }
        else if (PadToMaxTokens && MaxTokens is int max && stored.Length == max && lines.Count <= max)
        {
            SetVocabularyCore(lines, null, recordInput: false, paddedIdf: stored);
        }
        else
        {
            throw new KerasFileException(file,
                $"{holder.ClassName} '{holder.Name}': the idf weights at '{idfEntry}' have {stored.Length} values, but the vocabulary in the assets has {lines.Count} entries; Keras' set_vocabulary needs one weight per entry{(PadToMaxTokens && MaxTokens is int m ? $" (or, saved with pad_to_max_tokens, max_tokens = {m})" : string.Empty)}.");
        }
    }

    /// <summary>
    /// Keras' <c>save_own_variables</c>: with <c>tf_idf</c>, the idf weights in use (padded as Keras pads them),
    /// stored as <c>vars/idf_weights</c>; null in the other modes (nothing stored).
    /// </summary>
    /// <param name="holder">The layer named in messages.</param>
    /// <exception cref="NotSupportedException">tf_idf with no idf weights yet (Keras' save_own_variables fails on such a layer: it reads <c>idf_weights_const</c>, set only by a vocabulary or adapt).</exception>
    internal float[]? OwnIdfWeights(Layer holder) => OutputMode != "tf_idf" ? null : idfWeights?.ToArray()
        ?? throw new NotSupportedException($"{holder.ClassName} '{holder.Name}': output_mode 'tf_idf' but no idf weights yet (the layer was neither adapted nor given a vocabulary with idf_weights); Keras 3.16 cannot save such a layer either (its save_own_variables stores the idf weights, which do not exist yet). Call Adapt, or give vocabulary and idfWeights, before saving.");

    /// <summary>
    /// Why idf weights read from a weights file (Keras' <c>load_own_variables</c>) cannot go to this layer, or null:
    /// not a rank-1 floating-point array, or (when the layer already has idf weights, given or adapted) not of their
    /// length (Keras assigns them to the existing variable, which keeps its shape).
    /// </summary>
    internal string? CheckStoredIdf(H5Array stored, Layer holder)
    {
        if (!stored.IsFloat || stored.Shape.Length != 1 || stored.Shape[0] == 0)
        {
            return $"{holder.ClassName} '{holder.Name}': '{stored.Path}' has shape {stored.ShapeText}{(stored.IsFloat ? string.Empty : " (integers)")}; the idf weights are a non-empty rank-1 float array (Keras' save_own_variables stores the float32 idf_weights).";
        }

        if (idfWeights is { } current && hasTable && current.Length != stored.Shape[0])
        {
            return $"{holder.ClassName} '{holder.Name}': '{stored.Path}' holds {stored.Shape[0]} idf weights, but the layer's vocabulary has {current.Length} (special indices{(PadToMaxTokens ? " and padding to max_tokens" : string.Empty)} included).";
        }

        return null;
    }

    /// <summary>Keras' <c>load_own_variables</c>: takes idf weights read from a file (checked by <see cref="CheckStoredIdf"/>).</summary>
    internal void LoadStoredIdf(float[] values)
    {
        idfWeights = values.ToArray();
    }

    /// <summary>ONNX: refused; the string layers have no ONNX form here (see docs/saving.md).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) => throw StringLayersOnnx(this);

    /// <summary>The refusal of the text layers' ONNX export, saying how to split the model.</summary>
    internal static NotSupportedException StringLayersOnnx(Layer layer) => OnnxGraph.Unsupported(layer,
        "has no ONNX form in this library (it maps text through a vocabulary). Split the model: run the text layers in C# (a model from the string input to this layer's output, or layer.Invoke(texts)) and export the numeric rest, a model whose input is this layer's output, e.g. new Model(new Input(shape, DType.Int64), rest).");

    /// <summary>Reads the config keys IndexLookup shares (<c>oov_method</c> and <c>salt</c> by <see cref="ReadOovMethod"/>/<see cref="ReadSalt"/>); refuses sparse.</summary>
    private protected static void ReadCommon(LayerConfig config)
    {
        config.RequireDefault("sparse", false);
        var dtype = LayerConfig.DTypeName(config.GetRaw("dtype"));
        if (dtype is not (null or "float32" or "string" or "int64" or "int32"))
        {
            throw config.Error($"dtype '{dtype}' is not supported; a lookup layer reads tokens and computes int64 or float32.");
        }
    }

    /// <summary>A config's <c>oov_method</c>: absent (tf.keras 2 has no such key) is Keras' default <c>floormod</c>.</summary>
    private protected static string ReadOovMethod(LayerConfig config) => config.GetRaw("oov_method") switch
    {
        null => "floormod",
        JsonValue v when v.TryGetValue<string>(out var method) => method,
        var other => throw config.Error($"oov_method is {other.ToJsonString()}; expected 'floormod' or 'farmhash'."),
    };

    /// <summary>
    /// A config's <c>salt</c>: null or absent (tf.keras 2 has no such key) for none, a list of 2 integers (what Keras'
    /// get_config writes), or a single integer <c>s</c> (Keras' <c>[s, s]</c>).
    /// </summary>
    private protected static long[]? ReadSalt(LayerConfig config) => config.GetRaw("salt") switch
    {
        null => null,
        JsonValue v when v.TryGetValue<long>(out var s) => new[] { s, s },
        JsonArray { Count: 2 } pair when pair.All(p => p is JsonValue x && x.TryGetValue<long>(out _)) => pair.Select(p => p!.GetValue<long>()).ToArray(),
        var other => throw config.Error($"the salt can only be a list of 2 integers or a single integer; got {other.ToJsonString()}."),
    };

    /// <summary>Compares two strings by their UTF-8 bytes (NumPy's order for bytes).</summary>
    private protected static int CompareUtf8(string a, string b)
    {
        var x = Encoding.UTF8.GetBytes(a);
        var y = Encoding.UTF8.GetBytes(b);
        return ((ReadOnlySpan<byte>)x).SequenceCompareTo(y);
    }

    /// <summary>Invariant decimal text of an integer token.</summary>
    private protected static string IntText(long value) => value.ToString(CultureInfo.InvariantCulture);
}
