using System.Globalization;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Streams epoch results to a CSV file, as Keras' <c>CSVLogger</c>: a header <c>epoch,</c> then the log keys in
/// sorted order, one row per epoch.
/// </summary>
public sealed class CSVLogger : Callback
{
    private StreamWriter? writer;
    private string[]? keys;

    /// <summary>Creates the logger.</summary>
    /// <param name="filename">The CSV file.</param>
    /// <param name="separator">The field separator.</param>
    /// <param name="append">True to append to an existing file (no second header).</param>
    public CSVLogger(string filename, string separator = ",", bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filename);
        ArgumentException.ThrowIfNullOrEmpty(separator);
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

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs)
    {
        var hasHeader = Append && File.Exists(Filename) && new FileInfo(Filename).Length > 0;
        writer = new StreamWriter(Filename, Append) { NewLine = "\n" };
        keys = null;
        if (hasHeader)
        {
            keys = Array.Empty<string>();
        }
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        if (writer is null)
        {
            return;
        }

        if (keys is null || keys.Length == 0)
        {
            var writeHeader = keys is null;
            keys = logs.Keys.Order(StringComparer.Ordinal).ToArray();
            if (writeHeader)
            {
                writer.WriteLine(string.Join(Separator, new[] { "epoch" }.Concat(keys)));
            }
        }

        var values = keys.Select(k => logs.TryGetValue(k, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "NA");
        writer.WriteLine(string.Join(Separator, new[] { epoch.ToString(CultureInfo.InvariantCulture) }.Concat(values)));
        writer.Flush();
    }

    /// <inheritdoc/>
    public override void OnTrainEnd(Dictionary<string, double> logs)
    {
        writer?.Dispose();
        writer = null;
    }
}
