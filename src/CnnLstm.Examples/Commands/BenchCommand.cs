using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Engine;
using KerasStyle.Examples.Bench;
using static KerasStyle.Examples.Bench.BenchRunner;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>bench</c>: training and inference throughput and single-sample latency of both seed models, through the
/// library and hand-written TorchSharp in the same process, alternating rounds.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "A short run that only checks the benchmark completes (figures are not meaningful)." };
        var rounds = ExampleOptions.Positive("--rounds", "Measured rounds per side (alternating).", 7);
        var steps = ExampleOptions.Positive("--steps", "Training steps per round.", 40);
        var distrust = new Option<string[]>("--distrust")
        {
            Description = $"Treat these kernels as failed (KernelChecks.Distrust), to time the library's fallbacks as a CPU with a wrong kernel would run them: {string.Join(", ", KernelChecks.Kernels)}.",
            AllowMultipleArgumentsPerToken = true,
        };
        distrust.AcceptOnlyFromAmong(KernelChecks.Kernels.ToArray());
        var peakMemoryOf = new Option<string?>("--peak-memory-of")
        {
            Description = "Internal: run only this task (train or predict) of the sentiment model and print the process' peak resident set; bench starts itself with it once per task.",
            Hidden = true,
        };
        peakMemoryOf.AcceptOnlyFromAmong(PeakMemory.Tasks);
        var command = new Command("bench", "Measure the library against hand-written TorchSharp on the seed models, the TimeDistributed CNN-LSTM, the Bidirectional model and the self-attention model, and the exported sentiment model in ONNX Runtime against Predict.") { quick, rounds, steps, distrust, peakMemoryOf };
        command.SetAction(result =>
        {
            var isQuick = result.GetValue(quick);
            if (result.GetValue(peakMemoryOf) is { } task)
            {
                return PeakMemory.RunTask(task, isQuick);
            }

            foreach (var kernel in result.GetValue(distrust) ?? Array.Empty<string>())
            {
                KernelChecks.Distrust(kernel);
            }

            var runner = isQuick ? new BenchRunner(1, 2, 5) : new BenchRunner(result.GetValue(rounds), result.GetValue(steps), 1000);
            Console.WriteLine($"bench: {SystemReport.CpuModel}, {Environment.ProcessorCount} cores, threads {ThreadPolicy.Describe()}, OpenMP spin {SystemReport.OpenMpSpinSetting}, {(isQuick ? "quick" : "full")} run");
            // The machine's limits are sampled before each model and after the last; the best of each figure counts.
            var limits = new MachineLimits(isQuick);
            Result Measure(Workload workload)
            {
                limits.Sample(runner.DefaultThreads);
                return Report(runner.Run(workload), workload.Name);
            }

            var sentiment = Measure(Workloads.Sentiment);
            var regression = Measure(Workloads.Regression);
            var temperatures = Measure(Workloads.Temperatures);
            var bidirectional = Measure(Workloads.Bidirectional);
            var attention = Measure(Workloads.Attention);
            var onnx = new OnnxRuntimeBench(isQuick ? 1 : result.GetValue(rounds), isQuick ? 5 : 1000).Run(Workloads.Sentiment);
            Console.WriteLine($"sentiment through ONNX Runtime (exported, default session options), same token ids, largest output difference {onnx.MaxDifference:0.0e+00}:");
            Console.WriteLine($"sentiment inference samples/s (batch 256): library Predict {F(onnx.BatchLibrary)}, ONNX Runtime {F(onnx.BatchOnnx)}, ONNX Runtime / library {F(onnx.BatchRatio)}");
            Console.WriteLine($"sentiment single-sample latency ms: library Predict median {F(onnx.LatencyLibrary.Median)} p99 {F(onnx.LatencyLibrary.P99)}, ONNX Runtime median {F(onnx.LatencyOnnx.Median)} p99 {F(onnx.LatencyOnnx.P99)}");
            Console.WriteLine(limits.PeakWorkingSetOutsideSamples is long peakBytes
                ? $"peak working set: {peakBytes / (1024.0 * 1024.0):F0} MiB (the machine-limit samples left out)"
                : $"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB (including the machine-limit samples' {2 * (limits.Best.CopyBytes >> 20)} MiB copy)");
            limits.Sample(runner.DefaultThreads);
            var floors = ReportLimits(limits, new[] { sentiment, regression, temperatures, bidirectional, attention },
                new[] { "sentiment", "regression", "temperatures", "bidirectional", "attention" });
            var peakTrain = PeakMemory.InChild("train", isQuick);
            var peakPredict = PeakMemory.InChild("predict", isQuick);
            Console.WriteLine("sentiment peak resident set (VmHWM), each task alone in a fresh child process (bench --peak-memory-of TASK), MiB: "
                + $"training (Fit, batch 30) {MiB(peakTrain)}, Predict (batch 256, then single samples) {MiB(peakPredict)}");
            Console.WriteLine("library kernel checks:");
            foreach (var check in KernelChecks.Results)
            {
                Console.WriteLine($"  {check}");
            }

            Console.WriteLine(
                $"bench train_ratio_sentiment={F(sentiment.TrainRatio)} infer_ratio_sentiment={F(sentiment.InferRatio)} "
                + $"train_ratio_regression={F(regression.TrainRatio)} infer_ratio_regression={F(regression.InferRatio)} "
                + $"gflops_train_sentiment={F(sentiment.TrainLibrary * sentiment.TrainFlopsPerSample / 1e9)} "
                + $"hand_inference_correct={(new[] { sentiment, regression, temperatures, bidirectional, attention }.All(r => r.HandInferenceCorrect) ? "yes" : "no")} "
                + $"infer_ratio_correct_sentiment={F(sentiment.InferRatioCorrect)} latency_ratio_correct_sentiment={F(sentiment.LatencyHandCorrect / sentiment.LatencyLibrary.Median)} "
                + $"infer_ratio_correct_regression={F(regression.InferRatioCorrect)} latency_ratio_correct_regression={F(regression.LatencyHandCorrect / regression.LatencyLibrary.Median)} "
                + $"train_ratio_temperatures={F(temperatures.TrainRatio)} infer_ratio_correct_temperatures={F(temperatures.InferRatioCorrect)} "
                + $"train_ratio_bidirectional={F(bidirectional.TrainRatio)} infer_ratio_correct_bidirectional={F(bidirectional.InferRatioCorrect)} "
                + $"train_ratio_attention={F(attention.TrainRatio)} infer_ratio_correct_attention={F(attention.InferRatioCorrect)} "
                + $"onnx_batch_ratio_sentiment={F(onnx.BatchRatio)} onnx_latency_ratio_sentiment={F(onnx.LatencyLibrary.Median / onnx.LatencyOnnx.Median)} "
                + $"floor_fraction_train_sentiment={F(floors[0])} peak_mib_train_sentiment={(peakTrain is null ? "failed" : peakTrain.PeakMiB.ToString("F0", CultureInfo.InvariantCulture))} "
                + $"peak_mib_predict_sentiment={(peakPredict is null ? "failed" : peakPredict.PeakMiB.ToString("F0", CultureInfo.InvariantCulture))}");
            return 0;
        });
        return command;
    }

    private static string MiB(PeakMemory.Result? r) => r is null ? "failed (see stderr)" : string.Create(CultureInfo.InvariantCulture, $"peak {r.PeakMiB:F0} (before the task {r.BeforeMiB:F0})");

    /// <summary>
    /// Prints the machine's limits and, per model, the floor of a training step and of an inference batch from the
    /// counted FLOPs and bytes, and the fraction of it the library and the hand-written code reach
    /// (floor / measured time). Returns the library's training fractions in the order of <paramref name="results"/>.
    /// </summary>
    private static double[] ReportLimits(MachineLimits sampled, Result[] results, string[] names)
    {
        var limits = sampled.Best;
        var peak = limits.PeakFlopsPerSecond;
        var bandwidth = limits.CopyBytesPerSecond;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"machine limits ({SystemReport.CpuModel}, libtorch {limits.Threads} threads, best of {sampled.Samples} samples spread through the run): float32 GEMM {limits.GemmSize}x{limits.GemmSize} {limits.GemmFlopsPerSecond / 1e9:F1} GFLOP/s; "
            + $"seed conv1d ({MachineLimits.ConvBatch}x{MachineLimits.ConvChannels}x{MachineLimits.ConvSteps} -> {MachineLimits.ConvFilters} filters, kernel {MachineLimits.ConvKernel}) {limits.ConvFlopsPerSecond / 1e9:F1} GFLOP/s; "
            + $"copy_ of {limits.CopyBytes >> 20} MiB {bandwidth / 1e9:F1} GB/s (read + written); library threads now {ThreadPolicy.Describe()}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"floors: counted FLOPs / {peak / 1e9:F1} GFLOP/s (the higher peak) + counted bytes / {bandwidth / 1e9:F1} GB/s; fraction = floor / measured time (1 = at the machine's limit); \"no act.\" leaves activation bytes out (they may stay in cache)"));
        Console.WriteLine($"{"model",-14} {"phase",-6} {"batch",5} {"GFLOP",8} {"MB w+state",10} {"MB act.",8} {"MB other",8} {"floor ms",9} {"no act.",8} {"library ms",10} {"fraction",8} {"no act.",8} {"hand ms",8} {"fraction",8}");
        var fractions = new double[results.Length];
        for (var i = 0; i < results.Length; i++)
        {
            var r = results[i];
            foreach (var (phase, flopsPerSample, bytes, library, hand) in new[]
            {
                ("train", r.TrainFlopsPerSample, r.TrainBytes, r.TrainLibrary, r.TrainHand),
                ("infer", r.InferFlopsPerSample, r.InferBytes, r.InferLibrary, r.HandInferenceCorrect ? Math.Max(r.InferHand, r.InferHandAutograd) : r.InferHandAutograd),
            })
            {
                var flops = flopsPerSample * r.BatchSize;
                var total = bytes.Step(r.BatchSize);
                var activations = bytes.Activations * r.BatchSize;
                var floor = ByteCount.FloorSeconds(flops, total, peak, bandwidth);
                var floorNoActivations = ByteCount.FloorSeconds(flops, total - activations, peak, bandwidth);
                var libraryStep = r.BatchSize / library;
                var handStep = r.BatchSize / hand;
                if (phase == "train")
                {
                    fractions[i] = floor / libraryStep;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{names[i],-14} {phase,-6} {r.BatchSize,5} {flops / 1e9,8:F3} {bytes.PerStep / 1e6,10:F2} {activations / 1e6,8:F2} {(total - bytes.PerStep - activations) / 1e6,8:F2} {floor * 1e3,9:F3} {floorNoActivations * 1e3,8:F3} {libraryStep * 1e3,10:F3} {floor / libraryStep,8:F2} {floorNoActivations / libraryStep,8:F2} {handStep * 1e3,8:F3} {floor / handStep,8:F2}"));
            }
        }

        return fractions;
    }

    private static Result Report(Result r, string name)
    {
        Console.WriteLine($"{name} train samples/s: library {F(r.TrainLibrary)}, hand-written {F(r.TrainHand)}, ratio {F(r.TrainRatio)}");
        Console.WriteLine($"{name} inference samples/s (batch): library {F(r.InferLibrary)}, hand-written {F(r.InferHand)}, ratio {F(r.InferRatio)}");
        Console.WriteLine($"{name} hand-written no_grad inference on this CPU: {(r.HandInferenceCorrect ? "correct" : "WRONG")} (largest difference from its autograd forward {r.HandInferenceDifference:0.0e+00})");
        Console.WriteLine($"{name} hand-written inference samples/s with autograd (training kernels, correct everywhere): {F(r.InferHandAutograd)}; library / correct hand-written path {F(r.InferRatioCorrect)}");
        Console.WriteLine($"{name} single-sample latency ms: library median {F(r.LatencyLibrary.Median)} p99 {F(r.LatencyLibrary.P99)}, hand-written median {F(r.LatencyHand.Median)} p99 {F(r.LatencyHand.P99)}, hand-written with autograd median {F(r.LatencyHandAutograd.Median)} p99 {F(r.LatencyHandAutograd.P99)}; correct hand-written path / library {F(r.LatencyHandCorrect / r.LatencyLibrary.Median)}");
        Console.WriteLine($"{name} training GFLOP/s (counted): library {F(r.TrainLibrary * r.TrainFlopsPerSample / 1e9)}, hand-written {F(r.TrainHand * r.TrainFlopsPerSample / 1e9)}");
        return r;
    }
}
