using System.Globalization;
using System.Text;

namespace KerasStyle.Training;

/// <summary>
/// Keras 2's <c>Progbar</c> text: <c>750/750 [==============================] - 12s 16ms/step - loss: 0.3896</c>
/// (verbose 1) or <c>750/750 - 12s - loss: 0.3896 - 12s/epoch - 16ms/step</c> (verbose 2); under
/// <see cref="ConsoleStyle.Keras3"/>, Keras 3.16's (keras/src/utils/progbar.py, see <see cref="FormatKeras3"/>). With
/// verbose 1 on a terminal the bar is redrawn in place; otherwise only the final line of each epoch is written.
/// </summary>
public sealed class ProgressBar
{
    private const int Width = 30;
    private readonly TextWriter writer;
    private readonly bool dynamic;
    private readonly bool withBar;
    private readonly int target;
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly bool keras3 = Backend.ConsoleStyle == ConsoleStyle.Keras3;
    private int previousWidth;
    private double lastDraw = double.NegativeInfinity;
    private double? timeAfterFirstStep;

    /// <summary>Creates a bar for <paramref name="target"/> steps.</summary>
    /// <param name="target">Steps in the epoch.</param>
    /// <param name="writer">Where to write.</param>
    /// <param name="dynamic">True to redraw in place (a terminal), false for one final line.</param>
    /// <param name="verbose">1 for the bar form, 2 for Keras' verbose-2 form (always one final line).</param>
    public ProgressBar(int target, TextWriter writer, bool dynamic, int verbose = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        ArgumentNullException.ThrowIfNull(writer);
        if (verbose is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(verbose), verbose, "ProgressBar: verbose must be 1 or 2.");
        }

