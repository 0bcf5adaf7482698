namespace KerasStyle.Tests.Training.Losses;

public class CategoricalCrossentropyTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void SoftmaxOutput_IsMinusSumYLogSoftmaxOfLogits()
    {
        var z = new float[,] { { 1f, 2f, 0.5f }, { -1f, 0f, 3f } };
        var y = new float[,] { { 0, 1, 0 }, { 1, 0, 0 } };
        var expected = (-LogSoftmax(z, 0, 1) - LogSoftmax(z, 1, 0)) / 2;
        Assert.That(LossTesting.Evaluate("categorical_crossentropy", z, y, activation: "softmax"), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void SoftmaxOutput_SaturatedClass_IsNotClipped()
    {
        // softmax gives class 1 probability e^-40 (0 in float32); from logits the loss is 40, clipped it would be 16.12.
        var loss = LossTesting.Evaluate("categorical_crossentropy", new float[,] { { 40f, 0f } }, new float[,] { { 0, 1 } }, activation: "softmax");
        Assert.That(loss, Is.EqualTo(40.0).Within(1e-4));
    }

    [Test]
    public void Probabilities_AreNormalisedToSumOneThenClippedAt1e7()
    {
        // Outputs (2, 0, 2) normalise to (0.5, 0, 0.5); the zero is clipped to 1e-7.
        var x = new float[,] { { 2f, 0f, 2f }, { 1f, 3f, 0f } };
        var y = new float[,] { { 0, 1, 0 }, { 0, 1, 0 } };
        var expected = (-Math.Log(LossTesting.Low) - Math.Log(0.75)) / 2;
        Assert.That(LossTesting.Evaluate("categorical_crossentropy", x, y), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void Name_IsKerasName()
    {
        Assert.That(new KerasStyle.Training.Losses.CategoricalCrossentropy().Name, Is.EqualTo("categorical_crossentropy"));
    }

    internal static double LogSoftmax(float[,] z, int row, int column)
    {
        var sum = Enumerable.Range(0, z.GetLength(1)).Sum(c => Math.Exp(z[row, c]));
        return z[row, column] - Math.Log(sum);
    }
}
