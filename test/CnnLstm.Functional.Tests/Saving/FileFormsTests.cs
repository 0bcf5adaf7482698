using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// File forms real Keras users publish: an HDF5 file named .keras (and a .keras zip named .h5), loaded by content
/// with a warning; weight paths written on Windows (<c>layers\conv1d</c>) inside a .keras archive; and the real
/// files of ../shared/real-models that have these forms or tf.keras 2's <c>BatchNormalization</c> <c>axis: [2]</c>.
/// </summary>
public class FileFormsTests : SavingTestBase
{
    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    [Test]
    public void Load_Hdf5FileNamedKeras_LoadsByContent_WithOneWarningNamingTheFile()
    {
        using var model = SmallModel();
        var h5 = PathOf("m.h5");
        model.Save(h5);
        var keras = PathOf("m.keras");
        File.Copy(h5, keras);
        using var loaded = Model.Load(keras);
        Assert.That(Bits(loaded), Is.EqualTo(Bits(model)));
        Assert.That(RaisedWarnings.Where(w => w.Contains("HDF5")).ToList(), Has.Count.EqualTo(1));
        Assert.That(RaisedWarnings.Single(w => w.Contains("HDF5")), Does.Contain(keras).And.Contain("named .keras"));
    }

    [Test]
    public void Load_KerasZipNamedH5_LoadsByContent_WithOneWarningNamingTheFile()
    {
        using var model = SmallModel();
        var keras = PathOf("m.keras");
        model.Save(keras);
        var h5 = PathOf("m.h5");
        File.Copy(keras, h5);
        using var loaded = Model.Load(h5);
        Assert.That(Bits(loaded), Is.EqualTo(Bits(model)));
        Assert.That(RaisedWarnings.Single(w => w.Contains("zip")), Does.Contain(h5).And.Contain("named .h5"));
    }

    [Test]
    public void Sniff_FindsTheHdf5SignatureAtZeroOrAfterAUserBlock_AndZipAtZero()
    {
        using var model = SmallModel();
        model.Save(PathOf("m.h5"));
        model.Save(PathOf("m.keras"));
        var signed = File.ReadAllBytes(PathOf("m.h5"));
        File.WriteAllBytes(PathOf("block.h5"), new byte[1024].Concat(signed).ToArray());
        File.WriteAllBytes(PathOf("text.keras"), Encoding.ASCII.GetBytes("not a model at all, just some text"));
        File.WriteAllBytes(PathOf("empty.keras"), Array.Empty<byte>());
        Assert.That(KerasArchive.Sniff(PathOf("m.h5")), Is.EqualTo(KerasArchive.Content.Hdf5));
        Assert.That(KerasArchive.Sniff(PathOf("block.h5")), Is.EqualTo(KerasArchive.Content.Hdf5));
        Assert.That(KerasArchive.Sniff(PathOf("m.keras")), Is.EqualTo(KerasArchive.Content.Zip));
        Assert.That(KerasArchive.Sniff(PathOf("text.keras")), Is.EqualTo(KerasArchive.Content.Unknown));
        Assert.That(KerasArchive.Sniff(PathOf("empty.keras")), Is.EqualTo(KerasArchive.Content.Unknown));
        // Neither form: the error is the archive's, as before.
        Assert.Throws<KerasFileException>(() => Model.Load(PathOf("text.keras")));
    }

