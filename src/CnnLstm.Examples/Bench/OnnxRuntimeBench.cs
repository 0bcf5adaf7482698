using KerasStyle.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static KerasStyle.Examples.Bench.BenchRunner;

namespace KerasStyle.Examples.Bench;

/// <summary>
/// The sentiment model exported to ONNX and run by ONNX Runtime (default session options) next to the library's
/// <c>Predict</c> in the same process: batch throughput (rounds alternating between the sides, the ratio of each
/// round pair) and single-sample latency (blocks of consecutive calls alternating between the sides), on the same
/// token ids, after checking both give the same outputs.
/// </summary>
internal sealed class OnnxRuntimeBench(int rounds, int latencyCalls)
{
    private const int Samples = 1024;
    private const int BatchSize = 256;

    /// <param name="BatchLibrary">Library samples/s at batch <see cref="BatchSize"/>.</param>
    /// <param name="BatchOnnx">ONNX Runtime samples/s at the same batch size.</param>
    /// <param name="BatchRatio">Median over rounds of ONNX Runtime / library throughput.</param>
    /// <param name="LatencyLibrary">Library single-sample latency, ms (median, p99).</param>
    /// <param name="LatencyOnnx">ONNX Runtime single-sample latency, ms (median, p99).</param>
    /// <param name="MaxDifference">Largest difference between the two sides' outputs.</param>
    internal sealed record Result(double BatchLibrary, double BatchOnnx, double BatchRatio, (double Median, double P99) LatencyLibrary,
        (double Median, double P99) LatencyOnnx, double MaxDifference);

    public Result Run(Workload workload)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(1);
        using var model = workload.Library();
        var (x, y) = workload.Data(Samples);
        using var xOwner = x;
        using var yOwner = y;
        var tokens = (long[,])workload.SingleSample(x);
        var path = Path.Combine(Path.GetTempPath(), $"kerasstyle-bench-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Export(path);
            using var session = new InferenceSession(path);
            var input = session.InputMetadata.Keys.Single();
            var ids = tokens.Cast<long>().ToArray();
            float[] RunOnnx(int start, int count)
            {
                var feed = NamedOnnxValue.CreateFromTensor(input, new DenseTensor<long>(ids.AsMemory(start * 100, count * 100), new[] { count, 100 }));
                using var results = session.Run(new[] { feed });
                return results.First().AsTensor<float>().ToArray();
            }

            float[] OnnxBatch() => Enumerable.Range(0, Samples / BatchSize).SelectMany(b => RunOnnx(b * BatchSize, BatchSize)).ToArray();

            var library = model.Predict<float[,]>(tokens, BatchSize).Cast<float>().ToArray();
            var difference = library.Zip(OnnxBatch(), (a, b) => Math.Abs(a - b)).Max();

            var batchLibrary = new List<double>();
            var batchOnnx = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                batchLibrary.Add(Samples / Time(() => model.Predict(tokens, BatchSize)));
                batchOnnx.Add(Samples / Time(() => OnnxBatch()));
            }

            var one = new long[1, 100];
            Buffer.BlockCopy(tokens, 0, one, 0, 100 * sizeof(long));
            var latencyLibrary = new List<double>();
            var latencyOnnx = new List<double>();
            const int Block = 50;
            for (var done = 0; done < latencyCalls; done += Block)
            {
                var calls = Math.Min(Block, latencyCalls - done);
                for (var i = 0; i < calls; i++)
                {
                    latencyLibrary.Add(Time(() => model.Predict(one)));
                }

                for (var i = 0; i < calls; i++)
                {
                    latencyOnnx.Add(Time(() => RunOnnx(0, 1)));
                }
            }

            return new Result(Median(batchLibrary), Median(batchOnnx), Median(batchOnnx.Select((v, i) => v / batchLibrary[i]).ToList()),
                Percentiles(latencyLibrary), Percentiles(latencyOnnx), difference);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
