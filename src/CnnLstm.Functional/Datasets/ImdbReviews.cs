using System.Globalization;
using System.IO.Compression;

namespace KerasStyle.Datasets;

/// <summary>
/// Reads the IMDB reviews as shipped in <c>shared/data/imdb</c>: gzip'd tab-separated text with the header
/// <c>label	id	rating	text</c>.
/// </summary>
public static class ImdbReviews
{
    /// <summary>The expected header line.</summary>
    public const string Header = "label\tid\trating\ttext";

    /// <summary>Reads every review of a split file (<c>imdb_train.tsv.gz</c> or <c>imdb_test.tsv.gz</c>).</summary>
    /// <param name="path">The .tsv.gz (or plain .tsv) file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is malformed; the message names the file and line.</exception>
    public static IReadOnlyList<ImdbReview> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IMDB file '{path}' does not exist; expected a tab-separated file with header '{Header.Replace("\t", "\\t", StringComparison.Ordinal)}'.", path);
        }

        using var file = File.OpenRead(path);
        using Stream data = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(data);
        var reviews = new List<ImdbReview>();
        var lineNumber = 1;
        try
        {
            if (reader.ReadLine() != Header)
            {
                throw Malformed(path, 1, $"the header is not '{Header.Replace("\t", "\\t", StringComparison.Ordinal)}'");
            }

            while (reader.ReadLine() is { } line)
            {
                lineNumber++;
                var fields = line.Split('\t', 4);
                if (fields.Length != 4
                    || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var label) || label is not (0 or 1)
                    || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                    || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var rating) || rating is < 1 or > 10)
                {
                    throw Malformed(path, lineNumber, "expected label (0 or 1), id, rating (1-10) and text separated by tabs");
                }

                reviews.Add(new ImdbReview(label, id, rating, fields[3]));
            }
        }
        catch (InvalidDataException e) when (e.InnerException is null && !e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // A corrupt gzip stream: say where.
            throw Malformed(path, lineNumber, e.Message);
        }

        return reviews;
    }

    private static InvalidDataException Malformed(string path, int line, string what) => new($"{path}:{line}: {what}.");
}
