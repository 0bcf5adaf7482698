using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Training.Losses;

public class BinaryCrossentropyTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void Probabilities_AreMeanOfMinusYLogPOverSamples()
    {
        var p = new[] { 0.9, 0.2, 0.6, 0.35 };
        var y = new float[] { 1, 0, 0, 1 };
        var expected = p.Select((pi, i) => -((y[i] * Math.Log(pi)) + ((1 - y[i]) * Math.Log(1 - pi)))).Average();
        Assert.That(LossTesting.Evaluate("binary_crossentropy", Column(p), y), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void Probabilities_OutsideEpsilonToOneMinusEpsilon_AreClippedAt1e7()
    {
        // A linear output can leave [0, 1]; Keras clips to [1e-7, 1 - 1e-7] (float32) before the logarithms.
        var p = new[] { 0.0, 1.0, -0.5, 1.5, 0.3 };
        var y = new float[] { 1, 0, 1, 0, 1 };
        var clipped = p.Select(v => Math.Clamp(v, LossTesting.Low, LossTesting.High)).ToArray();
        var expected = clipped.Select((pi, i) => -((y[i] * Math.Log(pi)) + ((1 - y[i]) * Math.Log((double)(1f - (float)pi))))).Average();
        var actual = LossTesting.Evaluate("binary_crossentropy", Column(p), y);
        Assert.That(actual, Is.EqualTo(expected).Within(expected * 1e-5));
    }

    [Test]
    public void ZeroProbabilityForTheTrueClass_CostsMinusLog1e7()
    {
        var loss = LossTesting.Evaluate("binary_crossentropy", new float[,] { { 0f } }, new float[] { 1 });
        Assert.That(loss, Is.EqualTo(-Math.Log(1e-7)).Within(1e-4));
    }

    [Test]
    public void SeveralUnits_AreMeanOverLastAxisThenSamples()
    {
        var x = new float[,] { { 0.9f, 0.4f }, { 0.1f, 0.7f } };
        var y = new float[,] { { 1, 0 }, { 1, 1 } };
        var expected = new[] { -Math.Log(0.9f), -Math.Log(1 - 0.4f), -Math.Log(0.1f), -Math.Log(0.7f) }.Average();
        Assert.That(LossTesting.Evaluate("binary_crossentropy", x, y), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void SigmoidOutput_EqualsTheFormulaOnSigmoidOfLogits()
    {
        var z = new[] { -2.0, 0.5, 3.0, 0.0 };
        var y = new float[] { 0, 1, 1, 0 };
        var expected = z.Select((zi, i) => -((y[i] * Math.Log(LossTesting.Sigmoid(zi))) + ((1 - y[i]) * Math.Log(1 - LossTesting.Sigmoid(zi))))).Average();
        Assert.That(LossTesting.Evaluate("binary_crossentropy", Column(z), y, activation: "sigmoid"), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void SigmoidOutput_IsComputedFromLogits_SoSaturatedOutputsAreNotClipped()
    {
        // sigmoid(30) rounds to 1 in float32; from logits the loss is log(1 + e^30) = 30.000..., clipped it would be 15.94.
        var loss = LossTesting.Evaluate("binary_crossentropy", new float[,] { { 30f }, { -30f } }, new float[] { 0, 1 }, activation: "sigmoid");
        Assert.That(loss, Is.EqualTo(30.0).Within(1e-4));
    }

    [Test]
    public void SeparateSigmoidActivationLayer_AlsoUsesLogits()
    {
        var input = new Input(new[] { 1 });
        var dense = new Dense(1, useBias: false);
        var output = new Activation("sigmoid").Call(dense.Call(input));
        using var model = new Model(input, output);
        dense.SetWeights(new[] { new WeightArray(new[] { 1, 1 }, new[] { 1f }) });
        model.Compile("sgd", "binary_crossentropy");
        Assert.That(model.Evaluate(new float[,] { { 30f } }, new float[] { 0 })["loss"], Is.EqualTo(30.0).Within(1e-4));
    }

    [Test]
    public void Gradient_FromLogits_IsSigmoidMinusY()
    {
        // d/dz of the loss from logits is sigmoid(z) - y; with SGD lr 1 on a 1x1 kernel k and x = 1: k -= sigmoid(k) - y.
        using var model = TinyModels.Linear(new float[,] { { 2f } }, "sigmoid");
        model.Compile(new KerasStyle.Training.Optimizers.SGD(learningRate: 1), "binary_crossentropy");
        model.TrainOnBatch(new float[,] { { 1f } }, new float[] { 0 });
        Assert.That(model.GetWeights()[0].Data[0], Is.EqualTo(2 - LossTesting.Sigmoid(2)).Within(1e-6));
    }

    [Test]
    public void Name_IsKerasName()
    {
        Assert.That(new KerasStyle.Training.Losses.BinaryCrossentropy().Name, Is.EqualTo("binary_crossentropy"));
    }

    internal static float[,] Column(double[] values)
    {
        var result = new float[values.Length, 1];
        for (var i = 0; i < values.Length; i++)
        {
            result[i, 0] = (float)values[i];
        }

        return result;
    }
}
