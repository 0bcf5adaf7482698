using System.Diagnostics;
using System.Globalization;
using KerasStyle.Models;
using static TorchSharp.torch;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// Measures a workload both ways in one process, alternating library and hand-written rounds so drift in machine
/// load hits both alike, and reports medians.
/// </summary>
internal sealed class BenchRunner(int rounds, int stepsPerRound, int latencyCalls)
{
    // libtorch's own default, read before the library sets anything: the hand-written side runs as a user's code
    // would. The library sets the thread count of the calling thread before each batch (ThreadPolicy), so the hand
    // side gets its count back before each of its runs.
    private readonly int handThreads = get_num_threads();

    /// <summary>libtorch's default thread count, read before the library set any (the hand-written side's and the machine limits' count).</summary>
    public int DefaultThreads => handThreads;

    /// <param name="HandInferenceDifference">Largest difference between the hand-written model's no_grad output and
    /// its autograd forward (libtorch's inference kernels against its training kernels, which the library checks).</param>
    /// <param name="TrainRatio">Median over rounds of library / hand-written training throughput, each round's pair
    /// measured back to back (steadier on a shared machine than the ratio of the medians).</param>
    /// <param name="InferRatio">The same for inference at batch size against the hand-written no_grad path.</param>
    /// <param name="InferRatioCorrect">The same against the hand-written path that is correct on this CPU.</param>
    public sealed record Result(double TrainLibrary, double TrainHand, double InferLibrary, double InferHand, double InferHandAutograd,
        (double Median, double P99) LatencyLibrary, (double Median, double P99) LatencyHand, (double Median, double P99) LatencyHandAutograd,
        double TrainFlopsPerSample, double HandInferenceDifference, double TrainRatio, double InferRatio, double InferRatioCorrect)
    {
        /// <summary>The training batch size (also the inference batch size of the throughput figures).</summary>
        public int BatchSize { get; init; }

        /// <summary>Counted forward FLOPs of a sample (inference).</summary>
        public double InferFlopsPerSample { get; init; }

        /// <summary>Counted bytes of a training step (<see cref="ByteCount.Training"/>).</summary>
        public ByteCount.Traffic TrainBytes { get; init; } = new(0, 0);

        /// <summary>Counted bytes of an inference batch (<see cref="ByteCount.Inference"/>).</summary>
        public ByteCount.Traffic InferBytes { get; init; } = new(0, 0);

        /// <summary>The largest difference from the autograd forward that still counts as correct (float rounding).</summary>
        public const double CorrectTolerance = 1e-5;

        /// <summary>Whether the hand-written no_grad path gives correct numbers on this CPU.</summary>
        public bool HandInferenceCorrect => HandInferenceDifference <= CorrectTolerance;

        /// <summary>The hand-written single-sample median latency on a correct path: no_grad where it is right, else autograd.</summary>
        public double LatencyHandCorrect => HandInferenceCorrect ? Math.Min(LatencyHand.Median, LatencyHandAutograd.Median) : LatencyHandAutograd.Median;
    }

    public Result Run(Workload workload)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(1);
        using var library = workload.Library();
        using var hand = workload.HandWritten();
        var samples = workload.BatchSize * stepsPerRound;
        var (x, y) = workload.Data(samples);
        using var xOwner = x;
        using var yOwner = y;

        // Warm-up: one pass each, unmeasured; it also sizes the rounds so each lasts long enough to time well.
        var trainPasses = Passes(TrainLibrary(library, x, y, workload.BatchSize) + HandSide(() => TrainHand(hand, x, y, workload.BatchSize)));
        var inferPasses = Passes(InferLibrary(library, x, workload.BatchSize) + HandSide(() => InferHand(hand.Infer, x, workload.BatchSize)));

        double handDifference;
        using (var check = x.narrow(0, 0, Math.Min(workload.BatchSize, x.shape[0])))
        using (var fast = hand.Infer(check))
        using (var correct = hand.InferWithAutograd(check))
        using (var difference = (fast - correct).abs().max())
        {
            handDifference = difference.item<float>();
        }

