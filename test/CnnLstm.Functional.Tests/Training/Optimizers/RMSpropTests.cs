using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Optimizers;

public class RMSpropTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void ThreeSteps_MatchKeras2Formula()
    {
        // Keras 3: a = rho * a + (1 - rho) * g^2; p = p - lr * g / sqrt(a + epsilon).
        OptimizerProblem.AssertSteps(OptimizerProblem.Train(new RMSprop(learningRate: 0.01), 3), Keras(0.01, 0.9, 1e-7, epsilonInsideSqrt: true));
    }

    [Test]
    public void Epsilon_IsAddedInsideTheSquareRoot_AsKeras3()
    {
        // A large epsilon makes the placement visible: Keras 2.0-2.3 added it to sqrt(a), tf.keras 2 / Keras 3 inside it.
        var actual = OptimizerProblem.Train(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5), 3);
        OptimizerProblem.AssertSteps(actual, Keras(0.01, 0.8, 0.5, epsilonInsideSqrt: true));
        var outside = Keras(0.01, 0.8, 0.5, epsilonInsideSqrt: false);
        Assert.That(Math.Abs(actual[2][0] - outside[2][0]), Is.GreaterThan(1e-3));
    }

    [Test]
    public void ByName_HasKerasDefaults()
    {
        var rmsprop = (RMSprop)OptimizerNames.Create("rmsprop");
        Assert.That((rmsprop.Name, rmsprop.LearningRate, rmsprop.Rho, rmsprop.Epsilon), Is.EqualTo(("rmsprop", 0.001, 0.9, 1e-7)));
    }

    [TestCase(1.0)]
    [TestCase(-0.5)]
    [TestCase(double.NaN)]
    public void Ctor_RhoOutsideZeroToOne_Throws(double rho)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(rho: rho));
        Assert.That(e!.ParamName, Is.EqualTo("rho"));
    }

    [TestCase(0.0)]
    [TestCase(-1e-7)]
    [TestCase(double.NaN)]
    public void Ctor_EpsilonNotPositive_Throws(double epsilon)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(epsilon: epsilon));
        Assert.That(e!.ParamName, Is.EqualTo("epsilon"));
    }

    [Test]
    public void Ctor_NegativeLearningRate_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(learningRate: -1));
        Assert.That(e!.ParamName, Is.EqualTo("learningRate"));
    }

    private static List<double[]> Keras(double lr, double rho, double epsilon, bool epsilonInsideSqrt)
    {
        var w = OptimizerProblem.Start;
        var a = new double[2];
        var expected = new List<double[]>();
        for (var t = 0; t < 3; t++)
        {
            var g = OptimizerProblem.Gradient(w);
            for (var i = 0; i < 2; i++)
            {
                a[i] = (rho * a[i]) + ((1 - rho) * g[i] * g[i]);
                w[i] -= lr * g[i] / (epsilonInsideSqrt ? Math.Sqrt(a[i] + epsilon) : Math.Sqrt(a[i]) + epsilon);
            }

            expected.Add((double[])w.Clone());
        }

        return expected;
    }
}
