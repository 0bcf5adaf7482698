using System.CommandLine;
using System.Diagnostics;
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
        var rounds = ExampleOptions.Positive("--rounds", "Measured rounds per side (alternating).", 5);
        var steps = ExampleOptions.Positive("--steps", "Training steps per round.", 40);
        var command = new Command("bench", "Measure the library against hand-written TorchSharp on both seed models.") { quick, rounds, steps };
        command.SetAction(result =>
        {
            var isQuick = result.GetValue(quick);
            var runner = isQuick ? new BenchRunner(1, 2, 5) : new BenchRunner(result.GetValue(rounds), result.GetValue(steps), 200);
            Console.WriteLine($"bench: {Environment.ProcessorCount} cores, torch threads {TorchSharp.torch.get_num_threads()}, {(isQuick ? "quick" : "full")} run");
            var sentiment = Report(runner.Run(Workloads.Sentiment), "sentiment");
            var regression = Report(runner.Run(Workloads.Regression), "regression");
            Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB");
            Console.WriteLine(
                $"bench train_ratio_sentiment={F(sentiment.TrainLibrary / sentiment.TrainHand)} infer_ratio_sentiment={F(sentiment.InferLibrary / sentiment.InferHand)} "
                + $"train_ratio_regression={F(regression.TrainLibrary / regression.TrainHand)} infer_ratio_regression={F(regression.InferLibrary / regression.InferHand)} "
                + $"gflops_train_sentiment={F(sentiment.TrainLibrary * sentiment.TrainFlopsPerSample / 1e9)}");
            return 0;
        });
        return command;
    }

    private static Result Report(Result r, string name)
    {
        Console.WriteLine($"{name} train samples/s: library {F(r.TrainLibrary)}, hand-written {F(r.TrainHand)}, ratio {F(r.TrainLibrary / r.TrainHand)}");
        Console.WriteLine($"{name} inference samples/s (batch): library {F(r.InferLibrary)}, hand-written {F(r.InferHand)}, ratio {F(r.InferLibrary / r.InferHand)}");
        Console.WriteLine($"{name} single-sample latency ms: library median {F(r.LatencyLibrary.Median)} p99 {F(r.LatencyLibrary.P99)}, hand-written median {F(r.LatencyHand.Median)} p99 {F(r.LatencyHand.P99)}");
        Console.WriteLine($"{name} training GFLOP/s (counted): library {F(r.TrainLibrary * r.TrainFlopsPerSample / 1e9)}, hand-written {F(r.TrainHand * r.TrainFlopsPerSample / 1e9)}");
        return r;
    }
}
