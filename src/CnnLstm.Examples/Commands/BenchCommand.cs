using System.CommandLine;
using System.Diagnostics;
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
        var command = new Command("bench", "Measure the library against hand-written TorchSharp on the seed models, the TimeDistributed CNN-LSTM, the Bidirectional model and the self-attention model, and the exported sentiment model in ONNX Runtime against Predict.") { quick, rounds, steps, distrust };
        command.SetAction(result =>
        {
            var isQuick = result.GetValue(quick);
            foreach (var kernel in result.GetValue(distrust) ?? Array.Empty<string>())
            {
                KernelChecks.Distrust(kernel);
            }

            var runner = isQuick ? new BenchRunner(1, 2, 5) : new BenchRunner(result.GetValue(rounds), result.GetValue(steps), 1000);
            Console.WriteLine($"bench: {SystemReport.CpuModel}, {Environment.ProcessorCount} cores, threads {ThreadPolicy.Describe()}, {(isQuick ? "quick" : "full")} run");
            var sentiment = Report(runner.Run(Workloads.Sentiment), "sentiment");
            var regression = Report(runner.Run(Workloads.Regression), "regression");
            var temperatures = Report(runner.Run(Workloads.Temperatures), "temperatures");
            var bidirectional = Report(runner.Run(Workloads.Bidirectional), "bidirectional");
            var attention = Report(runner.Run(Workloads.Attention), "attention");
            var onnx = new OnnxRuntimeBench(isQuick ? 1 : result.GetValue(rounds), isQuick ? 5 : 1000).Run(Workloads.Sentiment);
            Console.WriteLine($"sentiment through ONNX Runtime (exported, default session options), same token ids, largest output difference {onnx.MaxDifference:0.0e+00}:");
            Console.WriteLine($"sentiment inference samples/s (batch 256): library Predict {F(onnx.BatchLibrary)}, ONNX Runtime {F(onnx.BatchOnnx)}, ONNX Runtime / library {F(onnx.BatchRatio)}");
            Console.WriteLine($"sentiment single-sample latency ms: library Predict median {F(onnx.LatencyLibrary.Median)} p99 {F(onnx.LatencyLibrary.P99)}, ONNX Runtime median {F(onnx.LatencyOnnx.Median)} p99 {F(onnx.LatencyOnnx.P99)}");
            Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB");
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
                + $"onnx_batch_ratio_sentiment={F(onnx.BatchRatio)} onnx_latency_ratio_sentiment={F(onnx.LatencyLibrary.Median / onnx.LatencyOnnx.Median)}");
            return 0;
        });
        return command;
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
