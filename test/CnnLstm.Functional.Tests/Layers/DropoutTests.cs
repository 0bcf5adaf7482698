using KerasStyle.Graph;
using KerasStyle.Layers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers;

public class DropoutTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [TestCase(0.25)]
    [TestCase(0.9)]
    public void Predict_IsIdentity(double rate)
    {
        var x = TestData.Sequence(4, 5, 3, seed: 9);

        var y = (float[,,])TestData.Run(new Dropout(rate), new[] { 5, 3 }, x);

        Assert.That(y, Is.EqualTo(x));
    }

    [Test]
    public void Call_KeepsShapeAndHasNoWeights()
    {
        var dropout = new Dropout(0.25);
        var output = dropout.Call(new Input(new[] { 1, 3 }));
        Assert.That(output.Shape, Is.EqualTo(new Shape(null, 1, 3)));
        Assert.That(dropout.Weights, Is.Empty);
        Assert.That(dropout.Rate, Is.EqualTo(0.25));
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void Constructor_WithRateOutsideZeroToOne_ThrowsArgumentOutOfRange(double rate)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(rate))!;
        Assert.That(error.ParamName, Is.EqualTo("rate"));
    }

    [TestCase(0.0)]
    [TestCase(0.999)]
    public void Constructor_WithRateInZeroToOne_Accepts(double rate) =>
        Assert.That(new Dropout(rate).Rate, Is.EqualTo(rate));

    [Test]
    public void Forward_WhileTraining_DropsAboutRateAndScalesTheRestByOneOverKeep()
    {
        Utils.SetRandomSeed(1234);
        var dropout = new Dropout(0.5);
        using var x = ones(1, 4000);

        var y = dropout.Invoke(x, training: true).data<float>().ToArray();

        // Inverted dropout: every value is 0 or 1 / (1 - 0.5) = 2.
        Assert.That(y, Has.All.EqualTo(0f).Or.EqualTo(2f));
        Assert.That(y.Count(v => v == 0f), Is.InRange(1800, 2200));
    }

    [Test]
    public void Forward_NotTraining_IsIdentity()
    {
        using var x = ones(1, 100);
        var y = new Dropout(0.5).Invoke(x, training: false).data<float>().ToArray();
        Assert.That(y, Has.All.EqualTo(1f));
    }
}
