using System.Text;
using KerasStyle.Models;
using KerasStyle.Saving;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>Failures: interrupted writes, damaged or foreign files, weights that do not fit. Nothing is half-written or half-loaded.</summary>
public class SavingFailureTests : SavingTestBase
{
    [TestCase("model.keras")]
    [TestCase("weights.h5")]
    [TestCase("weights.weights.h5")]
    public void FailedWrite_LeavesThePreviousFileIntact_AndNoTemporaryFile(string name)
    {
        using var model = CnnLstmModels.Regression();
        model.Compile("adam", "mse");
        var path = PathOf(name);
        Write(model, path);
        var before = File.ReadAllBytes(path);

        // The LSTM's weights can no longer be read: the write fails after the temporary file was opened (for a
        // .keras file after its metadata and config were written).
        model.GetLayer("lstm_1").Dispose();
        Assert.That(() => Write(model, path), Throws.Exception);

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(TempDir), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void FailedFirstWrite_LeavesNoFile()
    {
        using var model = CnnLstmModels.Regression();
        model.GetLayer("dense_1").Dispose();
        Assert.That(() => model.Save(PathOf("new.keras")), Throws.Exception);
        Assert.That(Directory.GetFiles(TempDir), Is.Empty);
    }

    [TestCase(0.1)]
    [TestCase(0.5)]
    [TestCase(0.9)]
    [TestCase(0.99)]
    public void TruncatedFiles_FailNamingTheFile(double keep)
    {
        using var model = CnnLstmModels.Regression();
        model.Compile("adam", "mse");
        foreach (var name in new[] { "t.keras", "t.h5", "t.weights.h5" })
        {
            var full = PathOf("full-" + name);
            Write(model, full);
            var bytes = File.ReadAllBytes(full);
            var path = PathOf(name);
            File.WriteAllBytes(path, bytes.Take((int)(bytes.Length * keep)).ToArray());
            var weightsBefore = Bits(model);

            var error = Assert.Throws<KerasFileException>(() => Read(model, path), name)!;
            Assert.That(error.Path, Is.EqualTo(path));
            Assert.That(error.Message, Does.Contain(path));
            Assert.That(Bits(model), Is.EqualTo(weightsBefore));
        }
    }

    [Test]
    public void CorruptedArchive_FailsNamingTheFile()
    {
        using var model = CnnLstmModels.Regression();
        var path = PathOf("c.keras");
        model.Save(path);
        var bytes = File.ReadAllBytes(path);
        // Damage the HDF5 signature of model.weights.h5 inside the (uncompressed) archive.
        var signature = Encoding.Latin1.GetBytes("\x89HDF\r\n\x1a\n");
        var at = IndexOf(bytes, signature);
        Assert.That(at, Is.GreaterThan(0));
        bytes[at + 1] = (byte)'X';
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path))!;
        Assert.That(error.Message, Does.StartWith($"'{path}'"));

