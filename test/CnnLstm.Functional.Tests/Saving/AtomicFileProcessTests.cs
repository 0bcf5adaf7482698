using System.Diagnostics;
using KerasStyle.Models;
using KerasStyle.Tests.Consumers;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Issue 20: after <c>kill -9</c> during <c>Save</c>, the next save of the same target left the killed save's
/// temporary sibling behind. A console project saves one model to one target over and over; it is killed with
/// SIGKILL while a temporary file of that target exists, and the next save, here, must remove it.
/// </summary>
[NonParallelizable]
public class AtomicFileProcessTests
{
    private const string Program = """
        using KerasStyle.Layers;
        using KerasStyle.Models;

        var input = new Input(new[] { 1000 });
        using var model = new Model(input, new Dense(1000).Call(input));
        Console.WriteLine("saving");
        while (true)
        {
            model.Save(args[0]);
        }
        """;

    [Test]
    public void ASaveKilledWithSigkill_LeavesATemporaryFile_ThatTheNextSaveOfTheTargetRemoves()
    {
        var directory = Directory.CreateTempSubdirectory("ks-killed-save-").FullName;
        try
        {
            var program = ConsumerProjects.BuildConsole(directory, Program);
            var saves = Directory.CreateDirectory(Path.Combine(directory, "saves")).FullName;
            var target = Path.Combine(saves, "model.keras");
            string[] Leftovers() => Directory.GetFiles(saves, ".model.keras.*.tmp");

            // The loop spends most of its time writing, so a kill nearly always lands in a save; try a few times.
            for (var attempt = 0; attempt < 5 && Leftovers().Length == 0; attempt++)
            {
                KillWhileSaving(program, target, Leftovers);
            }

            var left = Leftovers();
            Assert.That(left, Is.Not.Empty, "a SIGKILL during Save leaves the temporary file");

            var input = new KerasStyle.Layers.Input(new[] { 2 });
            using var model = new Model(input, new KerasStyle.Layers.Dense(1).Call(input));
            model.Save(target);

            Assert.That(Leftovers(), Is.Empty, "the next save of the target removed the killed save's temporary file");
            using var loaded = Model.Load(target);
            Assert.That(loaded.CountParams(), Is.EqualTo(3));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void KillWhileSaving(string program, string target, Func<string[]> leftovers)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        start.ArgumentList.Add(target);
        using var process = new Process { StartInfo = start };
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        string Errors()
        {
            lock (errors)
            {
                return errors.ToString();
            }
        }

        try
        {
            Assert.That(process.StandardOutput.ReadLine(), Is.EqualTo("saving"), Errors);
            // A generous bound so that a broken program fails the test instead of hanging it; not a timing assertion.
            var waited = Stopwatch.StartNew();
            while (leftovers().Length == 0 && !process.HasExited && waited.Elapsed < TimeSpan.FromMinutes(2))
            {
                Thread.Sleep(1);
            }

            Assert.That(process.HasExited, Is.False, Errors);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(); // SIGKILL on Unix: the save gets no chance to clean up
            }

            process.WaitForExit();
        }
    }
}
