using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// A published file with a custom layer fails <c>Model.Load</c> naming the file, the class and how to register a C# twin.
/// (Every line of set2/REFUSE.txt is checked by <see cref="RealModelFilesTests"/>.)
/// </summary>
public class RefusedRealModelsTests
{
    private static string Set2 => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models", "set2"));

    [Test]
    public void Load_Set1FileWithTheCustomAttentionLayer_IsRefusedNamingTheFileAndTheClass()
    {
        var path = Path.GetFullPath(Path.Combine(Set2, "..", "set1", "G1213123__CIVL7018__lstm_model_with_attention.h5"));
        if (!File.Exists(path))
        {
            Assert.Ignore($"{path} is absent.");
        }

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path).Dispose());
        Assert.That(error!.Message, Does.Contain(path).And.Contain("Unknown layer class 'AttentionLayer'").And.Contain("LayerRegistry.Register<TLayer>()"));
    }
}
