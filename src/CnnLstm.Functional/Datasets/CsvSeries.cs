using System.Globalization;

namespace KerasStyle.Datasets;

/// <summary>
/// Reads a two-column CSV series such as <c>airline-passengers.csv</c> (<c>"Month","Passengers"</c>) or
/// <c>daily-min-temperatures.csv</c>: a header line, then a quoted label and a number per line.
/// </summary>
public static class CsvSeries
{
    /// <summary>Reads the labels (first column) and values (second column).</summary>
    /// <param name="path">The CSV file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is malformed; the message names the file and line.</exception>
    public static (IReadOnlyList<string> Labels, IReadOnlyList<double> Values) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Series file '{path}' does not exist; expected a CSV with a header and lines of \"label\",value.", path);
        }

        var labels = new List<string>();
        var values = new List<double>();
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (lineNumber == 1 || line.Length == 0)
            {
                continue;
            }

            var comma = line.LastIndexOf(',');
            var label = comma <= 0 ? null : Label(line[..comma]);
            if (label is null || !double.TryParse(line[(comma + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected \"label\",number but got '{line}'.");
            }

            labels.Add(label);
            values.Add(value);
        }

        if (values.Count == 0)
        {
            throw new InvalidDataException($"{path}: no data lines after the header.");
        }

        return (labels, values);
    }

    // The first column: a quoted label (which may hold commas) or a bare one without commas or quotes; null when
    // it is neither, e.g. when a line has more than two columns.
    private static string? Label(string field)
    {
        var quoted = field.Length >= 2 && field[0] == '"' && field[^1] == '"';
        var label = quoted ? field[1..^1] : field;
        return label.Contains('"', StringComparison.Ordinal) || (!quoted && label.Contains(',', StringComparison.Ordinal)) ? null : label;
    }
}
