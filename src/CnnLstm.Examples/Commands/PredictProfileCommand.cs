using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KerasStyle.Engine;
using KerasStyle.Layers;
using KerasStyle.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace KerasStyle.Examples.Commands;

/// <summary>
/// <c>predict-profile</c>: where a <c>Predict</c> call's time goes for the seed models (issue 27), at one sample and
/// at batch 256, against ONNX Runtime on the exported model in the same process. Each figure is the median of many
/// calls, the library and ONNX Runtime alternating in blocks, so that the ratios hold on a loaded machine. The stages
/// are timed through public calls: the whole <c>Predict</c> on arrays; <c>PredictTensors</c> (no array conversion);
/// the model's <c>Invoke</c> under inference mode (the graph with its input checks, no batching, no read lock, no
/// thread policy); each layer's <c>Invoke</c> on the previous layer's output; and the torch primitives the loop calls
/// (array to tensor, tensor to array, thread count, dispose scope, inference mode).
/// </summary>
internal static class PredictProfileCommand
{
    private const int Samples = 1024;
    private const int BatchSize = 256;

    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "A short run that only checks the profile completes (figures are not meaningful)." };
        var calls = ExampleOptions.Positive("--calls", "Timed single-sample calls per side and stage.", 600);
        var rounds = ExampleOptions.Positive("--rounds", "Timed batch-256 rounds per side and stage (each predicts 1,024 samples).", 9);
        var only = new Option<string?>("--model") { Description = "Profile one model only: sentiment or regression." };
        only.AcceptOnlyFromAmong("sentiment", "regression");
        var threads = new Option<int?>("--threads") { Description = "Pin the library's thread count (ThreadPolicy.FixedThreads) instead of its adaptive policy; ONNX Runtime keeps its default." };
        var command = new Command("predict-profile", "Time each stage of Predict on the seed models, at one sample and at batch 256, against ONNX Runtime on the exported model (issue 27).")
        {
            quick, calls, rounds, only, threads,
        };
        command.SetAction(result =>
        {
            var isQuick = result.GetValue(quick);
            ThreadPolicy.FixedThreads = result.GetValue(threads);
            var n = isQuick ? 10 : result.GetValue(calls);
            var r = isQuick ? 1 : result.GetValue(rounds);
            Console.WriteLine($"predict-profile: {SystemReport.CpuModel}, {Environment.ProcessorCount} cores, threads {ThreadPolicy.Describe()}, {n} single calls, {r} batch rounds{(isQuick ? " (quick)" : string.Empty)}");
            var which = result.GetValue(only);
            var lines = new List<string>();
            if (which is null or "sentiment")
            {
                lines.Add(Profile("sentiment", () => CnnLstmModels.Sentiment(), samples => randint(0, 20000, new long[] { samples, 100 }, ScalarType.Int64), n, r));
            }

            if (which is null or "regression")
            {
                lines.Add(Profile("regression", () => CnnLstmModels.Regression(), samples => rand(samples, 1, 3), n, r));
            }

            foreach (var line in lines)
            {
                Console.WriteLine(line);
            }

            Console.WriteLine($"threads at the end: {ThreadPolicy.Describe()}");

            return 0;
        });
        return command;
    }

    private static string Profile(string name, Func<Model> build, Func<int, Tensor> data, int calls, int rounds)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(1);
        using var model = build();
        using var xAll = data(Samples);
        var isTokens = xAll.dtype == ScalarType.Int64;
        Array all = isTokens ? (long[,])xAll.data<long>().ToNDArray() : (float[,,])xAll.data<float>().ToNDArray();
        using var xOne = xAll.narrow(0, 0, 1).contiguous();
        Array one = isTokens ? (long[,])xOne.data<long>().ToNDArray() : (float[,,])xOne.data<float>().ToNDArray();
        var perSample = (int)(xAll.numel() / Samples);
        var dims = xAll.shape.Skip(1).Select(d => (int)d).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"kerasstyle-profile-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Export(path);
            using var session = new InferenceSession(path);
            var input = session.InputMetadata.Keys.Single();
            var ids = isTokens ? xAll.data<long>().ToArray() : null;
            var floats = isTokens ? null : xAll.data<float>().ToArray();
            float[] RunOnnx(int start, int count)
            {
                var shape = new[] { count }.Concat(dims).ToArray();
                var feed = isTokens
                    ? NamedOnnxValue.CreateFromTensor(input, new DenseTensor<long>(ids.AsMemory(start * perSample, count * perSample), shape))
                    : NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(floats.AsMemory(start * perSample, count * perSample), shape));
                using var results = session.Run(new[] { feed });
                return results.First().AsTensor<float>().ToArray();
            }

            float[] OnnxAll()
            {
                var outputs = new List<float>(Samples);
                for (var b = 0; b < Samples / BatchSize; b++)
                {
                    outputs.AddRange(RunOnnx(b * BatchSize, BatchSize));
                }

                return outputs.ToArray();
            }

            var library = ((float[,])model.Predict(all, BatchSize)).Cast<float>().ToArray();
            var difference = library.Zip(OnnxAll(), (a, b) => Math.Abs(a - b)).Max();

            // Batch 256: rounds alternating between the sides; each stage also against the same rounds.
            using var tensorAll = xAll.alias();
            var batchStages = new (string Name, Action Run)[]
            {
                ("onnx", () => OnnxAll()),
                ("predict", () => model.Predict(all, BatchSize)),
                ("predict_tensors", () => model.PredictTensors(new[] { tensorAll }, BatchSize).ForEach(t => t.Dispose())),
                ("graph", () => GraphOnly(model, xAll, BatchSize)),
            };
            using var xBatch = xAll.narrow(0, 0, BatchSize);
            var batchLayers = model.Layers.Where(l => l is not InputLayer).ToArray();
            for (var i = 0; i < batchLayers.Length; i++)
            {
                // Each layer at batch 256, four times per round, so that its figure is per 1,024 samples as the others.
                var upTo = i;
                batchStages = batchStages.Append(($"layer{i}_{batchLayers[i].Name}", () => LayerAlone(batchLayers, upTo, xBatch, Samples / BatchSize))).ToArray();
            }

            var batch = Alternate(batchStages, rounds, 1);

            // One sample: blocks of calls alternating between the stages.
            var oneStages = new List<(string Name, Action Run)>
            {
                ("onnx", () => RunOnnx(0, 1)),
                ("predict", () => model.Predict(one)),
                ("predict_tensors", () => model.PredictTensors(new[] { xOne }, 1).ForEach(t => t.Dispose())),
                ("graph", () => GraphOnly(model, xOne, 1)),
                ("to_tensor", () => ToTensor(one).Dispose()),
                ("to_array", () => ToArray(xOne.narrow(1, 0, 1))),
                ("threads", () => set_num_threads(get_num_threads())),
                ("dispose_scope", () => NewDisposeScope().Dispose()),
                ("inference_mode", () => inference_mode(true).Dispose()),
            };
            var layers = model.Layers.Where(l => l is not InputLayer).ToArray();
            for (var i = 0; i < layers.Length; i++)
            {
                var upTo = i;
                oneStages.Add(($"layer{i}_{layers[i].Name}", () => LayerAlone(layers, upTo, xOne)));
            }

            set_num_threads(1);
            var single = Alternate(oneStages, Math.Max(1, calls / 50), 50);
            var lines = new List<string>
            {
                $"{name}: ONNX Runtime {difference:0.0e+00} from Predict; batch {BatchSize} samples/s: Predict {F(Samples / batch["predict"])}, ONNX Runtime {F(Samples / batch["onnx"])}",
                $"{name} batch {BatchSize} ms per 1,024 samples (medians): " + string.Join(", ", batch.Select(kv => $"{kv.Key} {F(kv.Value * 1e3)}")),
                $"{name} one sample µs (medians): " + string.Join(", ", single.Select(kv => $"{kv.Key} {F(kv.Value * 1e6)}")),
                $"profile {name}_batch_ratio={F(batch["onnx"] / batch["predict"])} {name}_latency_ratio={F(single["predict"] / single["onnx"])}",
            };
            return string.Join(Environment.NewLine, lines);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The graph alone: the model's Invoke under inference mode, one dispose scope per batch.</summary>
    private static void GraphOnly(Model model, Tensor x, int batchSize)
    {
        using var inference = inference_mode(true);
        for (long start = 0; start < x.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(batchSize, x.shape[0] - start);
            set_num_threads(length <= 1 ? 1 : ThreadPolicy.CurrentThreads);
            _ = model.Invoke(length == x.shape[0] ? x : x.narrow(0, start, length));
        }
    }

    /// <summary>Layer <paramref name="upTo"/>'s Invoke alone: the layers before it run first, untimed, in the same scope.</summary>
    private static void LayerAlone(Layer[] layers, int upTo, Tensor x, int repeat = 1)
    {
        using var inference = inference_mode(true);
        using var scope = NewDisposeScope();
        var value = x;
        for (var i = 0; i < upTo; i++)
        {
            value = layers[i].Invoke(value);
        }

        set_num_threads(x.shape[0] <= 1 ? 1 : ThreadPolicy.CurrentThreads);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < repeat; i++)
        {
            layers[upTo].Invoke(value).Dispose();
        }

        lastLayerSeconds = clock.Elapsed.TotalSeconds;
    }

    [ThreadStatic]
    private static double? lastLayerSeconds;

    private static Tensor ToTensor(Array array) => array is long[,] tokens
        ? tensor(tokens.Cast<long>().ToArray(), new long[] { tokens.GetLength(0), tokens.GetLength(1) })
        : tensor(((float[,,])array).Cast<float>().ToArray(), new long[] { array.GetLength(0), array.GetLength(1), array.GetLength(2) });

    private static float[] ToArray(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    /// <summary>Median seconds of each stage, the stages run in turn, <paramref name="block"/> calls each, for <paramref name="rounds"/> rounds.</summary>
    private static Dictionary<string, double> Alternate(IReadOnlyList<(string Name, Action Run)> stages, int rounds, int block)
    {
        // Warm-up to steady state: .NET compiles a method fully (tier 1) only after about 30 calls and a pause of
        // 100 ms without new compilations; without it a short run times unoptimised library code (a regression-only
        // run printed batch ratios 0.67-0.74 where the same build after the sentiment stages printed 1.55).
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var (_, run) in stages)
            {
                for (var i = 0; i < Math.Max(2, 40 / block); i++)
                {
                    run();
                }
            }

            Thread.Sleep(300);
        }

        var times = stages.ToDictionary(s => s.Name, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (stageName, run) in stages)
            {
                for (var i = 0; i < block; i++)
                {
                    lastLayerSeconds = null;
                    var clock = Stopwatch.StartNew();
                    run();
                    var elapsed = clock.Elapsed.TotalSeconds;
                    times[stageName].Add(lastLayerSeconds ?? elapsed);
                }
            }
        }

        return times.ToDictionary(kv => kv.Key, kv => Median(kv.Value));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
