using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// ../shared/real-models' set2 PeyvandQuanchi spam model: a Keras 3.10 legacy .h5 of Input(string) → TextVectorization
/// (adapted: vocabulary_size 5076, not in the file) → Embedding(5076, 20) → LSTM(15) → GlobalMaxPooling1D → Dense(1,
/// sigmoid). Its author's app loads it and calls set_vocabulary with a pickled vocabulary; Model.Load takes that
/// vocabulary by layer name. The terms here are made up (the author's are not in ../shared), so the ids they imply are
/// known by hand: lower_and_strip_punctuation, whitespace split, index 0 the mask "", 1 "[UNK]".
/// </summary>
public class RealTextVectorizationFileTests : SavingTestBase
{
    private static readonly string File = Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models", "set2", "PeyvandQuanchi__LSTM-Spam-Detector__spam_model.h5"));

    private static string[] Vocabulary(int size) =>
        new[] { "", "[UNK]", "free", "win", "call", "now", "prize" }.Concat(Enumerable.Range(7, size - 7).Select(i => $"t{i}")).ToArray();

    private static void RequireFile()
    {
        if (!System.IO.File.Exists(File))
        {
            Assert.Ignore($"{File} is absent (it sits beside the repository on project machines and in CI).");
        }
    }

    [Test]
    public void Load_WithoutTheVocabulary_RefusedSayingHowToGiveIt()
    {
        RequireFile();
        Assert.That(() => Model.Load(File), Throws.TypeOf<KerasFileException>()
            .With.Message.Contains("TextVectorization 'text_vectorization'").And.Message.Contains("5076").And.Message.Contains("vocabularies:"));
    }

    [Test]
    public void Load_WithTheVocabulary_TurnsTextsIntoTheIdsItImpliesAndPredicts()
    {
        RequireFile();
        using var model = Model.Load(File, vocabularies: new Dictionary<string, Array> { ["text_vectorization"] = Vocabulary(5076) });
        var layer = (TextVectorization)model.Layers.Single(l => l is TextVectorization);
        Assert.That(layer.VocabularySize(), Is.EqualTo(5076));
        // "Call NOW, free prize!" → "call now free prize" → 4 5 2 6; "win a prize" → 3 [UNK] 6; padded to the longest.
        var ids = (long[,])layer.Invoke(new[] { "Call NOW, free prize!", "win a prize", "Hello" });
        Assert.That(ids, Is.EqualTo(new long[,] { { 4, 5, 2, 6 }, { 3, 1, 6, 0 }, { 1, 0, 0, 0 } }));

        var p = model.Predict<float[,]>(new[] { "Call NOW, free prize!", "call now free prize", "Hello" });
        Assert.That(Enumerable.Range(0, 3).Select(i => p[i, 0]), Has.All.InRange(0f, 1f));
        Assert.That(p[1, 0], Is.EqualTo(p[0, 0]), "the same words after standardization");
        Assert.That(p[2, 0], Is.Not.EqualTo(p[0, 0]));
    }

    [Test]
    public void Load_VocabularyOfAnotherSize_RefusedNamingTheDeclaredSize()
    {
        RequireFile();
        Assert.That(() => Model.Load(File, vocabularies: new Dictionary<string, Array> { ["text_vectorization"] = Vocabulary(5000) }),
            Throws.ArgumentException.With.Message.Contains("text_vectorization").And.Message.Contains("5000").And.Message.Contains("vocabulary_size 5076"));
    }

    [Test]
    public void Load_VocabularyForALayerThatIsNotText_RefusedListingTheTextLayers()
    {
        RequireFile();
        Assert.That(() => Model.Load(File, vocabularies: new Dictionary<string, Array> { ["embedding"] = Vocabulary(5076) }),
            Throws.ArgumentException.With.Message.Contains("'embedding'").And.Message.Contains("TextVectorization 'text_vectorization'"));
    }

    [Test]
    public void Load_VocabularyOfAnotherElementType_RefusedBeforeTheFileIsRead() =>
        Assert.That(() => Model.Load(PathOf("absent.h5"), vocabularies: new Dictionary<string, Array> { ["text_vectorization"] = new object[] { "a" } }),
            Throws.ArgumentException.With.Message.Contains("Object[]").And.Message.Contains("string[]"));

    [Test]
    public void Load_VocabularyForALayerWhoseFileHoldsIt_Refused()
    {
        var text = new Input(Array.Empty<int>(), KerasStyle.Graph.DType.String);
        var vectorize = new TextVectorization(outputSequenceLength: 3, name: "tv");
        vectorize.Adapt(new[] { "a b", "b c" });
        using (var model = new Model(text, vectorize.Call(text)))
        {
            model.Save(PathOf("adapted.keras"));
        }

        Assert.That(() => Model.Load(PathOf("adapted.keras"), vocabularies: new Dictionary<string, Array> { ["tv"] = new[] { "a" } }),
            Throws.ArgumentException.With.Message.Contains("TextVectorization 'tv'").And.Message.Contains("holds its vocabulary"));
    }
}
