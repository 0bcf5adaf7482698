using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Optimizers;

/// <summary>
/// One Dense(1) kernel w = (0.5, 0.25) without bias, one sample x = (1, 2) with target 0, loss mse = (w·x)², so the
/// gradient is 2 (w·x) x. Optimizer tests compare the library's steps with Keras' formulas computed here by hand.
/// </summary>
internal static class OptimizerProblem
{
    public static readonly double[] X = { 1.0, 2.0 };

    public static double[] Start => new[] { 0.5, 0.25 };

    public static double[] Gradient(double[] w)
    {
        var z = (w[0] * X[0]) + (w[1] * X[1]);
        return new[] { 2 * z * X[0], 2 * z * X[1] };
    }

    /// <summary>The kernel after each of <paramref name="steps"/> TrainOnBatch calls.</summary>
    public static List<double[]> Train(Optimizer optimizer, int steps)
    {
        using var model = TinyModels.Linear(new float[,] { { 0.5f }, { 0.25f } });
        model.Compile(optimizer, "mse");
        var result = new List<double[]>();
        for (var i = 0; i < steps; i++)
        {
            model.TrainOnBatch(new float[,] { { 1f, 2f } }, new float[,] { { 0f } });
            result.Add(model.GetWeights()[0].Data.Select(v => (double)v).ToArray());
        }

        return result;
    }

    public static void AssertSteps(List<double[]> actual, List<double[]> expected)
    {
        Assert.That(actual, Has.Count.EqualTo(expected.Count));
        for (var t = 0; t < expected.Count; t++)
        {
            for (var i = 0; i < expected[t].Length; i++)
            {
                Assert.That(actual[t][i], Is.EqualTo(expected[t][i]).Within(1e-6), $"step {t + 1}, weight {i}");
            }
        }
    }
}
