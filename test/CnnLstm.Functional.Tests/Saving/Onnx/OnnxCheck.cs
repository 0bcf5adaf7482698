using KerasStyle.Graph;
using KerasStyle.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KerasStyle.Tests.Saving.Onnx;

/// <summary>Exports a model, runs the file in ONNX Runtime, and compares its outputs with <c>Predict</c>.</summary>
internal static class OnnxCheck
{
    /// <summary>Exports <paramref name="model"/> and asserts that ONNX Runtime gives Predict's outputs within <paramref name="tolerance"/>; returns the largest difference.</summary>
    public static double AssertMatchesPredict(Model model, IReadOnlyList<Array> inputs, double tolerance = 1e-5)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ks-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            model.Export(path);
            return AssertFileMatchesPredict(path, model, inputs, tolerance);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs an exported file on <paramref name="inputs"/> and compares every output with <c>Predict</c>.</summary>
    public static double AssertFileMatchesPredict(string path, Model model, IReadOnlyList<Array> inputs, double tolerance = 1e-5)
    {
        var expected = model.Predict(inputs);
        var actual = Run(path, model, inputs);
        var worst = 0.0;
        for (var o = 0; o < expected.Count; o++)
        {
            var want = expected[o].Cast<float>().ToArray();
            Assert.That(actual[o].Length, Is.EqualTo(want.Length), $"output {o} ({model.Outputs[o].Layer.Name}) size");
            for (var i = 0; i < want.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(actual[o][i] - want[i]));
            }

            // Relative for large outputs (a GRU with log_softmax gates reaches 25): float32 rounds them coarser.
            var scale = Math.Max(1, want.Length == 0 ? 0 : want.Max(Math.Abs));
            Assert.That(actual[o], Is.EqualTo(want).Within(tolerance * scale), $"output {o} ({model.Outputs[o].Layer.Name}) against Predict");
        }

        return worst;
    }

    /// <summary>ONNX Runtime's outputs, flattened, for inputs given as Predict takes them.</summary>
    public static float[][] Run(string path, Model model, IReadOnlyList<Array> inputs)
    {
        using var session = new InferenceSession(path);
        var feeds = session.InputMetadata.Keys.Select((name, i) => Feed(name, model.Inputs[i].DType, inputs[i])).ToList();
        using var results = session.Run(feeds);
        return results.Select(r => r.AsTensor<float>().ToArray()).ToArray();
    }

    private static NamedOnnxValue Feed(string name, DType dtype, Array values)
    {
        var dims = Enumerable.Range(0, values.Rank).Select(values.GetLength).ToArray();
        var numbers = values.Cast<object>().Select(Convert.ToDouble).ToArray();
        return dtype switch
        {
            DType.Int32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(numbers.Select(v => (int)v).ToArray(), dims)),
            DType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(numbers.Select(v => (long)v).ToArray(), dims)),
            _ => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(numbers.Select(v => (float)v).ToArray(), dims)),
        };
    }

    /// <summary>
    /// Inputs for every model input from a seed: token ids (some leading zeros, as padding) for inputs that feed an
    /// Embedding, otherwise values in [-1, 1) with some whole steps set to 0 (what Masking masks by default).
    /// </summary>
    public static Array[] RandomInputs(Model model, int batch, int seed, int unknownSteps = 7)
    {
        var random = new Random(seed);
        return model.Inputs.Select(input =>
        {
            var dims = new[] { batch }.Concat(input.Shape.Skip(1).Select(d => d ?? unknownSteps)).ToArray();
            var embeddings = model.IdCheckersFedBy(input).OfType<KerasStyle.Layers.Embedding>().ToArray();
            var array = Array.CreateInstance(input.DType switch { DType.Int32 => typeof(int), DType.Int64 => typeof(long), _ => typeof(float) }, dims);
            if (batch == 0)
            {
                return array;
            }

            var steps = dims.Length > 1 ? dims[1] : 1;
            var perSample = array.Length / batch;
            var perStep = perSample / steps;
            var padding = Enumerable.Range(0, batch).Select(_ => random.Next(0, Math.Max(1, steps / 2))).ToArray();
            var index = new int[dims.Length];
            for (var flat = 0; flat < array.Length; flat++)
            {
                var (b, t) = (flat / perSample, flat % perSample / perStep);
                double value = embeddings.Length > 0
                    ? (t < padding[b] ? 0 : random.Next(1, embeddings.Min(e => e.InputDim)))
                    : (dims.Length >= 3 && t < padding[b] ? 0 : (random.NextDouble() * 2) - 1);
                var rest = flat;
                for (var d = dims.Length - 1; d >= 0; d--)
                {
                    index[d] = rest % dims[d];
                    rest /= dims[d];
                }

                array.SetValue(Convert.ChangeType(value, array.GetType().GetElementType()!), index);
            }

            return array;
        }).ToArray();
    }
}
