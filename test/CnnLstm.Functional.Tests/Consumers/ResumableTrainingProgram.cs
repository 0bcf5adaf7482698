namespace KerasStyle.Tests.Consumers;

/// <summary>
/// The <c>Program.cs</c> of a console project that trains with <c>BackupAndRestore</c>, for the test that kills it
/// (<c>Training/Callbacks/BackupAndRestoreProcessTests</c>). Arguments: backup folder, output folder, epochs, seed,
/// and optionally an optimizer iteration to stop at (it prints <c>paused</c> there and sleeps until killed). It writes
/// the weights (with the optimizer state) at the first epoch it runs to <c>start.weights.h5</c> and at the end of
/// every epoch to <c>epoch-N.weights.h5</c>, and prints a line for each.
/// </summary>
internal static class ResumableTrainingProgram
{
    public const string Source = """
        using System.Globalization;
        using KerasStyle;
        using KerasStyle.Engine;
        using KerasStyle.Layers;
        using KerasStyle.Models;
        using KerasStyle.Training.Callbacks;
        using KerasStyle.Training.Optimizers;

        ThreadPolicy.FixedThreads = 1;
        var (backupDir, outDir, epochs, seed) = (args[0], args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
        var pauseAt = args.Length > 4 ? long.Parse(args[4], CultureInfo.InvariantCulture) : -1;
        Directory.CreateDirectory(outDir);

        // 64 samples of 4 features; the label says whether the first two sum to more than 1. Batches of 8: 8 steps an epoch.
        var random = new Random(1);
        var (x, y) = (new float[64, 4], new float[64]);
        for (var i = 0; i < 64; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                x[i, j] = (float)random.NextDouble();
            }

            y[i] = x[i, 0] + x[i, 1] > 1 ? 1 : 0;
        }

        Utils.SetRandomSeed(seed);
        var input = new Input(new[] { 4 });
        var hidden = new Dense(16, activation: "relu").Call(input);
        using var model = new Model(input, new Dense(1, activation: "sigmoid").Call(hidden));
        model.Compile(new Adam(learningRate: 0.01), "binary_crossentropy", new[] { "accuracy" });

        var started = false;
        var progress = new LambdaCallback(
            onEpochBegin: (epoch, _) =>
            {
                if (!started)
                {
                    started = true;
                    model.SaveWeights(Path.Combine(outDir, "start.weights.h5"));
                    Console.WriteLine($"start epoch {epoch} iterations {model.Optimizer!.Iterations}");
                }
            },
            onEpochEnd: (epoch, _) =>
            {
                model.SaveWeights(Path.Combine(outDir, $"epoch-{epoch}.weights.h5"));
                Console.WriteLine($"epoch {epoch} done iterations {model.Optimizer!.Iterations}");
            },
            onBatchEnd: (batch, _) =>
            {
                if (model.Optimizer!.Iterations == pauseAt)
                {
                    Console.WriteLine($"paused at iteration {pauseAt}");
                    Thread.Sleep(Timeout.Infinite);
                }
            });

        // No shuffling, so that the epochs after a resume see the batches an uninterrupted run sees.
        var history = model.Fit(x, y, batchSize: 8, epochs: epochs, verbose: 0, shuffle: false, callbacks: new ICallback[] { new BackupAndRestore(backupDir), progress });
        Console.WriteLine($"finished epochs {string.Join(",", history.Epoch)}; backup left: {Directory.Exists(backupDir)}");
        """;
}
