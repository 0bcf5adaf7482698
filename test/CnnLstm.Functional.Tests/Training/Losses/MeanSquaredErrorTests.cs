namespace KerasStyle.Tests.Training.Losses;

public class MeanSquaredErrorTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [TestCase("mse")]
    [TestCase("mean_squared_error")]
    public void Value_IsMeanOfSquaredErrorsOverUnitsAndSamples(string name)
    {
        var x = new float[,] { { 1f, 2f }, { -1f, 0.5f } };
        var y = new float[,] { { 0f, 2.5f }, { 1f, 0.5f } };
        var expected = (1.0 + 0.25 + 4.0 + 0.0) / 4;
        Assert.That(LossTesting.Evaluate(name, x, y), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void OneUnit_AcceptsFlatTargets()
    {
        Assert.That(LossTesting.Evaluate("mse", new float[,] { { 1f }, { 3f } }, new float[] { 0f, 1f }), Is.EqualTo((1.0 + 4.0) / 2).Within(1e-6));
    }

    [Test]
    public void Name_IsKerasName()
    {
        Assert.That(new KerasStyle.Training.Losses.MeanSquaredError().Name, Is.EqualTo("mean_squared_error"));
    }
}
