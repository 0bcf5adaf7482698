using System.Globalization;
using KerasStyle.Datasets;

namespace KerasStyle.Tests.Datasets;

public class CsvSeriesTests
{
    private DirectoryInfo scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-csv-");

    [TearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    [Test]
    public void Read_AirlinePassengers_Has144MonthsFrom1949_01To1960_12StartingAt112()
    {
        var (months, passengers) = CsvSeries.Read(TestPaths.DataFile("timeseries/airline-passengers.csv"));

        Assert.That(months, Has.Count.EqualTo(144));
        Assert.That(passengers, Has.Count.EqualTo(144));
        Assert.That(months[0], Is.EqualTo("1949-01"));
        Assert.That(months[^1], Is.EqualTo("1960-12"));
        var expectedMonths = Enumerable.Range(0, 144).Select(i => $"{1949 + (i / 12)}-{(i % 12) + 1:00}");
        Assert.That(months, Is.EqualTo(expectedMonths), "consecutive months, quotes removed");
        Assert.That(passengers[0], Is.EqualTo(112));
        Assert.That(passengers[^1], Is.EqualTo(432));
        Assert.That(passengers.Sum(), Is.EqualTo(40363));
        Assert.That((passengers.Min(), passengers.Max()), Is.EqualTo((104.0, 622.0)));
    }

    [Test]
    public void Read_DailyMinimumTemperatures_Has3650DaysWithDecimals()
    {
        var (days, temperatures) = CsvSeries.Read(TestPaths.DataFile("timeseries/daily-min-temperatures.csv"));

        Assert.That(days, Has.Count.EqualTo(3650));
        Assert.That((days[0], temperatures[0]), Is.EqualTo(("1981-01-01", 20.7)));
        Assert.That((days[^1], temperatures[^1]), Is.EqualTo(("1990-12-31", 13.0)));
        Assert.That(temperatures.Sum(), Is.EqualTo(40798.8).Within(1e-6));
    }

    [Test]
    public void Read_UnderACommaDecimalCulture_StillReadsPointDecimals()
    {
        var path = Write("temps.csv", "\"Date\",\"Temp\"\n\"1981-01-01\",20.7\n\"1981-01-02\",-1.5e1\n");
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");

            Assert.That(CsvSeries.Read(path).Values, Is.EqualTo(new[] { 20.7, -15 }));
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Test]
    public void Read_LfOrCrlfWithFinalNewlineOrBlankLines_GivesTheSameSeries()
    {
        var crlf = Write("crlf.csv", "\"Month\",\"Passengers\"\r\n\"1949-01\",112\r\n\"1949-02\",118");
        var lf = Write("lf.csv", "\"Month\",\"Passengers\"\n\"1949-01\",112\n\n\"1949-02\",118\n");

        foreach (var path in new[] { crlf, lf })
        {
            var (labels, values) = CsvSeries.Read(path);
            Assert.That(labels, Is.EqualTo(new[] { "1949-01", "1949-02" }), path);
            Assert.That(values, Is.EqualTo(new[] { 112.0, 118 }), path);
        }
    }

    [Test]
    public void Read_LabelContainingAComma_KeepsItWhole() =>
        Assert.That(CsvSeries.Read(Write("comma.csv", "\"When\",\"Value\"\n\"Jan, 1949\",112\n")).Labels, Is.EqualTo(new[] { "Jan, 1949" }));

    [Test]
    public void Read_UnquotedLabels_AreAccepted() =>
        Assert.That(CsvSeries.Read(Write("bare.csv", "Month,Passengers\n1949-01,112\n1949-02,118\n")).Labels, Is.EqualTo(new[] { "1949-01", "1949-02" }));

    [Test]
    public void Read_MissingFile_ThrowsFileNotFoundNamingThePath()
    {
        var path = Path.Combine(scratch.FullName, "no-such-series.csv");

        var error = Assert.Throws<FileNotFoundException>(() => CsvSeries.Read(path))!;

        Assert.That(error.FileName, Is.EqualTo(path));
        Assert.That(error.Message, Does.Contain(path));
    }

    [TestCase("\"1949-03\",abc")]
    [TestCase("\"1949-03\",")]
    [TestCase("\"1949-03\" 132")]
    [TestCase(",132")]
    [TestCase("\"1949-03\",NaN")]
    [TestCase("\"1949-03\",Infinity")]
    [TestCase("\"1949-03\",1,32")]
    [TestCase("1949-03,1,32")]
    [TestCase("\"1949-03,132")]
    [TestCase("\"19\"49-03\",132")]
    public void Read_MalformedLine_ThrowsInvalidDataNamingTheFileAndLine(string badLine)
    {
        var path = Write("broken_series.csv", $"\"Month\",\"Passengers\"\r\n\"1949-01\",112\r\n\"1949-02\",118\r\n{badLine}\r\n\"1949-04\",129");

        var error = Assert.Throws<InvalidDataException>(() => CsvSeries.Read(path))!;

        Assert.That(error.Message, Does.Contain("broken_series.csv"));
        Assert.That(error.Message, Does.Match(@"(:|line )4\b"));
    }

    [TestCase("\"Month\",\"Passengers\"\r\n")]
    [TestCase("")]
    public void Read_NoDataLines_ThrowsInvalidDataNamingTheFile(string content)
    {
        var error = Assert.Throws<InvalidDataException>(() => CsvSeries.Read(Write("empty_series.csv", content)))!;

        Assert.That(error.Message, Does.Contain("empty_series.csv"));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(scratch.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }
}
