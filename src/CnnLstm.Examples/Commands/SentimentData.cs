using KerasStyle.Datasets;
using KerasStyle.Preprocessing;

namespace KerasStyle.Examples.Commands;

/// <summary>IMDB files and the Keras encoding shared by the sentiment and predict commands.</summary>
internal static class SentimentData
{
    public const string TrainFile = "imdb/imdb_train.tsv.gz";
    public const string TestFile = "imdb/imdb_test.tsv.gz";
    public const string WordIndexFile = "imdb/imdb_word_index.json";
    public const int MaxFeatures = 20000;
    public const int MaxLen = 100;

    public static ImdbEncoder Encoder(string folder) =>
        new(ImdbEncoder.LoadWordIndex(Path.Combine(folder, WordIndexFile)), numWords: MaxFeatures);

    /// <summary>Reviews encoded and padded as Keras' imdb example: ids below 20,000, the last 100 tokens kept.</summary>
    public static int[,] Encode(ImdbEncoder encoder, IEnumerable<string> texts) =>
        Sequences.PadSequences(texts.Select(encoder.Encode).ToArray(), maxLen: MaxLen);

    /// <summary>A split, shuffled with the seed (the files are sorted by label), cut to <paramref name="limit"/> if given.</summary>
    public static IReadOnlyList<ImdbReview> Load(string folder, string file, int seed, int? limit)
    {
        var reviews = ImdbReviews.Read(Path.Combine(folder, file)).ToArray();
        new Random(seed).Shuffle(reviews);
        return limit is int n && n < reviews.Length ? reviews[..n] : reviews;
    }
}
