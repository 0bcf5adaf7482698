using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Optimizers;

public class SGDTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void Plain_ThreeSteps_AreWMinusLrTimesGradient()
    {
        var w = OptimizerProblem.Start;
        var expected = new List<double[]>();
        for (var t = 0; t < 3; t++)
        {
            var g = OptimizerProblem.Gradient(w);
            w = new[] { w[0] - (0.05 * g[0]), w[1] - (0.05 * g[1]) };
            expected.Add(w);
        }

        OptimizerProblem.AssertSteps(OptimizerProblem.Train(new SGD(learningRate: 0.05), 3), expected);
    }

    [Test]
    public void Momentum_ThreeSteps_MatchKerasVelocityUpdate()
    {
        // Keras: v = momentum * v - lr * g; p = p + v.
        OptimizerProblem.AssertSteps(OptimizerProblem.Train(new SGD(learningRate: 0.05, momentum: 0.9), 3), KerasMomentum(nesterov: false));
    }

    [Test]
    public void Nesterov_ThreeSteps_MatchKerasNesterovUpdate()
    {
        // Keras: v = momentum * v - lr * g; p = p + momentum * v - lr * g.
        OptimizerProblem.AssertSteps(OptimizerProblem.Train(new SGD(learningRate: 0.05, momentum: 0.9, nesterov: true), 3), KerasMomentum(nesterov: true));
    }

    [Test]
    public void Nesterov_DiffersFromPlainMomentum()
    {
        var plain = OptimizerProblem.Train(new SGD(learningRate: 0.05, momentum: 0.9), 2);
        var nesterov = OptimizerProblem.Train(new SGD(learningRate: 0.05, momentum: 0.9, nesterov: true), 2);
        Assert.That(Math.Abs(plain[1][0] - nesterov[1][0]), Is.GreaterThan(1e-3));
    }

    [Test]
    public void ByName_HasKerasDefaults()
    {
        var sgd = (SGD)OptimizerNames.Create("sgd");
        Assert.That((sgd.Name, sgd.LearningRate, sgd.Momentum, sgd.Nesterov), Is.EqualTo(("sgd", 0.01, 0.0, false)));
    }

    [Test]
    public void Iterations_CountsSteps()
    {
        var sgd = new SGD();
        OptimizerProblem.Train(sgd, 3);
        Assert.That(sgd.Iterations, Is.EqualTo(3));
    }

    [TestCase(1.1)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    public void Ctor_MomentumOutsideZeroToOne_Throws(double momentum)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(momentum: momentum));
        Assert.That(e!.ParamName, Is.EqualTo("momentum"));
        Assert.That(e.Message, Does.Contain("[0, 1]"));
    }

    [TestCase(0.0)]
    [TestCase(-0.01)]
    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void Ctor_LearningRateNotPositiveAndFinite_Throws(double learningRate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(learningRate: learningRate));
        Assert.That(e!.ParamName, Is.EqualTo("learningRate"));
        Assert.That(e.Message, Does.Contain("positive and finite"));
    }

    [Test]
    public void LearningRate_SetToZero_ThrowsAndKeepsTheOldRate()
    {
        var sgd = new SGD(learningRate: 0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = 0);
        Assert.That(sgd.LearningRate, Is.EqualTo(0.1));
    }

    private static List<double[]> KerasMomentum(bool nesterov)
    {
        const double lr = 0.05, momentum = 0.9;
        var w = OptimizerProblem.Start;
        var v = new double[2];
        var expected = new List<double[]>();
        for (var t = 0; t < 3; t++)
        {
            var g = OptimizerProblem.Gradient(w);
            for (var i = 0; i < 2; i++)
            {
                v[i] = (momentum * v[i]) - (lr * g[i]);
                w[i] = nesterov ? w[i] + (momentum * v[i]) - (lr * g[i]) : w[i] + v[i];
            }

            expected.Add((double[])w.Clone());
        }

        return expected;
    }
}
