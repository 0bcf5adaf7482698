using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// Peak working set of one task, each in a fresh child process of the examples program
/// (<c>bench --peak-memory-of train|predict</c>): a process' high-water mark (Linux <c>VmHWM</c>) cannot be reset
/// for the managed heap and libtorch's allocator, which keep what they took, so each task runs alone from start-up.
/// The child prints its resident set just before the task and its peak after it.
/// </summary>
internal static partial class PeakMemory
{
    /// <param name="BeforeMiB">Resident set after start-up, the model built and the data made, before the task.</param>
    /// <param name="PeakMiB">Peak resident set of the whole child process (start-up, model, data and the task).</param>
    public sealed record Result(double BeforeMiB, double PeakMiB);

    /// <summary>The tasks a child can run.</summary>
    public static readonly string[] Tasks = { "train", "predict" };

    /// <summary>Runs <paramref name="task"/> in a child process and reads its report; null (with the reason on stderr) if it failed.</summary>
    public static Result? InChild(string task, bool quick)
    {
        var dll = typeof(PeakMemory).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(dll);
        }

        foreach (var argument in new[] { "bench", "--peak-memory-of", task }.Concat(quick ? new[] { "--quick" } : Array.Empty<string>()))
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host}.");
        var errors = child.StandardError.ReadToEndAsync();
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var match = ReportLine().Match(output);
        if (child.ExitCode != 0 || !match.Success)
        {
            Console.Error.WriteLine($"bench: the peak-memory child for {task} failed (exit {child.ExitCode}): {output}{errors.Result}");
            return null;
        }

        return new Result(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>The child's side: runs the task as the bench does and prints its report line.</summary>
    public static int RunTask(string task, bool quick)
    {
        var workload = Workloads.Sentiment;
        Utils.SetRandomSeed(1);
        using var model = workload.Library();
        var samples = workload.BatchSize * (quick ? 2 : 40);
        var (x, y) = workload.Data(Math.Max(samples, 1024));
        using var xOwner = x;
        using var yOwner = y;
        var tokens = (long[,])workload.SingleSample(x);
        var before = ResidentMiB("VmRSS");
        switch (task)
        {
            case "train":
                // The bench's training: shuffled epochs at batch 30 (the full run 3 epochs of 40 steps).
                using (var trainX = x.narrow(0, 0, samples))
                using (var trainY = y.narrow(0, 0, samples))
                {
                    model.Fit(trainX, trainY, batchSize: workload.BatchSize, epochs: quick ? 1 : 3, verbose: 0, shuffle: true);
                }

                break;
            case "predict":
                // The bench's inference: Predict at batch 256 over 1,024 rows, then single samples.
                var one = new long[1, tokens.GetLength(1)];
                Buffer.BlockCopy(tokens, 0, one, 0, tokens.GetLength(1) * sizeof(long));
                for (var i = 0; i < (quick ? 1 : 5); i++)
                {
                    _ = model.Predict(tokens, 256);
                }

                for (var i = 0; i < (quick ? 5 : 200); i++)
                {
                    _ = model.Predict(one);
                }

                break;
            default:
                throw new ArgumentException($"Unknown peak-memory task '{task}': expected {string.Join(" or ", Tasks)}.", nameof(task));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak-memory before_mib={before:F1} peak_mib={ResidentMiB("VmHWM"):F1}"));
        return 0;
    }

    /// <summary>A line of /proc/self/status in MiB (Linux); elsewhere the process' working set or its peak.</summary>
    private static double ResidentMiB(string field)
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            var line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            if (line is not null)
            {
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        using var self = Process.GetCurrentProcess();
        return (field == "VmHWM" ? self.PeakWorkingSet64 : self.WorkingSet64) / (1024.0 * 1024.0);
    }

    [GeneratedRegex(@"(?m)^peak-memory before_mib=([\d.]+) peak_mib=([\d.]+)")]
    private static partial Regex ReportLine();
}
