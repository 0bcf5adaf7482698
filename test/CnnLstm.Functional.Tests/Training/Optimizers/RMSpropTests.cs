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
        // A large epsilon makes the placement visible: Keras 3 (and tf.keras 2.11+) put it inside sqrt; Keras 2.0-2.3 and tf.keras 2.0-2.10 without momentum added it to sqrt(a) (Keras2Update).
        var actual = OptimizerProblem.Train(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5), 3);
        OptimizerProblem.AssertSteps(actual, Keras(0.01, 0.8, 0.5, epsilonInsideSqrt: true));
        var outside = Keras(0.01, 0.8, 0.5, epsilonInsideSqrt: false);
        Assert.That(Math.Abs(actual[2][0] - outside[2][0]), Is.GreaterThan(1e-3));
    }

    // Expected kernels: tools/keras-fixtures/rmsprop_keras2_update.py (Keras 2.2 optimizers.py, tf.keras 2.10 optimizer_v2/rmsprop.py).
    [Test]
    public void Keras2Update_WithoutMomentum_AddsEpsilonOutsideTheSquareRoot()
    {
        var actual = OptimizerProblem.Train(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5, keras2Update: true), 3);
        OptimizerProblem.AssertSteps(actual, new List<double[]>
        {
            new[] { 0.4856571931, 0.2325240084 },
            new[] { 0.4742544790, 0.2191102434 },
            new[] { 0.4642566576, 0.2075258165 },
        });
    }

    [Test]
    public void Keras2Update_Centered_AddsEpsilonOutsideTheRootOfTheVariance()
    {
        var actual = OptimizerProblem.Train(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5, centered: true, keras2Update: true), 3);
        OptimizerProblem.AssertSteps(actual, new List<double[]>
        {
            new[] { 0.4846153846, 0.2309523810 },
            new[] { 0.4713960429, 0.2149371249 },
            new[] { 0.4589075045, 0.1998323221 },
        });
    }

    [Test]
    public void Keras3Update_Centered_AddsEpsilonUnderTheRoot()
    {
        var actual = OptimizerProblem.Train(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5, centered: true), 3);
        OptimizerProblem.AssertSteps(actual, new List<double[]>
        {
            new[] { 0.4812682838, 0.2271335220 },
            new[] { 0.4652136398, 0.2082640959 },
            new[] { 0.4501446093, 0.1905808490 },
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Keras2Update_WithMomentum_IsKeras3sUpdate(bool centered)
    {
        // tf.keras 2.10 with momentum calls ResourceApply(Centered)RMSProp, which puts epsilon under the root as Keras 3.
        var keras2 = OptimizerProblem.Train(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5, momentum: 0.5, centered: centered, keras2Update: true), 3);
        var keras3 = OptimizerProblem.Train(new RMSprop(learningRate: 0.01, rho: 0.8, epsilon: 0.5, momentum: 0.5, centered: centered), 3);
        OptimizerProblem.AssertSteps(keras2, keras3);
    }

    [Test]
    public void MadeInCodeOrByName_ComputesKeras3sUpdate_AndTheConfigHasNoExtraKey()
    {
        Assert.That(new RMSprop().Keras2Update, Is.False);
        Assert.That(((RMSprop)OptimizerNames.Create("rmsprop")).Keras2Update, Is.False);
        Assert.That(new RMSprop(keras2Update: true).GetConfig().Select(kv => kv.Key), Is.EquivalentTo(new RMSprop().GetConfig().Select(kv => kv.Key)));
    }

    [Test]
    public void ByName_HasKerasDefaults()
    {
        var rmsprop = (RMSprop)OptimizerNames.Create("rmsprop");
        Assert.That((rmsprop.Name, rmsprop.LearningRate, rmsprop.Rho, rmsprop.Epsilon), Is.EqualTo(("rm_sprop", 0.001, 0.9, 1e-7)));
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
