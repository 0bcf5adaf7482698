using KerasStyle.Datasets;
using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Preprocessing;

public class TimeSeriesWindowsTests
{
    private static readonly double[] Series = { 10, 20, 30, 40, 50 };

    [Test]
    public void Create_Default_IsOneStepOfLookBackFeatures()
    {
        var (x, y) = TimeSeriesWindows.Create(Series, lookBack: 2);

        Assert.That(TestData.Dims(x), Is.EqualTo(new[] { 3, 1, 2 }));
        Assert.That(x, Is.EqualTo(new float[,,] { { { 10, 20 } }, { { 20, 30 } }, { { 30, 40 } } }));
        Assert.That(y, Is.EqualTo(new float[] { 30, 40, 50 }));
    }

    [Test]
    public void Create_AsFeaturesFalse_IsLookBackStepsOfOneFeature()
    {
        var (x, y) = TimeSeriesWindows.Create(Series, lookBack: 3, asFeatures: false);

        Assert.That(TestData.Dims(x), Is.EqualTo(new[] { 2, 3, 1 }));
        Assert.That(x, Is.EqualTo(new float[,,] { { { 10 }, { 20 }, { 30 } }, { { 20 }, { 30 }, { 40 } } }));
        Assert.That(y, Is.EqualTo(new float[] { 40, 50 }));
    }

    [Test]
    public void Create_OneMoreValueThanLookBack_GivesOneWindow()
    {
        var (x, y) = TimeSeriesWindows.Create(Series, lookBack: 4);

        Assert.That(x, Is.EqualTo(new float[,,] { { { 10, 20, 30, 40 } } }));
        Assert.That(y, Is.EqualTo(new float[] { 50 }));
    }

    [Test]
    public void Create_ConvertsToSinglePrecision()
    {
        var (x, y) = TimeSeriesWindows.Create(new[] { 0.1, 0.2 }, lookBack: 1);

        Assert.That(x[0, 0, 0], Is.EqualTo(0.1f));
        Assert.That(y[0], Is.EqualTo(0.2f));
    }

    [Test]
    public void Create_AirlinePassengersWithLookBackThree_Gives141WindowsOfThePreviousThreeMonths()
    {
        var (_, passengers) = CsvSeries.Read(TestPaths.DataFile("timeseries/airline-passengers.csv"));

        var (x, y) = TimeSeriesWindows.Create(passengers, lookBack: 3);

        Assert.That(TestData.Dims(x), Is.EqualTo(new[] { 141, 1, 3 }));
        Assert.That(new[] { x[0, 0, 0], x[0, 0, 1], x[0, 0, 2] }, Is.EqualTo(new float[] { 112, 118, 132 }));
        Assert.That(y[0], Is.EqualTo(129f));
        Assert.That(new[] { x[140, 0, 0], x[140, 0, 1], x[140, 0, 2] }, Is.EqualTo(new float[] { 508, 461, 390 }));
        Assert.That(y[140], Is.EqualTo(432f));
    }

    [TestCase(0, 1)]
    [TestCase(1, 1)]
    [TestCase(3, 3)]
    [TestCase(3, 5)]
    public void Create_SeriesNotLongerThanLookBack_ThrowsArgumentSayingWhy(int length, int lookBack)
    {
        var error = Assert.Throws<ArgumentException>(() => TimeSeriesWindows.Create(new double[length], lookBack))!;

        Assert.That(error.ParamName, Is.EqualTo("series"));
        Assert.That(error.Message, Does.Contain($"{length} values").And.Contain($"more than {lookBack} values"));
    }

    [TestCase(0)]
    [TestCase(-2)]
    public void Create_LookBackNotPositive_ThrowsArgumentOutOfRange(int lookBack)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TimeSeriesWindows.Create(Series, lookBack))!;
        Assert.That(error.ParamName, Is.EqualTo("lookBack"));
    }

    [Test]
    public void Create_NullSeries_ThrowsArgumentNull() =>
        Assert.Throws<ArgumentNullException>(() => TimeSeriesWindows.Create(null!, 1));
}
