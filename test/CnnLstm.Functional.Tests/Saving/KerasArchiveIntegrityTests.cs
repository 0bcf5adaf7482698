using System.IO.Compression;
using System.Text;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// What a damaged or crafted .keras archive gets: a flipped bit in a weight loaded silently (CRC-32 never checked);
/// a config.json inflating to 1.1 GB ended in OutOfMemoryException; a 2.5 GB weights entry was refused only after
/// 4.3 GB of memory; a JSON syntax error was reported as a damaged zip; a directory gave UnauthorizedAccessException.
/// </summary>
public class KerasArchiveIntegrityTests
{
    private string directory = null!;

    [SetUp]
    public void SetUp()
    {
        Backend.ClearSession();
        directory = Directory.CreateTempSubdirectory("ks-archive-").FullName;
    }

    [TearDown]
    public void TearDown() => Directory.Delete(directory, recursive: true);

    [Test]
    public void Load_WeightWithAFlippedBit_ThrowsNamingTheEntryAndItsCrc()
    {
        var path = SaveSmallModel();
        var bytes = File.ReadAllBytes(path);
        // The weights entry is stored: find its HDF5 signature and flip a bit well inside it.
        var hdf5 = bytes.AsSpan().IndexOf(new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A });
        Assert.That(hdf5, Is.GreaterThan(0));
        bytes[hdf5 + ((bytes.Length - hdf5) / 2)] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path));
        Assert.That(error!.Message, Does.Contain(path).And.Contain("model.weights.h5 is corrupted").And.Contain("CRC-32"));

        using var model = SmallModel();
        var before = model.GetWeights().SelectMany(w => w.Data).ToArray();
        Assert.Throws<KerasFileException>(() => model.LoadWeights(path));
        Assert.That(model.GetWeights().SelectMany(w => w.Data), Is.EqualTo(before), "a failed load changes nothing");
    }

    [Test]
    public void Load_ConfigDeclaringMoreThan64MiB_IsRefusedBeforeReading()
    {
        var path = Path.Combine(directory, "bomb.keras");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var entry = zip.CreateEntry("config.json", CompressionLevel.SmallestSize).Open();
            var spaces = new byte[1 << 20];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < 65; i++)
            {
                entry.Write(spaces);
            }
        }

        Assert.That(new FileInfo(path).Length, Is.LessThan(1 << 20), "a small archive");
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path));
        Assert.That(error!.Message, Does.Contain("config.json declares 68,157,440 bytes").And.Contain("refused before reading"));
    }

    [Test]
    public void Load_WeightsEntryLargerThanTheModelCanNeed_IsRefusedBeforeReading()
    {
        var path = SaveSmallModel();
        ReplaceEntry(path, "model.weights.h5", entry =>
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 40; i++)
            {
                entry.Write(zeros);
            }
        });

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path));
        Assert.That(error!.Message, Does.Contain("model.weights.h5 declares 41,943,040 bytes").And.Contain("more than the model's weights and optimizer state can need"));
    }

    [Test]
    public void Load_ConfigWithAJsonSyntaxError_SaysSoNamingTheFile()
    {
        var path = SaveSmallModel();
        ReplaceEntry(path, "config.json", entry => entry.Write(Encoding.UTF8.GetBytes("""{"class_name": "Functional", "config": {""")));

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path));
        Assert.That(error!.Message, Does.Contain(path).And.Contain("config.json is not valid JSON").And.Not.Contain("not a zip"));
    }

    [Test]
    public void LoadAndLoadWeights_OfADirectory_ThrowArgumentExceptionNamingIt()
    {
        var folder = Directory.CreateDirectory(Path.Combine(directory, "model.keras")).FullName;
        Assert.That(Assert.Throws<ArgumentException>(() => Model.Load(folder))!.Message, Does.Contain($"'{folder}' is a directory"));
        using var model = SmallModel();
        Assert.That(Assert.Throws<ArgumentException>(() => model.LoadWeights(folder))!.Message, Does.Contain("is a directory"));
    }

    [TestCase("config.json")]
    [TestCase("model.weights.h5")]
    [TestCase("metadata.json")]
    public void LoadAndLoadWeights_ArchiveWithTwoEntriesOfOneName_AreRefusedAsAmbiguous(string name)
    {
        var path = SaveSmallModel();
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            // A second entry of the same name after the first: Keras reads this one, so a config naming other layers
            // or other weights would make the file a different model in Keras.
            var original = zip.GetEntry(name)!;
            using var copy = new MemoryStream();
            using (var source = original.Open())
            {
                source.CopyTo(copy);
            }

            using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
            entry.Write(copy.ToArray());
        }

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path));
        Assert.That(error!.Message, Does.Contain(path).And.Contain($"'{name}' (2 times)").And.Contain("ambiguous"));
        using var model = SmallModel();
        Assert.That(Assert.Throws<KerasFileException>(() => model.LoadWeights(path))!.Message, Does.Contain($"'{name}' (2 times)"));
    }

    /// <summary>Replaces an archive entry with what <paramref name="write"/> writes, deflated.</summary>
    private static void ReplaceEntry(string path, string name, Action<Stream> write)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        zip.GetEntry(name)!.Delete();
        using var entry = zip.CreateEntry(name, CompressionLevel.SmallestSize).Open();
        write(entry);
    }

    private static Model SmallModel()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(3);
        var input = new Input(new[] { 32 });
        return new Model(input, new Dense(1).Call(new Dense(64, activation: "relu").Call(input)));
    }

    private string SaveSmallModel()
    {
        var path = Path.Combine(directory, "small.keras");
        using var model = SmallModel();
        model.Save(path);
        return path;
    }
}