        this.target = target;
        this.writer = writer;
        withBar = verbose == 1;
        this.dynamic = dynamic && withBar;
    }

    /// <summary>
    /// The complete Keras line for <paramref name="current"/> of <paramref name="target"/> steps after
    /// <paramref name="elapsedSeconds"/>; exposed for tests.
    /// </summary>
    /// <param name="current">Steps done.</param>
    /// <param name="target">Steps in the epoch.</param>
    /// <param name="elapsedSeconds">Seconds since the epoch started.</param>
    /// <param name="values">Named values to show, in order.</param>
    /// <param name="withBar">False for Keras' verbose-2 form (<c>750/750 - 12s - loss: ... - 12s/epoch - 16ms/step</c>).</param>
    /// <param name="finalize">True for the epoch's last line when it ended early (a callback stopped training): Keras
    /// then shows the time per step instead of an ETA.</param>
    public static string Format(int current, int target, double elapsedSeconds, IEnumerable<KeyValuePair<string, double>> values, bool withBar = true, bool finalize = false)
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

            line.Append('.', Math.Max(0, Width - filled)).Append(']');
            if (current < target && !finalize)
            {
                line.Append(" - ETA: ").Append(Eta(timePerUnit * (target - current)));
            }
            else
            {
                line.Append(" - ").Append(Seconds(elapsedSeconds)).Append("s ").Append(PerUnit(timePerUnit, "step"));
            }
        }
        else
        {
            // tf.keras 2's verbose 2: elapsed time, the values, then time per epoch and per step.
            line.Append(" - ").Append(Seconds(elapsedSeconds)).Append('s');
            foreach (var (name, value) in values)
            {
                line.Append(" - ").Append(name).Append(": ").Append(Value(value, signed: false));
            }

            return line.Append(" - ").Append(PerUnit(elapsedSeconds, "epoch"))
                .Append(" - ").Append(PerUnit(target > 0 ? elapsedSeconds / target : 0, "step")).ToString();
        }

        foreach (var (name, value) in values)
        {
            line.Append(" - ").Append(name).Append(": ").Append(Value(value, signed: true));
        }

        return line.ToString();
    }

    /// <summary>
    /// Keras 3.16's <c>Progbar</c> line for <paramref name="current"/> of <paramref name="target"/> steps, with its
    /// terminal escapes (bold counts and times, a green and grey bar of 20 <c>━</c>):
    /// <c>750/750 ━━━━━━━━━━━━━━━━━━━━ 12s 16ms/step - loss: 0.3896</c> (verbose 1; an ETA while the epoch runs), or
    /// <c>750/750 - 12s - 16ms/step - loss: 0.3896</c> (verbose 2, no escapes). Exposed for tests.
    /// </summary>
    /// <param name="current">Steps done.</param>
    /// <param name="target">Steps in the epoch.</param>
    /// <param name="elapsedSeconds">Seconds since the epoch started.</param>
    /// <param name="secondsPerStep">Keras 3's estimate: the time since the first step over the steps after it.</param>
    /// <param name="values">Named values to show, in order.</param>
    /// <param name="withBar">False for the verbose-2 form.</param>
    /// <param name="finalize">True for the epoch's last line.</param>
    public static string FormatKeras3(int current, int target, double elapsedSeconds, double secondsPerStep, IEnumerable<KeyValuePair<string, double>> values,
        bool withBar = true, bool finalize = false)
    {
        const int width = 20;
        var digits = target > 0 ? (int)Math.Floor(Math.Log10(target)) + 1 : 1;
        var count = current.ToString(CultureInfo.InvariantCulture).PadLeft(digits) + "/" + target.ToString(CultureInfo.InvariantCulture);
        var line = new StringBuilder();
        if (withBar)
        {
            var filled = target > 0 ? (int)(width * ((double)current / target)) : width;
            line.Append("\u001b[1m").Append(count).Append("\u001b[0m ");
            if (filled > 0)
            {
                line.Append("\u001b[32m").Append('━', filled).Append("\u001b[0m");
            }

            line.Append("\u001b[37m").Append('━', Math.Max(0, width - filled)).Append("\u001b[0m");
            line.Append(" \u001b[1m").Append(finalize || current >= target ? Seconds(elapsedSeconds) + "s" : Eta(secondsPerStep * (target - current))).Append("\u001b[0m");
        }
        else
        {
            line.Append(count).Append(" - ").Append(Seconds(elapsedSeconds)).Append("s -");
        }

        line.Append(' ').Append(PerUnit(secondsPerStep, "step"));
        foreach (var (name, value) in values)
        {
            line.Append(" - ").Append(name).Append(": ").Append(Value(value, signed: withBar));
        }

        return line.ToString();
    }

    /// <summary>Shows progress after <paramref name="current"/> steps.</summary>
    /// <param name="current">Steps done.</param>
    /// <param name="values">Running means to show.</param>
    /// <param name="finalize">True to write the epoch's final line even though fewer than the target steps ran.</param>
    public void Update(int current, IEnumerable<KeyValuePair<string, double>> values, bool finalize = false)
    {
        var now = clock.Elapsed.TotalSeconds;
        var done = finalize || current >= target;
        // Keras 3 leaves the first step (set-up, warm-up) out of the time per step.
        var perStep = current == 0 ? 0 : timeAfterFirstStep is double first && current > 1 ? (now - first) / (current - 1) : now / current;
        if (current == 1)
        {
            timeAfterFirstStep = now;
        }

        string Line(bool bar) => keras3 ? FormatKeras3(current, target, now, perStep, values, bar, done) : Format(current, target, now, values, bar, done);
        if (!dynamic)
        {
            if (done)
            {
                writer.WriteLine(Line(withBar));
                writer.Flush();
            }

            return;
        }

        // Keras redraws at most every 50 ms, and always at the end.
        if (!done && now - lastDraw < 0.05)
        {
            return;
        }

        lastDraw = now;
        var line = Line(true);
        var visible = keras3 ? line.Length - EscapeLength(line) : line.Length;
        var padding = previousWidth > visible ? new string(' ', previousWidth - visible) : string.Empty;
        if (keras3)
        {
            // Keras 3 backs over the previous line before the carriage return.
            writer.Write(new string('\b', previousWidth));
        }

        writer.Write('\r');
        writer.Write(line);
        writer.Write(padding);
        previousWidth = visible;
        if (done)
        {
            writer.WriteLine();
        }

        writer.Flush();
    }

    private static int EscapeLength(string line) => System.Text.RegularExpressions.Regex.Matches(line, "\u001b\\[[0-9;]*m").Sum(m => m.Length);

    private static string Seconds(double seconds) => Math.Round(seconds).ToString("F0", CultureInfo.InvariantCulture);

    // Keras' _format_time: whole seconds from 1 s (and for 0), else ms from 1 ms, else us.
    private static string PerUnit(double seconds, string unit) =>
        seconds >= 1 || seconds == 0 ? $"{Seconds(seconds)}s/{unit}"
        : seconds >= 1e-3 ? $"{Math.Round(seconds * 1e3).ToString("F0", CultureInfo.InvariantCulture)}ms/{unit}"
        : $"{Math.Round(seconds * 1e6).ToString("F0", CultureInfo.InvariantCulture)}us/{unit}";

    private static string Eta(double eta)
    {
        var total = (long)eta;
        return eta > 3600 ? $"{total / 3600}:{total % 3600 / 60:D2}:{total % 60:D2}"
            : eta > 60 ? $"{total / 60}:{total % 60:D2}"
            : $"{total}s";
    }

    // Keras: '%.4f' above 1e-3 ('abs(avg) > 1e-3' with the bar, 'avg > 1e-3' in verbose 2), '%.4e' otherwise;
    // Python prints nan, inf and -inf.
    private static string Value(double value, bool signed) =>
        double.IsNaN(value) ? "nan"
        : double.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : (signed ? Math.Abs(value) : value) > 1e-3 ? value.ToString("F4", CultureInfo.InvariantCulture)
        : value.ToString("0.0000e+00", CultureInfo.InvariantCulture);
}
