using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests;

/// <summary>Small models and data sets that train in milliseconds.</summary>
internal static class TinyModels
{
    /// <summary>Input(rows) -> Dense(columns, no bias) whose kernel is <paramref name="kernel"/>.</summary>
    public static Model Linear(float[,] kernel, string? activation = null)
    {
        var input = new Input(new[] { kernel.GetLength(0) });
        var output = new Dense(kernel.GetLength(1), activation, useBias: false).Call(input);
        var model = new Model(input, output);
        model.SetWeights(new[] { WeightArray.FromArray(kernel) });
        return model;
    }

    /// <summary>The n x n identity, so that <see cref="Linear"/> passes its input through.</summary>
    public static float[,] Identity(int n)
    {
        var result = new float[n, n];
        for (var i = 0; i < n; i++)
        {
            result[i, i] = 1;
        }

        return result;
    }

    /// <summary>Input(features) -> Dense(hidden, tanh) -> Dense(1, outputActivation).</summary>
    public static Model Mlp(int features = 2, int hidden = 4, string? outputActivation = "sigmoid")
    {
        var input = new Input(new[] { features });
        var h = new Dense(hidden, activation: "tanh").Call(input);
        return new Model(input, new Dense(1, activation: outputActivation).Call(h));
    }

    /// <summary>Two separable classes in the plane: label 1 around (1, 1), label 0 around (-1, -1).</summary>
    public static (float[,] X, float[] Y) Blobs(int count, int seed = 3)
    {
        var random = new Random(seed);
        var x = new float[count, 2];
        var y = new float[count];
        for (var i = 0; i < count; i++)
        {
            y[i] = i % 2;
            var centre = y[i] == 1 ? 1.0 : -1.0;
            x[i, 0] = (float)(centre + (random.NextDouble() - 0.5));
            x[i, 1] = (float)(centre + (random.NextDouble() - 0.5));
        }

        return (x, y);
    }

    /// <summary>All weight values of a model, flattened in Keras order.</summary>
    public static float[] Flat(Model model) => model.GetWeights().SelectMany(w => w.Data).ToArray();
}

/// <summary>Redirects <see cref="Console.Out"/> to a string until disposed.</summary>
internal sealed class ConsoleCapture : IDisposable
{
    private readonly TextWriter original = Console.Out;
    private readonly StringWriter writer = new();

    public ConsoleCapture() => Console.SetOut(writer);

    public string Text => writer.ToString();

    public void Dispose()
    {
        Console.SetOut(original);
        writer.Dispose();
    }
}
