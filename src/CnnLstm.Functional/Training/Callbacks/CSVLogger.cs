using System.Globalization;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Streams epoch results to a CSV file, as Keras' <c>CSVLogger</c>: a header <c>epoch,</c> then the log keys in
/// sorted order, one row per epoch. The file is opened for each row and closed again (Keras keeps it open), so a
/// <c>Fit</c> ended by an exception or a cancellation leaves no open handle and every finished epoch's row.
/// </summary>
public sealed class CSVLogger : Callback
{
    private bool started;
    private string[]? keys;

    /// <summary>Creates the logger.</summary>
    /// <param name="filename">The CSV file.</param>
    /// <param name="separator">The field separator.</param>
    /// <param name="append">True to append to an existing file (no second header).</param>
    /// <exception cref="ArgumentException"><paramref name="filename"/> is empty, an existing folder, or inside a file;
    /// <paramref name="separator"/> is empty.</exception>
    public CSVLogger(string filename, string separator = ",", bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filename);
        ArgumentException.ThrowIfNullOrEmpty(separator);
        if (CallbackPaths.FileProblem(filename) is { } problem)
        {
            throw new ArgumentException($"CSVLogger: cannot write '{filename}': {problem}.", nameof(filename));
        }

        Filename = filename;
        Separator = separator;
        Append = append;
    }

    /// <summary>The CSV file.</summary>
    public string Filename { get; }

    /// <summary>The field separator.</summary>
    public string Separator { get; }

    /// <summary>Whether rows are appended to an existing file.</summary>
    public bool Append { get; }

    /// <summary>Creates (or, without <see cref="Append"/>, empties) the file, before any epoch trains.</summary>
    /// <exception cref="IOException">The file cannot be written (its folder is missing, it became a folder, ...).</exception>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        var hasHeader = Append && File.Exists(Filename) && new FileInfo(Filename).Length > 0;
        Write(Append ? FileMode.Append : FileMode.Create, string.Empty);
        started = true;
        keys = hasHeader ? Array.Empty<string>() : null;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        if (!started)
        {
            return;
        }

        var text = new System.Text.StringBuilder();
        if (keys is null || keys.Length == 0)
        {
            var writeHeader = keys is null;
            keys = logs.Keys.Order(StringComparer.Ordinal).ToArray();
            if (writeHeader)
            {
                text.Append(string.Join(Separator, new[] { "epoch" }.Concat(keys))).Append('\n');
            }
        }

        var values = keys.Select(k => logs.TryGetValue(k, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "NA");
        text.Append(string.Join(Separator, new[] { epoch.ToString(CultureInfo.InvariantCulture) }.Concat(values))).Append('\n');
        Write(FileMode.Append, text.ToString());
    }

    /// <inheritdoc/>
    public override void OnTrainEnd(Dictionary<string, double> logs) => started = false;

    private void Write(FileMode mode, string text)
    {
        try
        {
            using var writer = new StreamWriter(new FileStream(Filename, mode, FileAccess.Write));
            writer.Write(text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"CSVLogger: cannot write '{Filename}': {e.Message}", e);
        }
    }
}