        var trainLib = new List<double>();
        var trainHand = new List<double>();
        var inferLib = new List<double>();
        var inferHand = new List<double>();
        var inferHandAutograd = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            trainLib.Add(trainPasses * samples / Repeat(trainPasses, () => TrainLibrary(library, x, y, workload.BatchSize)));
            trainHand.Add(trainPasses * samples / HandSide(() => Repeat(trainPasses, () => TrainHand(hand, x, y, workload.BatchSize))));
            inferLib.Add(inferPasses * samples / Repeat(inferPasses, () => InferLibrary(library, x, workload.BatchSize)));
            inferHand.Add(inferPasses * samples / HandSide(() => Repeat(inferPasses, () => InferHand(hand.Infer, x, workload.BatchSize))));
            inferHandAutograd.Add(inferPasses * samples / HandSide(() => Repeat(inferPasses, () => InferHand(hand.InferWithAutograd, x, workload.BatchSize))));
        }

        var single = x.narrow(0, 0, 1);
        var array = workload.SingleSample(single);
        var latencyLib = new List<double>();
        var latencyHand = new List<double>();
        var latencyHandAutograd = new List<double>();
        double HandLatency(Func<Tensor, Tensor> infer) => Time(() =>
        {
            using var scope = NewDisposeScope();
            using var input = TensorFromArray(array);
            _ = infer(input).data<float>().ToArray();
        });
        // Blocks of consecutive calls, alternating between the sides: a service answers one request after another,
        // and a side's first call in a block (which pays for the other side's thread count) is one call in 50.
        const int Block = 50;
        for (var done = 0; done < latencyCalls; done += Block)
        {
            var calls = Math.Min(Block, latencyCalls - done);
            for (var i = 0; i < calls; i++)
            {
                latencyLib.Add(Time(() => library.Predict(array)));
            }

            set_num_threads(handThreads);
            for (var i = 0; i < calls; i++)
            {
                latencyHand.Add(HandLatency(hand.Infer));
            }

            for (var i = 0; i < calls; i++)
            {
                latencyHandAutograd.Add(HandLatency(hand.InferWithAutograd));
            }
        }

        List<double> Ratios(List<double> library, List<double> hand) => library.Select((value, i) => value / hand[i]).ToList();
        var handCorrect = handDifference <= Result.CorrectTolerance
            ? inferHand.Select((value, i) => Math.Max(value, inferHandAutograd[i])).ToList()
            : inferHandAutograd;
        return new Result(Median(trainLib), Median(trainHand), Median(inferLib), Median(inferHand), Median(inferHandAutograd),
            Percentiles(latencyLib), Percentiles(latencyHand), Percentiles(latencyHandAutograd), FlopCount.TrainingPerSample(library), handDifference,
            Median(Ratios(trainLib, trainHand)), Median(Ratios(inferLib, inferHand)), Median(Ratios(inferLib, handCorrect)))
        {
            BatchSize = workload.BatchSize,
            InferFlopsPerSample = FlopCount.ForwardPerSample(library),
            TrainBytes = ByteCount.Training(library),
            InferBytes = ByteCount.Inference(library),
        };
    }

    /// <summary>Runs a measurement of the hand-written side with libtorch's default thread count.</summary>
    private double HandSide(Func<double> measure)
    {
        set_num_threads(handThreads);
        return measure();
    }

    /// <summary>Passes per measured round so that a round of both sides lasts about <see cref="RoundSeconds"/>.</summary>
    private int Passes(double warmupSeconds) => Math.Clamp((int)Math.Ceiling(RoundSeconds / Math.Max(warmupSeconds, 1e-6)), 1, 1000);

    private double RoundSeconds => stepsPerRound <= 2 ? 0 : 0.5;

    private static double Repeat(int passes, Func<double> pass)
    {
        var total = 0.0;
        for (var i = 0; i < passes; i++)
        {
            total += pass();
        }

        return total;
    }

    private static Tensor TensorFromArray(Array array) => array switch
    {
        long[,] ids => tensor(ids),
        float[,,] values => tensor(values),
        float[,,,] values => tensor(values),
        _ => throw new ArgumentException($"Unexpected sample array {array.GetType().Name}."),
    };

    private static double TrainLibrary(Model model, Tensor x, Tensor y, int batchSize) =>
        Time(() => model.Fit(x, y, batchSize: batchSize, epochs: 1, verbose: 0, shuffle: true));

    private static double TrainHand(HandWrittenModel model, Tensor x, Tensor y, int batchSize) => Time(() =>
    {
        var samples = x.shape[0];
        using var order = randperm(samples);
        for (long start = 0; start < samples; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var index = order.narrow(0, start, Math.Min(batchSize, samples - start));
            model.TrainStep(x.index_select(0, index), y.index_select(0, index));
        }
    });

    private static double InferLibrary(Model model, Tensor x, int batchSize) => Time(() =>
    {
        foreach (var output in model.PredictTensors(new[] { x }, batchSize))
        {
            output.Dispose();
        }
    });

    private static double InferHand(Func<Tensor, Tensor> infer, Tensor x, int batchSize) => Time(() =>
    {
        var samples = x.shape[0];
        var outputs = new List<Tensor>();
        for (long start = 0; start < samples; start += batchSize)
        {
            using var scope = NewDisposeScope();
            outputs.Add(infer(x.narrow(0, start, Math.Min(batchSize, samples - start))).MoveToOuterDisposeScope());
        }

        using var all = cat(outputs, 0);
        outputs.ForEach(o => o.Dispose());
    });

    internal static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    internal static (double Median, double P99) Percentiles(List<double> seconds)
    {
        var sorted = seconds.Order().ToArray();
        var p99 = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.99 * sorted.Length) - 1)];
        return (Median(seconds) * 1e3, p99 * 1e3);
    }

    public static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
