using System.IO.Compression;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Crafted weights files (issue 20, section 3; made by tools/break-files/make_break_files.py): link cycles ended the
/// process with a stack overflow, external storage loaded /etc/passwd as weights, a dataset declared huge but never
/// written took 4 GB. Each is refused with a <see cref="KerasFileException"/> saying what is wrong, and the model's
/// weights are left as they were.
/// </summary>
public class HdfStructureTests : SavingTestBase
{
    private static readonly string Directory = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "BreakFiles");

    [TestCase("hard_cycle_self.weights.h5", "'layers/dense/loop' is a hard link back to its own parent group 'layers/dense', a cycle")]
    [TestCase("hard_cycle_root.weights.h5", "'layers/dense/vars/up' is a hard link back to its own parent group '/', a cycle")]
    [TestCase("hard_cycle_legacy.h5", "'dense/up' is a hard link back to its own parent group '/', a cycle")]
    [TestCase("soft_cycle_self.weights.h5", "'layers/dense/loop' is a soft link (to '/layers/dense/loop')")]
    [TestCase("soft_cycle_parent.weights.h5", "'layers/dense/vars/up' is a soft link (to '/layers')")]
    [TestCase("soft_cycle_legacy.h5", "'dense/dense/self' is a soft link (to 'self')")]
    [TestCase("external_link.weights.h5", "'layers/dense/vars/2' is an external link into another file (file '/etc/passwd', object '/x')")]
    [TestCase("external_storage.weights.h5", "dataset 'layers/dense/vars/0' keeps its values in external files")]
    [TestCase("external_storage_legacy.h5", "dataset 'dense/dense/kernel:0' keeps its values in external files")]
    [TestCase("virtual.weights.h5", "dataset 'layers/dense/vars/0' is a virtual dataset")]
    public void LoadWeights_FileWithLinksOrStorageOutsideItsTree_IsRefusedBeforeAnythingIsRead(string file, string expected)
    {
        using var model = SmallModel();
        var before = Bits(model);

        var error = Assert.Throws<KerasFileException>(() => model.LoadWeights(Path.Combine(Directory, file)));

        Assert.That(error!.Message, Does.Contain(expected).And.Contain("refused before anything is read"));
        Assert.That(Bits(model), Is.EqualTo(before));
    }

    [TestCase("hard_cycle_root.weights.h5", "a cycle")]
    [TestCase("soft_cycle_self.weights.h5", "is a soft link")]
    [TestCase("external_storage.weights.h5", "keeps its values in external files")]
    public void Load_KerasArchiveWhoseWeightsAreCrafted_IsRefused(string file, string expected)
    {
        // The archive is well formed (its CRCs check out); only the weights entry inside it is crafted.
        var path = PathOf("model.keras");
        using (var model = SmallModel())
        {
            model.Save(path);
        }

        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry("model.weights.h5")!.Delete();
            using var entry = zip.CreateEntry("model.weights.h5").Open();
            entry.Write(File.ReadAllBytes(Path.Combine(Directory, file)));
        }

        Assert.That(Assert.Throws<KerasFileException>(() => Model.Load(path))!.Message, Does.Contain(expected));
    }

    [Test]
    public void Load_LegacyFullModelFileWithACycle_IsRefused() =>
        Assert.That(Assert.Throws<KerasFileException>(() => Model.Load(Path.Combine(Directory, "hard_cycle_legacy.h5")))!.Message, Does.Contain("a cycle"));

    [Test]
    public void LoadWeights_DatasetDeclaredAsABillionFloatsNeverWritten_IsRefusedByShapeWithoutDecodingIt()
    {
        using var model = SmallModel();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        var error = Assert.Throws<KerasFileException>(() => model.LoadWeights(Path.Combine(Directory, "huge_unwritten.weights.h5")));

        Assert.That(error!.Message, Does.Contain("weight 'kernel' has shape (3, 2) in the model, but 'layers/dense/vars/0' in the file has shape (1000000000,)"));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - allocated, Is.LessThan(64L << 20), "the 4 GB dataset is never decoded");
    }

    [Test]
    public void LoadWeights_ChunksFarLargerThanTheirDataset_AreRefusedBeforeReading()
    {
        using var model = SmallModel();
        var error = Assert.Throws<KerasFileException>(() => model.LoadWeights(Path.Combine(Directory, "huge_chunks.weights.h5")));
        Assert.That(error!.Message, Does.Contain("dataset 'layers/dense/vars/0' of shape (3, 2) declares chunks of 8,000,000 bytes, more than its 24 bytes of values"));
    }

    [Test]
    public void LoadWeights_DeflateChunkInflatingBeyondItsSize_IsRefusedWithBoundedMemory()
    {
        using var model = SmallModel();
        var before = Bits(model);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        var error = Assert.Throws<KerasFileException>(() => model.LoadWeights(Path.Combine(Directory, "deflate_bomb.weights.h5")));

        Assert.That(error!.ToString(), Does.Contain("inflates to more than its declared 24 bytes"));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - allocated, Is.LessThan(16L << 20), "the 64 MiB the chunk inflates to is never held");
        Assert.That(Bits(model), Is.EqualTo(before));
    }

    [TestCase("attribute_huge_fixed.h5", "attribute 'weight_names' of 'dense' declares 1,400,000,000 bytes of values, but its message holds 32")]
    [TestCase("attribute_huge_string.h5", "attribute 'weight_names' of 'dense' declares 8,589,934,560 bytes of values, but its message holds 32")]
    [TestCase("attribute_huge_vlen.h5", "attribute 'weight_names' of 'dense' declares 1,600,000,000 bytes of values, but its message holds 32")]
    [TestCase("global_heap_object_huge.h5", "lie in a global heap object that declares 100,000,000 bytes, more than its collection holds")]
    [TestCase("dense_attributes.weights.h5", "'layers/dense' keeps its attributes in dense storage")]
    public void LoadWeights_AttributeDeclaringMoreThanItHolds_IsRefusedWithBoundedMemory(string file, string expected)
    {
        // PureHDF allocated what an attribute declared before finding the file too small: 1.5 GB for these.
        using var model = SmallModel();
        var before = Bits(model);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        var error = Assert.Throws<KerasFileException>(() => model.LoadWeights(Path.Combine(Directory, file)));

        Assert.That(error!.Message, Does.Contain(expected).And.Contain("refused before anything is read"));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - allocated, Is.LessThan(16L << 20));
        Assert.That(Bits(model), Is.EqualTo(before));
    }

    [Test]
    public void Load_LegacyFileWithAnAttributeDeclaredHuge_IsRefused() =>
        Assert.That(Assert.Throws<KerasFileException>(() => Model.Load(Path.Combine(Directory, "attribute_huge_vlen.h5")))!.Message, Does.Contain("declares 1,600,000,000 bytes of values"));

    private static Model SmallModel()
    {
        var input = new Input(new[] { 3 });
        return new Model(input, new Dense(2, name: "dense").Call(input));
    }
}
