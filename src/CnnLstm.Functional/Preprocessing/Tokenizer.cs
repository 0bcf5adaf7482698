namespace KerasStyle.Preprocessing;

/// <summary>
/// Keras' <c>Tokenizer</c>: fits a word index on texts (most frequent word = 1, ties in order of first appearance)
/// and turns texts into id sequences. With <c>numWords</c> only ids below it are kept; with an <c>oovToken</c> the
/// token takes id 1 and stands for dropped or unknown words.
/// </summary>
public sealed class Tokenizer
{
    private readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);
    private readonly List<string> firstSeen = new();
    private Dictionary<string, int> index = new(StringComparer.Ordinal);

    /// <summary>Creates a tokenizer.</summary>
    /// <param name="numWords">Keep ids below this; null keeps every word.</param>
    /// <param name="oovToken">A token for out-of-vocabulary words, or null to drop them.</param>
    /// <param name="filters">Characters treated as separators.</param>
    /// <param name="lower">Whether to lower-case.</param>
    public Tokenizer(int? numWords = null, string? oovToken = null, string filters = Text.DefaultFilters, bool lower = true)
    {
        if (numWords is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numWords), numWords, "Tokenizer: numWords must be positive.");
        }

        NumWords = numWords;
        OovToken = oovToken;
        Filters = filters ?? throw new ArgumentNullException(nameof(filters));
        Lower = lower;
    }

    /// <summary>Ids are kept below this; null keeps all.</summary>
    public int? NumWords { get; }

    /// <summary>The out-of-vocabulary token, if any.</summary>
    public string? OovToken { get; }

    /// <summary>Separator characters.</summary>
    public string Filters { get; }

    /// <summary>Whether texts are lower-cased.</summary>
    public bool Lower { get; }

    /// <summary>Word to id, 1 for the most frequent (or for the OOV token).</summary>
    public IReadOnlyDictionary<string, int> WordIndex => index;

    /// <summary>Word to count over the fitted texts.</summary>
    public IReadOnlyDictionary<string, int> WordCounts => counts;

    /// <summary>Counts the words of <paramref name="texts"/> and rebuilds the index.</summary>
    /// <param name="texts">The texts.</param>
    public void FitOnTexts(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        foreach (var text in texts)
        {
            foreach (var word in Text.TextToWordSequence(text ?? throw new ArgumentNullException(nameof(texts), "Tokenizer: a text is null."), Filters, Lower))
            {
                if (counts.TryGetValue(word, out var c))
                {
                    counts[word] = c + 1;
                }
                else
                {
                    counts[word] = 1;
                    firstSeen.Add(word);
                }
            }
        }

        // OrderBy is stable: ties keep first-seen order, as Keras' sort of an ordered dict.
        var sorted = firstSeen.OrderByDescending(w => counts[w]).ToList();
        if (OovToken is not null)
        {
            sorted.Remove(OovToken);
            sorted.Insert(0, OovToken);
        }

        index = sorted.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i + 1, StringComparer.Ordinal);
    }

    /// <summary>Turns each text into word ids.</summary>
    /// <param name="texts">The texts.</param>
    public IReadOnlyList<int[]> TextsToSequences(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var oovId = OovToken is not null && index.TryGetValue(OovToken, out var id) ? id : (int?)null;
        var result = new List<int[]>();
        foreach (var text in texts)
        {
            var sequence = new List<int>();
            foreach (var word in Text.TextToWordSequence(text ?? throw new ArgumentNullException(nameof(texts), "Tokenizer: a text is null."), Filters, Lower))
            {
                if (index.TryGetValue(word, out var i) && (NumWords is null || i < NumWords))
                {
                    sequence.Add(i);
                }
                else if (oovId is int oov)
                {
                    sequence.Add(oov);
                }
            }

            result.Add(sequence.ToArray());
        }

        return result;
    }
}
