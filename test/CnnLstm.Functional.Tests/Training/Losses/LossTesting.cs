using KerasStyle.Models;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>Evaluates a loss through the public API: a pass-through model whose output is exactly x.</summary>
internal static class LossTesting
{
    /// <summary>Keras' float32 clip bounds: epsilon 1e-7 and 1 - 1e-7 as float32 values.</summary>
    public static readonly double Low = (float)1e-7;
    public static readonly double High = (float)(1 - 1e-7);

    public static double Evaluate(string loss, float[,] x, Array y, string? activation = null)
    {
        using var model = TinyModels.Linear(TinyModels.Identity(x.GetLength(1)), activation);
        model.Compile("sgd", loss);
        return model.Evaluate(x, y)["loss"];
    }

    public static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}
