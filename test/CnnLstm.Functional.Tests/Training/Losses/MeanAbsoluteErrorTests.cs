namespace KerasStyle.Tests.Training.Losses;

public class MeanAbsoluteErrorTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [TestCase("mae")]
    [TestCase("mean_absolute_error")]
    public void Value_IsMeanOfAbsoluteErrorsOverUnitsAndSamples(string name)
    {
        var x = new float[,] { { 1f, 2f }, { -1f, 0.5f } };
        var y = new float[,] { { 0f, 2.5f }, { 1f, 0.5f } };
        var expected = (1.0 + 0.5 + 2.0 + 0.0) / 4;
        Assert.That(LossTesting.Evaluate(name, x, y), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void Name_IsKerasName()
    {
        Assert.That(new KerasStyle.Training.Losses.MeanAbsoluteError().Name, Is.EqualTo("mean_absolute_error"));
    }
}
