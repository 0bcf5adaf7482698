using System.Buffers.Binary;
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
        var reviews = new List<ImdbReview>();
        ForEach(path, reviews.Add);
        return reviews;
    }

    /// <summary>Reads a split file review by review, without keeping them (the streaming reader's first pass).</summary>
    /// <param name="path">The .tsv.gz (or plain .tsv) file.</param>
    /// <param name="each">Called with each review, in file order.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is malformed; the message names the file and line.</exception>
    internal static void ForEach(string path, Action<ImdbReview> each)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IMDB file '{path}' does not exist; expected a tab-separated file with header '{Header.Replace("\t", "\\t", StringComparison.Ordinal)}'.", path);
        }

        using var file = File.OpenRead(path);
        var gzipped = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        using Stream data = gzipped ? new CountingStream(new GZipStream(file, CompressionMode.Decompress)) : file;
        using var reader = new StreamReader(data);
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
                each(ParseLine(path, lineNumber, line));
            }

            if (gzipped)
            {
                // GZipStream ends silently at the end of a truncated file; the gzip trailer's size tells.
                RequireWholeGzip(path, file, ((CountingStream)data).Count, lineNumber);
            }
        }
        catch (InvalidDataException e) when (e.InnerException is null && !e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // A corrupt gzip stream: say where.
            throw Malformed(path, lineNumber, e.Message);
        }
    }

    /// <summary>One data line: label (0 or 1), id, rating (1-10) and text, separated by tabs.</summary>
    internal static ImdbReview ParseLine(string path, int lineNumber, string line)
    {
        var fields = line.Split('\t', 4);
        if (fields.Length != 4
            || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var label) || label is not (0 or 1)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var rating) || rating is < 1 or > 10)
        {
            throw Malformed(path, lineNumber, "expected label (0 or 1), id, rating (1-10) and text separated by tabs");
        }

        return new ImdbReview(label, id, rating, fields[3]);
    }

    private static InvalidDataException Malformed(string path, int line, string what) => new($"{path}:{line}: {what}.");

    // The last 4 bytes of a gzip file hold the uncompressed size modulo 2^32 (ISIZE, RFC 1952).
    private static void RequireWholeGzip(string path, FileStream file, long decompressed, int lineNumber)
    {
        Span<byte> trailer = stackalloc byte[4];
        file.Seek(-Math.Min(4, file.Length), SeekOrigin.End);
        if (file.Length < 4 || file.ReadAtLeast(trailer, 4, throwOnEndOfStream: false) < 4
            || BinaryPrimitives.ReadUInt32LittleEndian(trailer) != (uint)decompressed)
        {
            throw Malformed(path, lineNumber, $"the gzip data ends after {decompressed} bytes but its trailer gives another size: the file is truncated (or not a single gzip member)");
        }
    }

    /// <summary>A read-only pass-through that counts the bytes read.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Counted(int read)
        {
            Count += read;
            return read;
        }
    }
}
