using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Preprocessing;

public class MinMaxScalerTests
{
    private static readonly double[] Values = { 4, 2, 10, 6 };

    [Test]
    public void Fit_LearnsMinimumAndMaximumAndReturnsTheScaler()
    {
        var scaler = new MinMaxScaler();

        var fitted = scaler.Fit(Values);

        Assert.That(fitted, Is.SameAs(scaler));
        Assert.That(scaler.DataMin, Is.EqualTo(2));
        Assert.That(scaler.DataMax, Is.EqualTo(10));
        Assert.That((scaler.Low, scaler.High), Is.EqualTo((0.0, 1.0)));
    }

    [Test]
    public void Transform_DefaultRange_MapsMinimumToZeroAndMaximumToOne() =>
        Assert.That(new MinMaxScaler().Fit(Values).Transform(Values), Is.EqualTo(new[] { 0.25, 0, 1, 0.5 }));

    [Test]
    public void Transform_ValuesOutsideTheFittedRange_AreNotClipped() =>
        Assert.That(new MinMaxScaler().Fit(Values).Transform(new[] { 0.0, 12 }), Is.EqualTo(new[] { -0.25, 1.25 }));

    [Test]
    public void Transform_CustomRange_MapsOntoIt() =>
        Assert.That(new MinMaxScaler(-1, 1).Fit(Values).Transform(Values), Is.EqualTo(new[] { -0.5, -1, 1, 0 }));

    [Test]
    public void InverseTransform_UndoesTransform()
    {
        var scaler = new MinMaxScaler(-1, 3).Fit(Values);

        Assert.That(scaler.InverseTransform(scaler.Transform(Values)), Is.EqualTo(Values).Within(1e-12));
        Assert.That(scaler.InverseTransform(new[] { -1.0, 3, 1 }), Is.EqualTo(new[] { 2.0, 10, 6 }).Within(1e-12));
    }

    [Test]
    public void Transform_ConstantSeries_MapsToTheLowEndLikeScikitLearn()
    {
        var scaler = new MinMaxScaler(0, 1).Fit(new[] { 5.0, 5, 5 });

        Assert.That(scaler.Transform(new[] { 5.0, 7 }), Is.EqualTo(new[] { 0.0, 2 }));
        Assert.That(scaler.InverseTransform(new[] { 0.0, 2 }), Is.EqualTo(new[] { 5.0, 7 }));
    }

    [Test]
    public void Fit_Again_ReplacesTheLearnedRange()
    {
        var scaler = new MinMaxScaler().Fit(Values);

        scaler.Fit(new[] { 100.0, 200 });

        Assert.That(scaler.Transform(new[] { 150.0 }), Is.EqualTo(new[] { 0.5 }));
    }

    [Test]
    public void Transform_AirlinePassengers_GivesZeroToOneAndBackToThousands()
    {
        var (_, passengers) = KerasStyle.Datasets.CsvSeries.Read(TestPaths.DataFile("timeseries/airline-passengers.csv"));
        var scaler = new MinMaxScaler().Fit(passengers);

        var scaled = scaler.Transform(passengers);

        Assert.That((scaler.DataMin, scaler.DataMax), Is.EqualTo((104.0, 622.0)));
        Assert.That(scaled[0], Is.EqualTo((112.0 - 104) / 518).Within(1e-12));
        Assert.That(scaled.Min(), Is.EqualTo(0));
        Assert.That(scaled.Max(), Is.EqualTo(1));
        Assert.That(scaler.InverseTransform(scaled), Is.EqualTo(passengers).Within(1e-9));
    }

    [Test]
    public void TransformAndInverse_BeforeFit_ThrowInvalidOperation()
    {
        var scaler = new MinMaxScaler();

        Assert.That(Assert.Throws<InvalidOperationException>(() => scaler.Transform(Values))!.Message, Does.Contain("Fit"));
        Assert.That(Assert.Throws<InvalidOperationException>(() => scaler.InverseTransform(Values))!.Message, Does.Contain("Fit"));
    }

    [Test]
    public void Fit_NoValues_ThrowsArgument() =>
        Assert.That(Assert.Throws<ArgumentException>(() => new MinMaxScaler().Fit(Array.Empty<double>()))!.ParamName, Is.EqualTo("values"));

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity)]
    public void Fit_NonFiniteValue_ThrowsArgumentAndKeepsThePreviousFit(double bad)
    {
        var scaler = new MinMaxScaler().Fit(Values);

        var error = Assert.Throws<ArgumentException>(() => scaler.Fit(new[] { 1.0, bad }))!;

        Assert.That(error.ParamName, Is.EqualTo("values"));
        Assert.That((scaler.DataMin, scaler.DataMax), Is.EqualTo((2.0, 10.0)));
    }

    [Test]
    public void FitTransformInverse_Null_ThrowArgumentNull()
    {
        var scaler = new MinMaxScaler();
        Assert.Throws<ArgumentNullException>(() => scaler.Fit(null!));
        scaler.Fit(Values);
        Assert.Throws<ArgumentNullException>(() => scaler.Transform(null!));
        Assert.Throws<ArgumentNullException>(() => scaler.InverseTransform(null!));
    }

    [TestCase(1, 1)]
    [TestCase(1, 0)]
    [TestCase(double.NaN, 1)]
    [TestCase(0, double.NaN)]
    public void Constructor_EmptyRange_ThrowsArgument(double low, double high)
    {
        var error = Assert.Throws<ArgumentException>(() => new MinMaxScaler(low, high))!;
        Assert.That(error.Message, Does.Contain("low < high"));
    }
}
