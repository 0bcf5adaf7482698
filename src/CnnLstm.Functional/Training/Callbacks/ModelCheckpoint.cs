using System.Globalization;
using System.Text;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Saves the model after each epoch, as Keras' <c>ModelCheckpoint</c>. The path may hold Keras placeholders such as
/// <c>model.{epoch:02d}-{val_loss:.2f}.keras</c>. By default the whole model is saved as a Keras 3 <c>.keras</c>
/// file (see <see cref="Models.Model.Save"/>); with <c>saveWeightsOnly</c> only the weights, as <c>.weights.h5</c>
/// (Keras 3 layout) or <c>.h5</c> (Keras 2 layout, see <see cref="Models.Model.SaveWeights"/>). Every file is written
/// atomically.
/// </summary>
public sealed class ModelCheckpoint : Callback
{
    /// <summary>Widths and precisions above this are refused: a file name is at most 255 bytes.</summary>
    private const int MaxDigits = 100;

    private readonly Monitor monitor;
    private readonly IReadOnlyList<Part> pattern;
    private double best;

    /// <summary>Creates the callback; the path pattern and every argument are checked here, not after the first epoch.</summary>
    /// <param name="filepath">Where to save; may contain <c>{epoch}</c> and <c>{key:format}</c> placeholders (Python's
    /// <c>str.format</c>, with <c>{{</c> and <c>}}</c> for braces). Must end in <c>.keras</c>, or with
    /// <paramref name="saveWeightsOnly"/> in <c>.weights.h5</c> or <c>.h5</c>.</param>
    /// <param name="monitor">The quantity compared when <paramref name="saveBestOnly"/> is set.</param>
    /// <param name="saveBestOnly">Save only when the monitored quantity improves.</param>
    /// <param name="saveWeightsOnly">Save only the weights instead of the whole model.</param>
    /// <param name="mode"><c>auto</c>, <c>min</c> or <c>max</c>.</param>
    /// <param name="verbose">0 quiet, 1 (or more) to print each save.</param>
    /// <exception cref="ArgumentException">The path has the wrong extension, a placeholder this library cannot fill
    /// (see <see cref="FormatPath"/>), stray braces, or names an existing folder or a folder inside a file; the
    /// monitor is empty or the mode unknown.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="verbose"/> is negative.</exception>
    public ModelCheckpoint(string filepath, string monitor = "val_loss", bool saveBestOnly = false, bool saveWeightsOnly = false,
        string mode = "auto", int verbose = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(filepath);
        ArgumentOutOfRangeException.ThrowIfNegative(verbose);
        var extension = Path.GetExtension(filepath).ToLowerInvariant();
        if (saveWeightsOnly && extension is not (".h5" or ".hdf5"))
        {
            throw new ArgumentException($"ModelCheckpoint: with saveWeightsOnly the path must end in .weights.h5 (Keras 3 layout) or .h5 (Keras 2 layout), got '{filepath}'.", nameof(filepath));
        }

        if (!saveWeightsOnly && extension != ".keras")
        {
            throw new ArgumentException($"ModelCheckpoint: the path must end in .keras to save the whole model (or pass saveWeightsOnly: true for .weights.h5 / .h5), got '{filepath}'.", nameof(filepath));
        }

        pattern = Parse(filepath);
        if (pattern.All(p => p.Key is null) && CallbackPaths.FileProblem(filepath) is { } problem)
        {
            throw new ArgumentException($"ModelCheckpoint: cannot save to '{filepath}': {problem}.", nameof(filepath));
        }

        Filepath = filepath;
        this.monitor = new Monitor(nameof(ModelCheckpoint), monitor, mode);
        SaveBestOnly = saveBestOnly;
        SaveWeightsOnly = saveWeightsOnly;
        Verbose = verbose;
    }

