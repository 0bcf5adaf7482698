using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Distributed;
using KerasStyle.Engine;
using KerasStyle.Models;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>bench-distributed</c>: under an MPI launcher, the seed sentiment model's time per data-parallel training step with
/// the Embedding's gradient exchanged by rows (the default) and with <see cref="DataParallel.SparseAsDense"/>, split into
/// compute (the same steps with no distribution, every rank at once), the allgatherv of the rows and the allreduce of
/// the dense rest (<see cref="DataParallel.ExchangeStatistics"/>); the bytes each sends per step and the exchange time
/// projected on 10 Gb/s and 1 Gb/s links.
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
        var command = new Command("bench-distributed", "Under mpirun: the seed sentiment model's time per data-parallel step (Embedding by rows, and sparse-as-dense), split into compute, allgatherv and allreduce, with the bytes sent and projected link times.")
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

        // Data-parallel steps, each exchange as Fit sends it: by rows (the default) and with SparseAsDense (all dense).
        Distribution.SetDistribution(parallel);
        var sparse = TimedFit(parallel, model, warmX, warmY, timedX, timedY, batchSize, steps, sparseAsDense: false);
        var dense = TimedFit(parallel, model, warmX, warmY, timedX, timedY, batchSize, steps, sparseAsDense: true);
        parallel.SparseAsDense = false;

        // Compute alone: every rank trains its own part of the same global batches at once, with no distribution.
        Distribution.SetDistribution(null);
        var mine = Enumerable.Range(0, samples).Where(i => i / batchSize % ranks == parallel.Rank).ToArray();
        var localX = Rows(x, mine);
        var localY = mine.Select(i => y[i]).ToArray();
        model.Fit(Rows(warmX, Enumerable.Range(0, batchSize).ToArray()), warmY[..batchSize], batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        parallel.Barrier();
        var clock = Stopwatch.StartNew();
        model.Fit(localX, localY, batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        var computeMs = clock.Elapsed.TotalMilliseconds / steps;
        parallel.Barrier();

        // The allreduce of the dense rest alone (ranks in step after a barrier): the transport's cost without the wait for the slowest rank.
        var restValues = sparse.AllreduceBytes / steps / sizeof(float);
        var buffer = new float[restValues];
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
        var restAllreduceMs = allreduceTimes[steps / 2];

        // Embedding rows a rank's batch of batchSize x 100 tokens touches, and the union over a global batch.
        var rowsPerBatch = Enumerable.Range(0, steps * ranks).Select(b => Distinct(x, b * batchSize, batchSize)).Average();
        var rowsPerGlobalBatch = Enumerable.Range(0, steps).Select(b => Distinct(x, b * batchSize * ranks, batchSize * ranks)).Average();

        // Per step, on each rank; the slowest rank's times and the largest byte counts are printed.
        var mineFigures = new[]
        {
            sparse.StepMs, dense.StepMs, computeMs,
            sparse.Statistics.AllgatherMilliseconds / steps, sparse.Statistics.AllreduceMilliseconds / steps, dense.Statistics.AllreduceMilliseconds / steps, restAllreduceMs,
            (double)sparse.Statistics.RowBytesSent / steps, (double)sparse.Statistics.RowBytesReceived / steps, (double)sparse.AllreduceBytes / steps, (double)dense.AllreduceBytes / steps,
            (double)sparse.Statistics.RowsSent / steps,
        };
        var width = mineFigures.Length;
        var figures = new double[width * ranks];
        mineFigures.CopyTo(figures, width * parallel.Rank);
        parallel.AllreduceSum(figures);
        if (parallel.Rank != 0)
        {
            return 0;
        }

        double Max(int k) => Enumerable.Range(0, ranks).Max(r => figures[(width * r) + k]);
        double Mean(int k) => Enumerable.Range(0, ranks).Average(r => figures[(width * r) + k]);
        var denseBytes = Max(10);
        var restBytes = Max(9);
        var rowBytes = Mean(7);

        // Link projections (bandwidth in bytes/s; latency and overlap ignored): a ring allreduce moves 2 (n - 1) / n x
        // the buffer per rank; an allgather brings each rank the other n - 1 ranks' rows.
        double Ring(double bytes, double bytesPerSecond) => 2.0 * (ranks - 1) / ranks * bytes / bytesPerSecond * 1000;
        double Gather(double bytesPerSecond) => (ranks - 1) * rowBytes / bytesPerSecond * 1000;
        double SparseLink(double bytesPerSecond) => Gather(bytesPerSecond) + Ring(restBytes, bytesPerSecond);
        var sparseBytes = rowsPerBatch * (EmbeddingWidth * sizeof(float) + sizeof(long));
        string F(double v) => v.ToString("0.0##", CultureInfo.InvariantCulture);
        Console.WriteLine($"bench-distributed: {SystemReport.CpuModel}, {Environment.ProcessorCount} cores, threads per rank {ThreadPolicy.Describe()}, {ranks} ranks, batch {batchSize} per rank, {steps} steps");
        Console.WriteLine($"gradient per step: {gradientValues} floats = {gradientBytes} bytes, of which Embedding {embeddingBytes} bytes ({F(100.0 * embeddingBytes / gradientBytes)} %)");
        Console.WriteLine($"Embedding rows touched: {F(rowsPerBatch)} of {SentimentData.MaxFeatures} per rank batch of {batchSize} x {SentimentData.MaxLen} tokens, {F(rowsPerGlobalBatch)} per global batch; as (int64 index, {EmbeddingWidth} floats) rows {F(sparseBytes)} bytes, dense / sparse {F(embeddingBytes / sparseBytes)}");
        Console.WriteLine($"sent per step and rank: sparse exchange {F(rowBytes)} bytes of rows (mean over ranks; {F(Mean(11))} rows) + {F(restBytes)} bytes allreduced; received {F(Mean(8))} bytes of rows; SparseAsDense {F(denseBytes)} bytes allreduced");
        Console.WriteLine($"times per step (slowest rank; inside Fit, so the wait for the slowest rank is included): sparse step {F(Max(0))} ms = allgatherv {F(Max(3))} + allreduce of the rest {F(Max(4))} + the rest; SparseAsDense step {F(Max(1))} ms with allreduce {F(Max(5))} ms; the rest's allreduce alone (median after a barrier) {F(Max(6))} ms");
        Console.WriteLine("projection: ring allreduce 2 (n - 1) / n x bytes / bandwidth; allgather (n - 1) x a rank's row bytes / bandwidth (latency and compute overlap ignored)");
        Console.WriteLine(
            $"bench-distributed ranks={ranks} step_ms={F(Max(0))} step_ms_sparse_as_dense={F(Max(1))} compute_ms={F(Max(2))} allgatherv_ms={F(Max(3))} allreduce_ms={F(Max(4))} allreduce_ms_sparse_as_dense={F(Max(5))} rest_allreduce_alone_ms={F(Max(6))} "
            + $"row_bytes_sent={F(rowBytes)} rest_bytes={F(restBytes)} dense_bytes={F(denseBytes)} "
            + $"link_ms_10gbps={F(SparseLink(10e9 / 8))} link_ms_1gbps={F(SparseLink(1e9 / 8))} dense_ring_ms_10gbps={F(Ring(denseBytes, 10e9 / 8))} dense_ring_ms_1gbps={F(Ring(denseBytes, 1e9 / 8))}");
        return 0;
    }

    /// <summary>A warm-up Fit, then a timed Fit of <paramref name="steps"/> global batches with the given exchange; its time per step and what it exchanged.</summary>
    private static (double StepMs, GradientExchangeStatistics Statistics, long AllreduceBytes) TimedFit(DataParallel parallel, Model model, int[,] warmX, float[] warmY,
        int[,] timedX, float[] timedY, int batchSize, int steps, bool sparseAsDense)
    {
        parallel.SparseAsDense = sparseAsDense;
        model.Fit(warmX, warmY, batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        parallel.Barrier();
        parallel.ResetExchangeStatistics();
        var clock = Stopwatch.StartNew();
        model.Fit(timedX, timedY, batchSize: batchSize, epochs: 1, verbose: 0, shuffle: false);
        var stepMs = clock.Elapsed.TotalMilliseconds / steps;
        var statistics = parallel.ExchangeStatistics;
        return (stepMs, statistics, statistics.AllreduceBytes);
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