        // A damaged config.json is caught too.
        model.Save(path);
        bytes = File.ReadAllBytes(path);
        at = IndexOf(bytes, Encoding.UTF8.GetBytes("\"class_name\": ".Replace(" ", string.Empty)));
        bytes[at] = (byte)'{';
        File.WriteAllBytes(path, bytes);
        Assert.That(() => Model.Load(path), Throws.TypeOf<KerasFileException>().With.Message.Contains(path));
    }

    [Test]
    public void ForeignFiles_FailNamingTheFile()
    {
        using var model = CnnLstmModels.Regression();
        var text = PathOf("notes.keras");
        File.WriteAllText(text, "not a model");
        Assert.That(() => Model.Load(text), Throws.TypeOf<KerasFileException>().With.Message.Contains(text).And.Message.Contains("zip"));

        var textH5 = PathOf("notes.h5");
        File.WriteAllText(textH5, "not a model either");
        Assert.That(() => model.LoadWeights(textH5), Throws.TypeOf<KerasFileException>().With.Message.Contains(textH5).And.Message.Contains("HDF5"));

        var otherH5 = PathOf("measurements.h5");
        new H5File { ["temperature"] = new[] { 20.5f, 21f } }.Write(otherH5);
        Assert.That(() => model.LoadWeights(otherH5), Throws.TypeOf<KerasFileException>().With.Message.Contains("not a Keras weights file"));
        Assert.That(() => Model.Load(otherH5), Throws.TypeOf<KerasFileException>().With.Message.Contains("model_config"));

        var zip = PathOf("other.keras");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
        {
            archive.CreateEntry("readme.txt");
        }

        Assert.That(() => Model.Load(zip), Throws.TypeOf<KerasFileException>().With.Message.Contains("config.json"));

        var weightsOnly = PathOf("weights-only.h5");
        model.SaveWeights(weightsOnly);
        Assert.That(() => Model.Load(weightsOnly), Throws.TypeOf<KerasFileException>().With.Message.Contains("LoadWeights"));
    }

    [TestCase("w.h5")]
    [TestCase("w.weights.h5")]
    [TestCase("w.keras")]
    public void ShapeMismatch_NamesFileLayerWeightAndBothShapes_AndChangesNothing(string name)
    {
        var path = PathOf(name);
        using (var saved = CnnLstmModels.Regression(lstmUnits: 70))
        {
            Write(saved, path);
        }

        Backend.ClearSession();
        using var model = CnnLstmModels.Regression(lstmUnits: 60);
        var before = Bits(model);
        var error = Assert.Throws<KerasFileException>(() => model.LoadWeights(path))!;
        Assert.That(error.Path, Is.EqualTo(path));
        Assert.That(error.Layer, Is.EqualTo("lstm_1"));
        Assert.That(error.Weight, Is.EqualTo("kernel"));
        Assert.That(error.ExpectedShape, Is.EqualTo(new[] { 10, 240 }));
        Assert.That(error.FileShape, Is.EqualTo(new[] { 10, 280 }));
        Assert.That(error.Message, Does.Contain(path).And.Contains("lstm_1").And.Contains("'kernel'").And.Contains("(10, 240)").And.Contains("(10, 280)"));
        Assert.That(Bits(model), Is.EqualTo(before), "conv1d_1, before the LSTM, was not loaded either");
    }

    [TestCase("w.h5")]
    [TestCase("w.weights.h5")]
    public void LayerCountMismatch_FailsNamingTheLayers(string name)
    {
        var path = PathOf(name);
        using (var saved = CnnLstmModels.Regression())
        {
            Write(saved, path);
        }

        Backend.ClearSession();
        var input = new KerasStyle.Layers.Input(new[] { 1, 3 });
        using var bigger = new Model(input, new KerasStyle.Layers.Dense(1).Call(new KerasStyle.Layers.LSTM(70).Call(new KerasStyle.Layers.Conv1D(10, 1).Call(new KerasStyle.Layers.Dense(3).Call(input)))));
        var before = Bits(bigger);
        var error = Assert.Throws<KerasFileException>(() => bigger.LoadWeights(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contains("dense_"));
        Assert.That(Bits(bigger), Is.EqualTo(before));
    }

    [Test]
    public void ArchiveWhoseWeightsDoNotFitItsConfig_FailsWithShapes()
    {
        var path = PathOf("bad.keras");
        KerasArchiveTests.WriteArchive(path, KerasArchiveTests.Keras3Config, new H5File
        {
            ["layers"] = new H5Group
            {
                ["lstm"] = new H5Group
                {
                    ["cell"] = new H5Group
                    {
                        ["vars"] = new H5Group
                        {
                            ["0"] = new H5Dataset(new float[8], fileDims: new ulong[] { 1, 8 }),
                            ["1"] = new H5Dataset(new float[8], fileDims: new ulong[] { 2, 4 }),
                            ["2"] = new float[4],
                        },
                    },
                },
                ["dense"] = new H5Group { ["vars"] = new H5Group { ["0"] = new H5Dataset(new float[1], fileDims: new ulong[] { 1, 1 }), ["1"] = new float[1] } },
            },
        });
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contains("'lstm'").And.Contains("(1, 4)").And.Contains("(1, 8)"));
    }

    [Test]
    public void ArchiveWhoseConfigReferencesAMissingLayer_FailsNamingIt()
    {
        var path = PathOf("missing.keras");
        KerasArchiveTests.WriteArchive(path, KerasArchiveTests.Keras3Config.Replace("\"keras_history\": [\"lstm\", 0, 0]", "\"keras_history\": [\"gru\", 0, 0]"), new H5File());
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contains("'gru'").And.Contains("Dense 'dense'"));
        Assert.That(error.InnerException, Is.TypeOf<FormatException>());
    }

    [Test]
    public void OptimizerSlotOfWrongShape_FailsNamingTheWeight()
    {
        var path = PathOf("slots.keras");
        var optimizerVars = new H5Group { ["0"] = 3L, ["1"] = 0.002f, ["2"] = new float[5] };
        for (var i = 3; i < 12; i++)
        {
            optimizerVars[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new float[1];
        }

        KerasArchiveTests.WriteArchive(path, KerasArchiveTests.Keras3Config, new H5File
        {
            ["layers"] = new H5Group
            {
                ["lstm"] = new H5Group { ["cell"] = new H5Group { ["vars"] = new H5Group { ["0"] = new H5Dataset(new float[4], fileDims: new ulong[] { 1, 4 }), ["1"] = new H5Dataset(new float[4], fileDims: new ulong[] { 1, 4 }), ["2"] = new float[4] } } },
                ["dense"] = new H5Group { ["vars"] = new H5Group { ["0"] = new H5Dataset(new float[1], fileDims: new ulong[] { 1, 1 }), ["1"] = new float[1] } },
            },
            ["optimizer"] = new H5Group { ["vars"] = optimizerVars },
        });
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path))!;
        Assert.That(error.Message, Does.Contain("optimizer/vars/2").And.Contains("lstm/kernel:0").And.Contains("(5,)").And.Contains("(1, 4)"));
    }

    private static void Write(Model model, string path)
    {
        if (path.EndsWith(".keras", StringComparison.Ordinal))
        {
            model.Save(path);
        }
        else
        {
            model.SaveWeights(path);
        }
    }

    private static void Read(Model model, string path)
    {
        if (path.EndsWith(".keras", StringComparison.Ordinal))
        {
            Model.Load(path).Dispose();
        }
        else
        {
            model.LoadWeights(path);
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }
}
