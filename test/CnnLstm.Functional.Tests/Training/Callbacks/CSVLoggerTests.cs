using System.Globalization;
using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

public class CSVLoggerTests
{
    private string path = null!;

    [SetUp]
    public void Setup()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(41);
        path = Path.Combine(Path.GetTempPath(), $"ks-csv-{Guid.NewGuid():N}.csv");
    }

    [TearDown]
    public void RemoveFile() => File.Delete(path);

    [Test]
    public void WritesEpochThenSortedKeys_AndOneRowPerEpochWithTheHistoryValues()
    {
        using var model = CallbackTesting.CompiledMlp();
        var history = CallbackTesting.Fit(model, 3, new CSVLogger(path));
        var lines = File.ReadAllLines(path);
        Assert.That(lines[0], Is.EqualTo("epoch,accuracy,loss,val_accuracy,val_loss"));
        Assert.That(lines, Has.Length.EqualTo(4));
        for (var epoch = 0; epoch < 3; epoch++)
        {
            var fields = lines[epoch + 1].Split(',');
            Assert.That(fields[0], Is.EqualTo(epoch.ToString(CultureInfo.InvariantCulture)));
            Assert.That(double.Parse(fields[2], CultureInfo.InvariantCulture), Is.EqualTo(history["loss"][epoch]));
            Assert.That(double.Parse(fields[4], CultureInfo.InvariantCulture), Is.EqualTo(history["val_loss"][epoch]));
        }
    }

    [Test]
    public void Separator_IsUsedBetweenFields()
    {
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 1, new CSVLogger(path, separator: ";"));
        Assert.That(File.ReadAllLines(path)[0], Is.EqualTo("epoch;accuracy;loss;val_accuracy;val_loss"));
    }

    [Test]
    public void Append_AddsRowsWithoutASecondHeader()
    {
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 2, new CSVLogger(path, append: true));
        CallbackTesting.Fit(model, 2, new CSVLogger(path, append: true));
        var lines = File.ReadAllLines(path);
        Assert.That(lines.Select(l => l.Split(',')[0]), Is.EqualTo(new[] { "epoch", "0", "1", "0", "1" }));
    }

    [Test]
    public void NoAppend_OverwritesTheFile()
    {
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 3, new CSVLogger(path));
        CallbackTesting.Fit(model, 1, new CSVLogger(path));
        Assert.That(File.ReadAllLines(path), Has.Length.EqualTo(2));
    }

    [Test]
    public void KeysAddedByEarlierCallbacks_AreColumns()
    {
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 1, new ReduceLROnPlateau(), new CSVLogger(path));
        Assert.That(File.ReadAllLines(path)[0], Is.EqualTo("epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"));
        Assert.That(File.ReadAllLines(path)[1].Split(',')[2], Is.EqualTo("0.1"));
    }

    [Test]
    public void FileIsClosedAfterTraining()
    {
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 1, new CSVLogger(path));
        using var exclusive = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        Assert.That(exclusive.Length, Is.GreaterThan(0));
    }
}
