using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Distributed;
using KerasStyle.Engine;
using KerasStyle.Models;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>bench-distributed</c>: under an MPI launcher, the seed sentiment model's time per data-parallel training step,
/// split into compute (the same steps with no distribution, every rank at once) and the allreduce of the gradient
/// buffer; the gradient bytes per step, the ring-allreduce time projected on 10 Gb/s and 1 Gb/s links, and the
/// Embedding rows a batch touches (what a sparse exchange would send).
/// </summary>
internal static class BenchDistributedCommand
{
    private const int EmbeddingWidth = 128;

    public static Command Create()
    {
        var data = ExampleOptions.Data();
        var steps = ExampleOptions.Positive("--steps", "Measured training steps (global batches).", 20);
        var batchSize = ExampleOptions.BatchSize(30);
        var quick = new Option<bool>("--quick") { Description = "3 steps: only checks the benchmark completes (figures are not meaningful)." };
        var command = new Command("bench-distributed", "Under mpirun: the seed sentiment model's time per data-parallel step, split into compute and allreduce, with the gradient bytes and projected link times.")
        {
            data, steps, batchSize, quick,
        };
        command.SetAction(result => DataNotFoundException.Report(() =>
        {
            DataParallel parallel;
            try
            {
                parallel = new DataParallel();
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"bench-distributed: {e.Message}");
                return 3;
            }

            return Run(parallel, result.GetValue(data), result.GetValue(quick) ? 3 : result.GetValue(steps), result.GetValue(batchSize));
        }));
        return command;
    }

    private static int Run(DataParallel parallel, string? dataOption, int steps, int batchSize)
    {
        var ranks = parallel.Size;
        var folder = DataDirectory.Resolve(dataOption, SentimentData.TrainFile, SentimentData.WordIndexFile);
        var encoder = SentimentData.Encoder(folder);
        var reviews = SentimentData.Load(folder, SentimentData.TrainFile, 7, (steps + 1) * batchSize * ranks);
        var x = SentimentData.Encode(encoder, reviews.Select(r => r.Text));
        var y = reviews.Select(r => (float)r.Label).ToArray();
        var samples = steps * batchSize * ranks;
        if (x.GetLength(0) < samples + batchSize * ranks)
        {
            throw new DataNotFoundException($"bench-distributed: the IMDB train split has {x.GetLength(0)} reviews; {samples + batchSize * ranks} are needed for {steps} steps of {batchSize} x {ranks}.");
        }

        var warmX = Rows(x, samples, batchSize * ranks);
        var warmY = y[samples..(samples + batchSize * ranks)];
        var timedX = Rows(x, 0, samples);
        var timedY = y[..samples];

        Backend.ClearSession();
        Utils.SetRandomSeed(7);
        using var model = CnnLstmModels.Sentiment();
        model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: new[] { "accuracy" });
        var gradientValues = model.TrainableWeights.Sum(w => w.Variable.numel());
        var gradientBytes = gradientValues * sizeof(float);
        var embeddingBytes = (long)SentimentData.MaxFeatures * EmbeddingWidth * sizeof(float);

        // Data-parallel steps: compute and one allreduce of the gradient buffer each.
        Distribution.SetDistribution(parallel);
        model.Fit(warmX, warmY, batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        parallel.Barrier();
        var clock = Stopwatch.StartNew();
        model.Fit(timedX, timedY, batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        var stepMs = clock.Elapsed.TotalMilliseconds / steps;

        // Compute alone: every rank trains its own part of the same global batches at once, with no distribution.
        Distribution.SetDistribution(null);
        var mine = Enumerable.Range(0, samples).Where(i => i / batchSize % ranks == parallel.Rank).ToArray();
        var localX = Rows(x, mine);
        var localY = mine.Select(i => y[i]).ToArray();
        model.Fit(Rows(warmX, Enumerable.Range(0, batchSize).ToArray()), warmY[..batchSize], batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        parallel.Barrier();
        clock.Restart();
        model.Fit(localX, localY, batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        var computeMs = clock.Elapsed.TotalMilliseconds / steps;
        parallel.Barrier();

        // The allreduce alone: the gradient buffer's size, as Fit sends it (Embedding's rows made dense).
        var buffer = new float[gradientValues];
        parallel.AllreduceSum(buffer);
        var allreduceTimes = new double[steps];
        for (var i = 0; i < steps; i++)
        {
            parallel.Barrier();
            clock.Restart();
            parallel.AllreduceSum(buffer);
            allreduceTimes[i] = clock.Elapsed.TotalMilliseconds;
        }

        Array.Sort(allreduceTimes);
        var allreduceMs = allreduceTimes[steps / 2];

        // Embedding rows a rank's batch of batchSize x 100 tokens touches, and the union over a global batch.
        var rowsPerBatch = Enumerable.Range(0, steps * ranks).Select(b => Distinct(x, b * batchSize, batchSize)).Average();
        var rowsPerGlobalBatch = Enumerable.Range(0, steps).Select(b => Distinct(x, b * batchSize * ranks, batchSize * ranks)).Average();

        // Slowest rank's figures.
        var figures = new double[3 * ranks];
        figures[3 * parallel.Rank] = stepMs;
        figures[3 * parallel.Rank + 1] = computeMs;
        figures[3 * parallel.Rank + 2] = allreduceMs;
        parallel.AllreduceSum(figures);
        if (parallel.Rank != 0)
        {
            return 0;
        }

        double Max(int k) => Enumerable.Range(0, ranks).Max(r => figures[3 * r + k]);
        double Ring(double bytesPerSecond) => 2.0 * (ranks - 1) / ranks * gradientBytes / bytesPerSecond * 1000;
        var sparseBytes = rowsPerBatch * (EmbeddingWidth * sizeof(float) + sizeof(long));
        string F(double v) => v.ToString("0.0##", CultureInfo.InvariantCulture);
        Console.WriteLine($"bench-distributed: {SystemReport.CpuModel}, {Environment.ProcessorCount} cores, threads per rank {ThreadPolicy.Describe()}, {ranks} ranks, batch {batchSize} per rank, {steps} steps");
        Console.WriteLine($"gradient per step: {gradientValues} floats = {gradientBytes} bytes, of which Embedding {embeddingBytes} bytes ({F(100.0 * embeddingBytes / gradientBytes)} %)");
        Console.WriteLine($"Embedding rows touched: {F(rowsPerBatch)} of {SentimentData.MaxFeatures} per rank batch of {batchSize} x {SentimentData.MaxLen} tokens, {F(rowsPerGlobalBatch)} per global batch; as (int64 index, {EmbeddingWidth} floats) rows {F(sparseBytes)} bytes, dense / sparse {F(embeddingBytes / sparseBytes)}");
        Console.WriteLine("ring allreduce projection: 2 (n - 1) / n x gradient bytes / link bandwidth (latency and compute overlap ignored)");
        Console.WriteLine(
            $"bench-distributed ranks={ranks} step_ms={F(Max(0))} compute_ms={F(Max(1))} allreduce_ms={F(Max(2))} gradient_bytes={gradientBytes} "
            + $"ring_ms_10gbps={F(Ring(10e9 / 8))} ring_ms_1gbps={F(Ring(1e9 / 8))} embedding_rows_per_batch={F(rowsPerBatch)} embedding_dense_over_sparse={F(embeddingBytes / sparseBytes)}");
        return 0;
    }

    private static int Distinct(int[,] x, int start, int count)
    {
        var seen = new HashSet<int>();
        for (var i = start; i < start + count; i++)
        {
            for (var t = 0; t < x.GetLength(1); t++)
            {
                seen.Add(x[i, t]);
            }
        }

        return seen.Count;
    }

    private static int[,] Rows(int[,] x, int start, int count) => Rows(x, Enumerable.Range(start, count).ToArray());

    private static int[,] Rows(int[,] x, int[] rows)
    {
        var result = new int[rows.Length, x.GetLength(1)];
        for (var i = 0; i < rows.Length; i++)
        {
            for (var t = 0; t < x.GetLength(1); t++)
            {
                result[i, t] = x[rows[i], t];
            }
        }

        return result;
    }
}