    /// <summary>The path pattern.</summary>
    public string Filepath { get; }

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; }

    /// <summary>Whether only the weights are saved (otherwise the whole model).</summary>
    public bool SaveWeightsOnly { get; }

    /// <summary>1 to print each save.</summary>
    public int Verbose { get; }

    /// <summary>The files written, in order.</summary>
    public List<string> Saved { get; } = new();

    /// <summary>
    /// Fills Keras placeholders as Python's <c>str.format(epoch=epoch + 1, **logs)</c>: <c>{epoch}</c> is 1-based;
    /// <c>{key}</c> prints a log value as Python prints a float; formats <c>0Nd</c> or <c>Nd</c> (integers: the epoch),
    /// <c>.Nf</c> and <c>.Ne</c> (N up to 100); <c>{{</c> and <c>}}</c> are braces.
    /// </summary>
    /// <param name="pattern">The path pattern.</param>
    /// <param name="epoch">The epoch index, from 0.</param>
    /// <param name="logs">The epoch logs.</param>
    /// <exception cref="ArgumentException">The pattern cannot be filled (checked by the constructor), or names a key
    /// that is not in the logs.</exception>
    public static string FormatPath(string pattern, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(logs);
        return Format(pattern, Parse(pattern), epoch, logs);
    }

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs) => best = monitor.Worst;

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        var path = Format(Filepath, pattern, epoch, logs);
        if (SaveBestOnly)
        {
            if (!monitor.TryGet(logs, nameof(ModelCheckpoint), out var current) || !monitor.Improves(current, best, 0))
            {
                if (Verbose > 0)
                {
                    Console.WriteLine($"\nEpoch {epoch + 1:D5}: {monitor.Name} did not improve from {Monitor.Fixed(best, 5)}");
                }

                return;
            }

            if (Verbose > 0)
            {
                Console.WriteLine($"\nEpoch {epoch + 1:D5}: {monitor.Name} improved from {Monitor.Fixed(best, 5)} to {Monitor.Fixed(current, 5)}, saving model to {path}");
            }

            best = current;
        }
        else if (Verbose > 0)
        {
            Console.WriteLine($"\nEpoch {epoch + 1:D5}: saving model to {path}");
        }

        // As Keras: a filled-in path that is a folder is refused, and missing folders are made.
        if (CallbackPaths.FileProblem(path) is { } problem)
        {
            throw new IOException($"ModelCheckpoint: cannot save epoch {epoch + 1} to '{path}': {problem}. Please specify a non-directory filepath.");
        }

        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        if (SaveWeightsOnly)
        {
            TrainingModel.SaveWeights(path);
        }
        else
        {
            TrainingModel.Save(path);
        }

        Saved.Add(path);
    }

    /// <summary>Fills a parsed pattern.</summary>
    private static string Format(string text, IReadOnlyList<Part> parts, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        var result = new StringBuilder();
        foreach (var part in parts)
        {
            if (part.Key is not { } key)
            {
                result.Append(part.Literal);
                continue;
            }

            var value = key == "epoch" ? epoch + 1
                : logs.TryGetValue(key, out var v) ? v
                : throw new ArgumentException($"ModelCheckpoint: the path '{text}' uses '{{{key}}}', which is not in the logs ({string.Join(", ", logs.Keys)}).");
            result.Append(part.Kind switch
            {
                'd' => Integer(double.IsFinite(value) ? (long)value : throw new ArgumentException($"ModelCheckpoint: '{{{key}}}' in '{text}' is {PythonFloat.Repr(value)}, which cannot be written as an integer.")
                    , part.Width, part.ZeroPad),
                'f' => double.IsFinite(value) ? value.ToString("F" + part.Precision, CultureInfo.InvariantCulture) : PythonFloat.Repr(value),
                'e' => double.IsFinite(value) ? Exponent(value, part.Precision) : PythonFloat.Repr(value),
                _ => key == "epoch" ? ((int)value).ToString(CultureInfo.InvariantCulture) : PythonFloat.Repr(value),
            });
        }

        return result.ToString();
    }

    /// <summary>Python's <c>'{:0Nd}'</c> / <c>'{:Nd}'</c>: at least N characters, the sign counted, zeros after the sign or spaces before it.</summary>
    private static string Integer(long value, int width, bool zeroPad)
    {
        var digits = Math.Abs((decimal)value).ToString(CultureInfo.InvariantCulture);
        var sign = value < 0 ? "-" : string.Empty;
        return zeroPad ? sign + digits.PadLeft(width - sign.Length, '0') : (sign + digits).PadLeft(width);
    }

    /// <summary>Python's <c>'{:.Ne}'</c>: N decimals and an exponent of at least two digits (<c>1.50e-05</c>).</summary>
    private static string Exponent(double value, int precision)
    {
        var text = value.ToString("E" + precision, CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        var exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{text[..e]}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):D2}");
    }

    /// <summary>Splits a pattern as Python's <c>str.format</c> reads it, refusing what this library cannot fill.</summary>
    private static List<Part> Parse(string text)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '}')
            {
                literal.Append(i + 1 < text.Length && text[i + 1] == '}' ? text[i++] : throw Bad(text, "a single '}' (write '}}' for a brace)"));
                continue;
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == '{')
            {
                literal.Append(text[i++]);
                continue;
            }

            var close = text.IndexOf('}', i);
            if (close < 0)
            {
                throw Bad(text, "a '{' without its '}' (write '{{' for a brace)");
            }

            parts.Add(new Part(literal.ToString(), null, ' ', 0, 0, false));
            literal.Clear();
            parts.Add(Field(text, text[(i + 1)..close]));
            i = close;
        }

        parts.Add(new Part(literal.ToString(), null, ' ', 0, 0, false));
        return parts;
    }

    /// <summary>One placeholder: a log key (or <c>epoch</c>) and an optional format.</summary>
    private static Part Field(string text, string field)
    {
        var colon = field.IndexOf(':', StringComparison.Ordinal);
        var key = colon < 0 ? field : field[..colon];
        var spec = colon < 0 ? string.Empty : field[(colon + 1)..];
        if (key.Length == 0 || char.IsDigit(key[0]) || !key.All(ch => char.IsLetterOrDigit(ch) || ch == '_'))
        {
            throw Bad(text, $"the placeholder '{{{field}}}': expected a log name such as {{epoch}} or {{val_loss:.2f}}");
        }

        if (spec.Length == 0)
        {
            return new Part(string.Empty, key, ' ', 0, 0, false);
        }

        var kind = spec[^1];
        var body = spec[..^1];
        int Digits(string digits) => digits.Length > 0 && digits.Length <= 3 && digits.All(char.IsAsciiDigit) && int.Parse(digits, CultureInfo.InvariantCulture) is var n && n <= MaxDigits
            ? n
            : throw Bad(text, $"the format '{spec}' of '{key}': the number must be 0 to {MaxDigits}");
        switch (kind)
        {
            case 'd' when key != "epoch":
                throw Bad(text, $"the format '{spec}' of '{key}': log values are floats, which Python's 'd' cannot format (Keras fails at the first save); use .Nf or .Ne");
            case 'd' when body.Length == 0:
                return new Part(string.Empty, key, 'd', 0, 0, false);
            case 'd':
                return new Part(string.Empty, key, 'd', Digits(body), 0, body[0] == '0');
            case 'f' or 'e' when body.StartsWith('.'):
                return new Part(string.Empty, key, kind, 0, Digits(body[1..]), false);
            default:
                throw Bad(text, $"the format '{spec}' of '{key}': this library fills 0Nd or Nd (epoch), .Nf and .Ne");
        }
    }

    private static ArgumentException Bad(string text, string what) =>
        new($"ModelCheckpoint: the path '{text}' has {what}.", "filepath");

    /// <summary>Literal text, or a placeholder with its format (<c>Kind</c> 'd', 'f', 'e', or ' ' for none).</summary>
    private sealed record Part(string Literal, string? Key, char Kind, int Width, int Precision, bool ZeroPad);
}
