using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using TorchSharp;

namespace KerasStyle.Tests;

/// <summary>Deterministic inputs and weight read-outs (Keras layout) for the layer tests.</summary>
internal static class TestData
{
    /// <summary>A (batch, steps, channels) array of values in [-1, 1) from a fixed seed.</summary>
    public static float[,,] Sequence(int batch, int steps, int channels, int seed)
    {
        var random = new Random(seed);
        var x = new float[batch, steps, channels];
        for (var b = 0; b < batch; b++)
        {
            for (var t = 0; t < steps; t++)
            {
                for (var c = 0; c < channels; c++)
                {
                    x[b, t, c] = (float)((random.NextDouble() * 2) - 1);
                }
            }
        }

        return x;
    }

    /// <summary>A (batch, features) array of values in [-1, 1) from a fixed seed.</summary>
    public static float[,] Matrix(int batch, int features, int seed)
    {
        var random = new Random(seed);
        var x = new float[batch, features];
        for (var b = 0; b < batch; b++)
        {
            for (var f = 0; f < features; f++)
            {
                x[b, f] = (float)((random.NextDouble() * 2) - 1);
            }
        }

        return x;
    }

    /// <summary>The weight's values in Keras layout, flattened row-major.</summary>
    public static float[] Flat(LayerWeight weight)
    {
        using var value = weight.ToKerasLayout();
        Assert.That(value.shape, Is.EqualTo(weight.Shape.Select(d => (long)d).ToArray()), $"{weight.FullName}: Keras-layout tensor shape");
        return value.data<float>().ToArray();
    }

    /// <summary>A rank-2 weight in Keras layout.</summary>
    public static float[,] Weight2(LayerWeight weight)
    {
        Assert.That(weight.Shape, Has.Count.EqualTo(2), weight.FullName);
        var flat = Flat(weight);
        var result = new float[weight.Shape[0], weight.Shape[1]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    /// <summary>A rank-3 weight in Keras layout.</summary>
    public static float[,,] Weight3(LayerWeight weight)
    {
        Assert.That(weight.Shape, Has.Count.EqualTo(3), weight.FullName);
        var flat = Flat(weight);
        var result = new float[weight.Shape[0], weight.Shape[1], weight.Shape[2]];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    /// <summary>
    /// Wraps one layer in a one-input model (building the layer). The caller does not dispose the model, because
    /// disposing a model disposes its layers and the tests read the layer's weights afterwards.
    /// </summary>
    public static Model Wrap(Layer layer, int[] inputShape, DType dtype = DType.Float32)
    {
        var input = new Input(inputShape, dtype);
        return new Model(input, layer.Call(input));
    }

    /// <summary>Runs one layer on one input through a one-layer model in inference mode.</summary>
    public static Array Run(Layer layer, int[] inputShape, Array x, DType dtype = DType.Float32) =>
        Wrap(layer, inputShape, dtype).Predict(x);

    /// <summary>Overwrites a weight with values in [-1, 1) from a fixed seed (e.g. to make a zero bias non-trivial).</summary>
    public static void Randomize(LayerWeight weight, int seed)
    {
        var random = new Random(seed);
        var variable = weight.Variable;
        var values = Enumerable.Range(0, (int)variable.numel()).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        using var noGrad = torch.no_grad();
        using var source = torch.tensor(values).reshape(variable.shape);
        variable.copy_(source);
    }

    /// <summary>The shape of a C# array, e.g. (2, 3, 4).</summary>
    public static int[] Dims(Array a) => Enumerable.Range(0, a.Rank).Select(a.GetLength).ToArray();
}
