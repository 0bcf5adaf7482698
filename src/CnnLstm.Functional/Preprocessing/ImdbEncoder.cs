using System.Text.Json;

namespace KerasStyle.Preprocessing;

/// <summary>
/// Encodes reviews the way Keras' <c>imdb.load_data</c> does: each word's id is its rank in the IMDB word index plus
/// 3; 0 is padding, 1 starts every review, 2 stands for words that are unknown or whose id is not below
/// <see cref="NumWords"/>.
/// </summary>
public sealed class ImdbEncoder
{
    /// <summary>The padding id.</summary>
    public const int PadId = 0;

    /// <summary>The id that starts every review.</summary>
    public const int StartId = 1;

    /// <summary>The id of out-of-vocabulary words.</summary>
    public const int OovId = 2;

    /// <summary>Ranks are shifted by this much.</summary>
    public const int IndexFrom = 3;

    private readonly IReadOnlyDictionary<string, int> wordIndex;

    /// <summary>Creates an encoder over a word index (word to rank, rank 1 = most frequent).</summary>
    /// <param name="wordIndex">The word index.</param>
    /// <param name="numWords">Keep ids below this (Keras' <c>num_words</c>); null keeps every word.</param>
    public ImdbEncoder(IReadOnlyDictionary<string, int> wordIndex, int? numWords = null)
    {
        ArgumentNullException.ThrowIfNull(wordIndex);
        if (numWords is <= IndexFrom)
        {
            throw new ArgumentOutOfRangeException(nameof(numWords), numWords, $"ImdbEncoder: numWords must be above {IndexFrom}.");
        }

        this.wordIndex = wordIndex;
        NumWords = numWords;
    }

    /// <summary>Ids are kept below this; null keeps all.</summary>
    public int? NumWords { get; }

    /// <summary>Reads the Keras IMDB word index JSON (<c>imdb_word_index.json</c>).</summary>
    /// <param name="path">The file.</param>
    public static IReadOnlyDictionary<string, int> LoadWordIndex(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IMDB word index '{path}' does not exist; expected the Keras imdb_word_index.json.", path);
        }

        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
                ?? throw new InvalidDataException($"IMDB word index '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"IMDB word index '{path}' is not a JSON object of word to rank (line {e.LineNumber + 1}): {e.Message}", e);
        }
    }

    /// <summary>Encodes one review: the start id, then one id per word.</summary>
    /// <param name="review">The review text.</param>
    public int[] Encode(string review)
    {
        var words = Text.TextToWordSequence(review);
        var ids = new int[words.Count + 1];
        ids[0] = StartId;
        for (var i = 0; i < words.Count; i++)
        {
            ids[i + 1] = wordIndex.TryGetValue(words[i], out var rank) && (NumWords is null || rank + IndexFrom < NumWords)
                ? rank + IndexFrom
                : OovId;
        }

        return ids;
    }
}