    [Test]
    public void Load_Hdf5FileWithAUserBlock_PredictsAsKeras()
    {
        // h5py's userblock_size=512: the superblock sits after 512 bytes of text, and HDF5 addresses count from it.
        var folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "KerasFixtures", "userblock");
        var file = Path.Combine(folder, "userblock.h5");
        Assert.That(File.ReadAllBytes(file)[..10], Is.EqualTo(Encoding.ASCII.GetBytes("user block")));
        var fixture = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "userblock.json")))!;
        using var model = Model.Load(file);
        var predicted = (float[,])model.Predict(FixtureJson.ToFloat3(fixture["x"]!.AsArray()));
        FixtureJson.AssertClose(predicted, fixture["y"]!.AsArray(), "Keras 3.16's prediction");
    }

    [Test]
    public void Load_KerasArchiveWithWindowsWeightPaths_ReadsThemAsSlashPaths_WithOneWarning()
    {
        using var model = SmallModel();
        var path = WithWeightGroups(model, "layers\\dense", "layers\\dense_1");
        using var loaded = Model.Load(path);
        Assert.That(Bits(loaded), Is.EqualTo(Bits(model)));
        Assert.That(RaisedWarnings.Single(w => w.Contains("Windows")), Does.Contain(path).And.Contain("layers\\dense"));
    }

    [TestCase("layers\\..\\dense", "layers\\dense_1", "'..'")]
    [TestCase("layers\\\\dense", "layers\\dense_1", "empty")]
    public void Load_WindowsWeightPathsThatStepOutOfTheirGroup_AreRefused(string first, string second, string message)
    {
        using var model = SmallModel();
        var path = WithWeightGroups(model, first, second);
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path).Dispose());
        Assert.That(error!.Message, Does.Contain(path).And.Contain(message));
    }

    [Test]
    public void Load_WindowsWeightPathsCollidingWithSlashPaths_AreRefusedAsAmbiguous()
    {
        using var model = SmallModel();
        var path = WithWeightGroups(model, "layers\\dense", "layers\\dense_1", alsoSlash: true);
        var error = Assert.Throws<KerasFileException>(() => Model.Load(path).Dispose());
        Assert.That(error!.Message, Does.Contain("ambiguous"));
    }

    [TestCase("set2/6llz__deep-learning-NSSA__cnn_bilstm_model.h5", "")]
    [TestCase("set2/AllaudinAli__ECG-Signal-Classification__cnn_model.keras", "Windows")]
    [TestCase("set2/Sailesh-Siva__Time_Series_Prediction_BiLSTM__bilstm_model.keras", "HDF5")]
    public void Load_RealFile_PredictsAsKerasWithin1e4(string name, string warning)
    {
        if (!Directory.Exists(RealModels))
        {
            Assert.Ignore($"{RealModels} is absent.");
        }

        var file = Path.Combine(RealModels, name);
        using var model = Model.Load(file, compile: false);
        var output = model.Predict(NpyFile.Read(file + ".x.npy"));
        var expected = NpyFile.Read(file + ".y.npy").Cast<float>().ToArray();
        var actual = output.Cast<float>().ToArray();
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a) / Math.Max(1, Math.Abs(e))).Max();
        Assert.That(worst, Is.LessThanOrEqualTo(1e-4), name);
        if (warning.Length > 0)
        {
            Assert.That(RaisedWarnings.Count(w => w.Contains(warning) && w.Contains(file)), Is.EqualTo(1), string.Join("\n", RaisedWarnings));
        }
    }

    private static Model SmallModel()
    {
        var x = new Input(shape: 3, name: "x");
        var model = new Model(x, new Dense(2, name: "b").Call(new Dense(4, activation: "relu", name: "a").Call(x)));
        return model;
    }

    /// <summary>The model saved as .keras, with its weights rewritten under the given group names (Windows forms).</summary>
    private string WithWeightGroups(Model model, string first, string second, bool alsoSlash = false)
    {
        var saved = PathOf("saved.keras");
        model.Save(saved);
        var weights = model.GetWeights();
        H5Group Vars(int layer) => new() { ["vars"] = new H5Group { ["0"] = Keras2WeightsH5.Dataset(weights[layer * 2]), ["1"] = Keras2WeightsH5.Dataset(weights[(layer * 2) + 1]) } };
        var file = new H5File { [first] = Vars(0), [second] = Vars(1), ["vars"] = new H5Group() };
        if (alsoSlash)
        {
            file["layers"] = new H5Group { ["dense"] = Vars(0) };
        }

        using var h5 = new MemoryStream();
        file.Write(h5);
        var path = PathOf("windows.keras");
        using (var source = ZipFile.OpenRead(saved))
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var name in new[] { "metadata.json", "config.json" })
            {
                using var from = source.GetEntry(name)!.Open();
                using var to = zip.CreateEntry(name).Open();
                from.CopyTo(to);
            }

            using var weightsEntry = zip.CreateEntry("model.weights.h5").Open();
            weightsEntry.Write(h5.ToArray());
        }

        return path;
    }

}
