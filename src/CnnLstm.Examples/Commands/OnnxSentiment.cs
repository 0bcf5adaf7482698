using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KerasStyle.Examples.Commands;

/// <summary>Runs an exported sentiment model through ONNX Runtime, without TorchSharp.</summary>
internal static class OnnxSentiment
{
    /// <summary>Probabilities (reviews, 1) for padded token ids (reviews, steps), fed as the graph input's element type.</summary>
    public static float[,] Predict(string path, int[,] tokens)
    {
        using var session = new InferenceSession(path);
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count != 1)
        {
            throw new ArgumentException($"'{path}' has {session.InputMetadata.Count} inputs and {session.OutputMetadata.Count} outputs; predict scores reviews with a model of one token input and one output (the exported sentiment model).", nameof(path));
        }

        var input = session.InputMetadata.Single();
        var (rows, steps) = (tokens.GetLength(0), tokens.GetLength(1));
        if (input.Value.Dimensions.Length != 2 || input.Value.Dimensions[1] != steps)
        {
            throw new ArgumentException($"'{path}' takes input '{input.Key}' of shape ({string.Join(", ", input.Value.Dimensions.Select(d => d < 0 ? "batch" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}), not reviews padded to {steps} tokens; export the sentiment model.", nameof(path));
        }

        var dims = new[] { rows, steps };
        var ids = tokens.Cast<int>();
        var feed = input.Value.ElementDataType switch
        {
            TensorElementType.Int64 => NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<long>(ids.Select(v => (long)v).ToArray(), dims)),
            TensorElementType.Int32 => NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<int>(ids.ToArray(), dims)),
            _ => NamedOnnxValue.CreateFromTensor(input.Key, new DenseTensor<float>(ids.Select(v => (float)v).ToArray(), dims)),
        };
        using var results = session.Run(new[] { feed });
        var scores = results.First().AsTensor<float>().ToArray();
        var probabilities = new float[rows, 1];
        for (var i = 0; i < rows; i++)
        {
            probabilities[i, 0] = scores[i];
        }

        return probabilities;
    }
}
