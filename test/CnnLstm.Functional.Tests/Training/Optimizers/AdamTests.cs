using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Optimizers;

public class AdamTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void ThreeSteps_MatchKerasFormula()
    {
        OptimizerProblem.AssertSteps(OptimizerProblem.Train(new Adam(learningRate: 0.01), 3), Keras(0.01, 0.9, 0.999, 1e-7));
    }

    [Test]
    public void ThreeSteps_WithOtherBetas_MatchKerasFormula()
    {
        OptimizerProblem.AssertSteps(OptimizerProblem.Train(new Adam(learningRate: 0.05, beta1: 0.5, beta2: 0.9), 3), Keras(0.05, 0.5, 0.9, 1e-7));
    }

    [Test]
    public void Epsilon_IsAddedToSqrtV_NotToTorchsBiasCorrectedSqrtVHat()
    {
        // Keras: p -= lr_t m / (sqrt(v) + eps); torch.optim.Adam: p -= lr m_hat / (sqrt(v_hat) + eps).
        // A large epsilon makes the two visibly different.
        var actual = OptimizerProblem.Train(new Adam(learningRate: 0.01, epsilon: 0.1), 3);
        OptimizerProblem.AssertSteps(actual, Keras(0.01, 0.9, 0.999, 0.1));
        var torch = Torch(0.01, 0.9, 0.999, 0.1);
        Assert.That(Math.Abs(actual[2][0] - torch[2][0]), Is.GreaterThan(1e-3));
    }

    [Test]
    public void ByName_HasKerasDefaults()
    {
        var adam = (Adam)OptimizerNames.Create("adam");
        Assert.That((adam.Name, adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon), Is.EqualTo(("adam", 0.001, 0.9, 0.999, 1e-7)));
    }

    [Test]
    public void LearningRateChange_AppliesToTheNextStep()
    {
        var adam = new Adam(learningRate: 0.01);
        using var model = TinyModels.Linear(new float[,] { { 0.5f }, { 0.25f } });
        model.Compile(adam, "mse");
        model.TrainOnBatch(new float[,] { { 1f, 2f } }, new float[,] { { 0f } });
        adam.LearningRate = 0.02;
        model.TrainOnBatch(new float[,] { { 1f, 2f } }, new float[,] { { 0f } });
        var expected = KerasWithRates(new[] { 0.01, 0.02 });
        Assert.That(model.GetWeights()[0].Data[0], Is.EqualTo(expected[1][0]).Within(1e-6));
    }

    [TestCase(1.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    public void Ctor_Beta1OutsideZeroToOne_Throws(double beta1)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: beta1));
        Assert.That(e!.ParamName, Is.EqualTo("beta1"));
    }

    [TestCase(1.0)]
    [TestCase(-0.1)]
    public void Ctor_Beta2OutsideZeroToOne_Throws(double beta2)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: beta2));
        Assert.That(e!.ParamName, Is.EqualTo("beta2"));
    }

    [TestCase(0.0)]
    [TestCase(-1e-7)]
    public void Ctor_EpsilonNotPositive_Throws(double epsilon)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: epsilon));
        Assert.That(e!.ParamName, Is.EqualTo("epsilon"));
    }

    [Test]
    public void Ctor_ZeroLearningRate_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: 0));
        Assert.That(e!.ParamName, Is.EqualTo("learningRate"));
    }

    private static List<double[]> Keras(double lr, double beta1, double beta2, double epsilon) =>
        KerasWithRates(Enumerable.Repeat(lr, 3).ToArray(), beta1, beta2, epsilon);

    private static List<double[]> KerasWithRates(double[] rates, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7)
    {
        var w = OptimizerProblem.Start;
        var m = new double[2];
        var v = new double[2];
        var expected = new List<double[]>();
        for (var t = 1; t <= rates.Length; t++)
        {
            var g = OptimizerProblem.Gradient(w);
            var lrT = rates[t - 1] * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t));
            for (var i = 0; i < 2; i++)
            {
                m[i] = (beta1 * m[i]) + ((1 - beta1) * g[i]);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * g[i] * g[i]);
                w[i] -= lrT * m[i] / (Math.Sqrt(v[i]) + epsilon);
            }

            expected.Add((double[])w.Clone());
        }

        return expected;
    }

    private static List<double[]> Torch(double lr, double beta1, double beta2, double epsilon)
    {
        var w = OptimizerProblem.Start;
        var m = new double[2];
        var v = new double[2];
        var result = new List<double[]>();
        for (var t = 1; t <= 3; t++)
        {
            var g = OptimizerProblem.Gradient(w);
            for (var i = 0; i < 2; i++)
            {
                m[i] = (beta1 * m[i]) + ((1 - beta1) * g[i]);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * g[i] * g[i]);
                var mHat = m[i] / (1 - Math.Pow(beta1, t));
                var vHat = v[i] / (1 - Math.Pow(beta2, t));
                w[i] -= lr * mHat / (Math.Sqrt(vHat) + epsilon);
            }

            result.Add((double[])w.Clone());
        }

        return result;
    }

    [Test]
    public void Step_WeightLargerThanOneThreadsShare_UpdatesEveryElement()
    {
        // 131,073 kernel entries: split across threads, the last one must not be left out.
        Assume.That(Environment.ProcessorCount, Is.GreaterThan(1), "splitting needs two cores");
        using var threads = TestSetup.Threads(2);
        const int features = 131_073;
        var input = new KerasStyle.Layers.Input(new[] { features });
        using var model = new KerasStyle.Models.Model(input, new KerasStyle.Layers.Dense(1, useBias: false).Call(input));
        model.Compile(new Adam(learningRate: 0.1), "mse");
        var before = model.GetWeights()[0].Data.ToArray();
        var x = new float[1, features];
        for (var i = 0; i < features; i++)
        {
            x[0, i] = 1;
        }

        model.TrainOnBatch(x, new float[,] { { 1e6f } });
        var after = model.GetWeights()[0].Data;
        Assert.That(Enumerable.Range(0, features).Count(i => after[i] == before[i]), Is.Zero);
    }
}
