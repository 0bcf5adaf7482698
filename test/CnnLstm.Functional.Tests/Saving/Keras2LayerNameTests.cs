using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// A '/' in a layer name is an HDF5 path in Keras 2 weights files (nested groups). A Dense named 'block1/dense' was
/// saved as a link with '/' in its name, which neither LoadWeights nor h5dump could read back.
/// </summary>
public class Keras2LayerNameTests
{
    private string directory = null!;

    [SetUp]
    public void SetUp()
    {
        Backend.ClearSession();
        directory = Directory.CreateTempSubdirectory("ks-names-").FullName;
    }

    [TearDown]
    public void TearDown() => Directory.Delete(directory, recursive: true);

    [Test]
    public void SaveWeightsThenLoadWeights_LayerNameWithSlash_RoundTripsAsNestedGroups()
    {
        var path = Path.Combine(directory, "w.h5");
        float[] saved;
        using (var model = Model(seed: 1))
        {
            model.SaveWeights(path);
            saved = model.GetWeights().SelectMany(w => w.Data).ToArray();
        }

        using (var file = H5File.OpenRead(path))
        {
            // As h5py writes it for Keras 2: group 'block1' holding group 'dense', whose datasets sit at the weight names.
            Assert.That(file.Group("block1").Group("dense").Group("block1").Group("dense").Dataset("kernel:0").Space.Dimensions, Is.EqualTo(new ulong[] { 3, 4 }));
        }

        using var loaded = Model(seed: 2);
        loaded.LoadWeights(path);
        Assert.That(loaded.GetWeights().SelectMany(w => w.Data), Is.EqualTo(saved));
    }

    [Test]
    public void SaveWeights_LayerNameThatIsAnotherLayersGroup_ThrowsNamingBothAndKeepsTheOldFile()
    {
        var path = Path.Combine(directory, "w.h5");
        File.WriteAllText(path, "previous");
        var input = new Input(new[] { 3 });
        var x = new Dense(4, name: "block1").Call(input);
        using var model = new Model(input, new Dense(2, name: "block1/out").Call(x));

        var error = Assert.Throws<ArgumentException>(() => model.SaveWeights(path));
        Assert.That(error!.Message, Does.Contain("'block1'").And.Contain("'block1/out'"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous"));
    }

    private static Model Model(int seed)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        var input = new Input(new[] { 3 });
        return new Model(input, new Dense(1, name: "head").Call(new Dense(4, name: "block1/dense").Call(input)));
    }
}
