using System.Collections.Concurrent;
using System.Diagnostics;
using KerasStyle.Tests.Consumers;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>
/// A Fit killed mid-run and started again with the same callback (issue 16): a console project
/// (<see cref="ResumableTrainingProgram"/>) trains six epochs of 8 batches with BackupAndRestore. The first run is
/// killed (its whole process tree) while it is paused inside epoch 3, after 3 of that epoch's 8 updates; the second
/// run, with other initial weights, must pick up at epoch 3 with the weights, optimizer state and step count of the
/// end of epoch 2, and end bit for bit where a third, uninterrupted run ends.
/// </summary>
[NonParallelizable]
public class BackupAndRestoreProcessTests
{
    private const int StepsPerEpoch = 8;

    [Test]
    public void AKilledFit_StartedAgain_ResumesAfterTheLastFinishedEpoch_WithItsWeightsOptimizerStateAndEpochCounter()
    {
        var clock = Stopwatch.StartNew();
        var directory = Directory.CreateTempSubdirectory("ks-resume-").FullName;
        try
        {
            var program = ConsumerProjects.BuildConsole(directory, ResumableTrainingProgram.Source);
            var built = clock.Elapsed;
            string Dir(string name) => Path.Combine(directory, name);

            // Run 1: killed while paused in epoch 3, after three of its updates.
            var pauseAt = (3 * StepsPerEpoch) + 3;
            var killed = RunUntil(program, line => line.StartsWith("paused", StringComparison.Ordinal), Dir("backup"), Dir("run1"), "6", "1", pauseAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.That(killed, Is.EqualTo(new[]
            {
                "start epoch 0 iterations 0", "epoch 0 done iterations 8", "epoch 1 done iterations 16", "epoch 2 done iterations 24", $"paused at iteration {pauseAt}",
            }));
            Assert.That(File.ReadAllText(Path.Combine(Dir("backup"), "training_metadata.json")), Does.StartWith("{\"epoch\":3,\"batch\":0,"));

            // Run 2: the same program, other initial weights (seed 2); it resumes, finishes and deletes the backup.
            var resumed = RunToEnd(program, Dir("backup"), Dir("run2"), "6", "2");
            Assert.That(resumed, Is.EqualTo(new[]
            {
                "start epoch 3 iterations 24", "epoch 3 done iterations 32", "epoch 4 done iterations 40", "epoch 5 done iterations 48",
                "finished epochs 3,4,5; backup left: False",
            }));
            Assert.That(Directory.Exists(Dir("backup")), Is.False);

            // Run 3: uninterrupted, for reference.
            var reference = RunToEnd(program, Dir("backup3"), Dir("run3"), "6", "1");
            Assert.That(reference[^1], Is.EqualTo("finished epochs 0,1,2,3,4,5; backup left: False"));

            // Weights and every optimizer variable (step count, learning rate, Adam's moments), dataset by dataset.
            var atResume = WeightsFile.Contents(Path.Combine(Dir("run2"), "start.weights.h5"));
            Assert.That(atResume.Keys, Has.Some.StartsWith("optimizer/vars/").And.Some.StartsWith("layers/"));
            Assert.That(atResume, Is.EqualTo(WeightsFile.Contents(Path.Combine(Dir("run1"), "epoch-2.weights.h5"))), "run 2 started from the end of run 1's epoch 2");
            Assert.That(WeightsFile.Contents(Path.Combine(Dir("run1"), "epoch-2.weights.h5")), Is.EqualTo(WeightsFile.Contents(Path.Combine(Dir("run3"), "epoch-2.weights.h5"))));
            Assert.That(WeightsFile.Contents(Path.Combine(Dir("run2"), "start.weights.h5")), Is.Not.EqualTo(WeightsFile.Contents(Path.Combine(Dir("run3"), "start.weights.h5"))), "run 2's own initial weights differ");
            for (var epoch = 3; epoch < 6; epoch++)
            {
                Assert.That(WeightsFile.Contents(Path.Combine(Dir("run2"), $"epoch-{epoch}.weights.h5")), Is.EqualTo(WeightsFile.Contents(Path.Combine(Dir("run3"), $"epoch-{epoch}.weights.h5"))), $"epoch {epoch}: resumed = uninterrupted");
            }

            TestContext.Out.WriteLine($"build {built.TotalSeconds:F1} s, three runs {(clock.Elapsed - built).TotalSeconds:F1} s");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Runs the program until it prints a line matching <paramref name="stop"/>, then kills its process tree.</summary>
    private static List<string> RunUntil(string program, Func<string, bool> stop, params string[] args)
    {
        using var process = Start(program, args, out var lines, out var errors);
        try
        {
            var seen = new List<string>();
            // A generous bound so that a broken program fails the test instead of hanging it; not a timing assertion.
            while (lines.TryTake(out var line, TimeSpan.FromMinutes(2)))
            {
                seen.Add(line);
                if (stop(line))
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                    return seen;
                }
            }

            Assert.Fail($"the program ended or stalled before printing the line to stop at; it printed:\n{string.Join("\n", seen)}\n{errors}");
            return seen;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Runs the program to its end and returns its standard output lines.</summary>
    private static List<string> RunToEnd(string program, params string[] args)
    {
        using var process = Start(program, args, out var lines, out var errors);
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the program did not finish");
        }

        process.WaitForExit();
        Assert.That(process.ExitCode, Is.EqualTo(0), errors.ToString());
        lines.CompleteAdding();
        return lines.ToList();
    }

    private static Process Start(string program, string[] args, out BlockingCollection<string> lines, out System.Text.StringBuilder errors)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var output = new BlockingCollection<string>();
        var error = new System.Text.StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Add(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (error)
            {
                error.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lines = output;
        errors = error;
        return process;
    }
}
