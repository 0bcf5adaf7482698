using System.Globalization;
using System.Text;

namespace KerasStyle.Training;

/// <summary>
/// Keras 2's <c>Progbar</c> text: <c>750/750 [==============================] - 12s 16ms/step - loss: 0.3896</c>.
/// On a terminal the line is redrawn in place; otherwise only the final line of each epoch is written.
/// </summary>
public sealed class ProgressBar
{
    private const int Width = 30;
    private readonly TextWriter writer;
    private readonly bool dynamic;
    private readonly int target;
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    private int previousWidth;
    private double lastDraw = double.NegativeInfinity;

    /// <summary>Creates a bar for <paramref name="target"/> steps.</summary>
    /// <param name="target">Steps in the epoch.</param>
    /// <param name="writer">Where to write.</param>
    /// <param name="dynamic">True to redraw in place (a terminal), false for one final line.</param>
    public ProgressBar(int target, TextWriter writer, bool dynamic)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        ArgumentNullException.ThrowIfNull(writer);
        this.target = target;
        this.writer = writer;
        this.dynamic = dynamic;
    }

    /// <summary>
    /// The complete Keras line for <paramref name="current"/> of <paramref name="target"/> steps after
    /// <paramref name="elapsedSeconds"/>; exposed for tests.
    /// </summary>
    /// <param name="current">Steps done.</param>
    /// <param name="target">Steps in the epoch.</param>
    /// <param name="elapsedSeconds">Seconds since the epoch started.</param>
    /// <param name="values">Named values to show, in order.</param>
    /// <param name="withBar">False for Keras' verbose-2 form (<c>750/750 - 12s - loss: ...</c>).</param>
    public static string Format(int current, int target, double elapsedSeconds, IEnumerable<KeyValuePair<string, double>> values, bool withBar = true)
    {
        var digits = target > 0 ? (int)Math.Floor(Math.Log10(target)) + 1 : 1;
        var line = new StringBuilder();
        line.Append(current.ToString(CultureInfo.InvariantCulture).PadLeft(digits)).Append('/').Append(target.ToString(CultureInfo.InvariantCulture));
        var timePerUnit = current > 0 ? elapsedSeconds / current : 0;
        if (withBar)
        {
            line.Append(" [");
            var progress = target > 0 ? (double)current / target : 1;
            var filled = (int)(Width * progress);
            if (filled > 0)
            {
                line.Append('=', filled - 1).Append(current < target ? '>' : '=');
            }

            line.Append('.', Width - filled).Append(']');
            if (current < target)
            {
                line.Append(" - ETA: ").Append(Eta(timePerUnit * (target - current)));
            }
            else
            {
                line.Append(" - ").Append(Seconds(elapsedSeconds)).Append("s ").Append(PerStep(timePerUnit));
            }
        }
        else
        {
            line.Append(" - ").Append(Seconds(elapsedSeconds)).Append("s - ").Append(PerStep(timePerUnit));
        }

        foreach (var (name, value) in values)
        {
            line.Append(" - ").Append(name).Append(": ").Append(Value(value));
        }

        return line.ToString();
    }

    /// <summary>Shows progress after <paramref name="current"/> steps.</summary>
    /// <param name="current">Steps done.</param>
    /// <param name="values">Running means to show.</param>
    public void Update(int current, IEnumerable<KeyValuePair<string, double>> values)
    {
        var now = clock.Elapsed.TotalSeconds;
        var done = current >= target;
        if (!dynamic)
        {
            if (done)
            {
                writer.WriteLine(Format(current, target, now, values, withBar: false));
            }

            return;
        }

        // Keras redraws at most every 50 ms, and always at the end.
        if (!done && now - lastDraw < 0.05)
        {
            return;
        }

        lastDraw = now;
        var line = Format(current, target, now, values);
        var padding = previousWidth > line.Length ? new string(' ', previousWidth - line.Length) : string.Empty;
        writer.Write('\r');
        writer.Write(line);
        writer.Write(padding);
        previousWidth = line.Length;
        if (done)
        {
            writer.WriteLine();
        }

        writer.Flush();
    }

    private static string Seconds(double seconds) => Math.Round(seconds).ToString("F0", CultureInfo.InvariantCulture);

    private static string PerStep(double seconds) =>
        seconds >= 1 ? $"{Seconds(seconds)}s/step"
        : seconds >= 1e-3 ? $"{Math.Round(seconds * 1e3).ToString("F0", CultureInfo.InvariantCulture)}ms/step"
        : $"{Math.Round(seconds * 1e6).ToString("F0", CultureInfo.InvariantCulture)}us/step";

    private static string Eta(double eta)
    {
        var total = (long)eta;
        return eta > 3600 ? $"{total / 3600}:{total % 3600 / 60:D2}:{total % 60:D2}"
            : eta > 60 ? $"{total / 60}:{total % 60:D2}"
            : $"{total}s";
    }

    // Keras: '%.4f' above 1e-3 in magnitude, '%.4e' below.
    private static string Value(double value) =>
        Math.Abs(value) > 1e-3 ? value.ToString("F4", CultureInfo.InvariantCulture) : value.ToString("0.0000e+00", CultureInfo.InvariantCulture);
}
