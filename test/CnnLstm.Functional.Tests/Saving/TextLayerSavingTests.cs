using System.IO.Compression;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Text layers' vocabularies in files where Keras 3.16 puts them: a learned one in a .keras archive's
/// assets/layers/CLASS_PATH/vocabulary.txt (index_lookup.py's save_assets; TextVectorization also at .../_lookup_layer/),
/// a given one in the config; a legacy .h5 holds none, so a file that declares one without it is refused.
/// </summary>
public class TextLayerSavingTests : SavingTestBase
{
    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models"));

    private static readonly string[] Texts = { "foo qux bar", "qux baz", "Baz, baz!" };

    private static Model AdaptedModel()
    {
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        var vectorize = new TextVectorization(outputSequenceLength: 4, name: "tv");
        vectorize.Adapt(new[] { "foo bar", "bar baz", "baz bada boom" });
        var lookup = new StringLookup(name: "look");
        lookup.Adapt(new[] { "x", "y", "y" });
        var word = new Input(new[] { 1 }, DType.String, name: "word");
        var a = new Flatten().Call(new Embedding(7, 2).Call(vectorize.Call(text)));
        var b = new Flatten().Call(new Embedding(3, 2).Call(lookup.Call(word)));
        return new Model(new[] { text, word }, new Dense(1).Call(new Concatenate().Call(a, b)));
    }

    [Test]
    public void SaveKeras_LearnedVocabularies_InAssetsAsKerasAndLoadedBack()
    {
        using var model = AdaptedModel();
        var path = PathOf("text.keras");
        model.Save(path);
        using (var zip = ZipFile.OpenRead(path))
        {
            string Read(string name)
            {
                using var reader = new StreamReader(zip.GetEntry(name)!.Open());
                return reader.ReadToEnd();
            }

            // saving_lib's paths: the snake_case class name, not the layer name ("tv", "look").
            Assert.That(Read("assets/layers/text_vectorization/vocabulary.txt"), Is.EqualTo("\n[UNK]\nbaz\nbar\nfoo\nboom\nbada"));
            Assert.That(Read("assets/layers/text_vectorization/_lookup_layer/vocabulary.txt"), Is.EqualTo("\n[UNK]\nbaz\nbar\nfoo\nboom\nbada"));
            Assert.That(Read("assets/layers/string_lookup/vocabulary.txt"), Is.EqualTo("[UNK]\ny\nx"));
            Assert.That(zip.Entries.Select(e => e.FullName), Has.None.StartsWith("assets/layers/tv").And.None.StartsWith("assets/layers/look"));
        }

        using var loaded = Model.Load(path);
        var x = new Array[] { Texts, new[,] { { "y" }, { "x" }, { "q" } } };
        Assert.That(loaded.Predict<float[,]>(x), Is.EqualTo(model.Predict<float[,]>(x)));
        Assert.That(((TextVectorization)loaded.Layers.Single(l => l.Name == "tv")).GetVocabulary(), Is.EqualTo(new[] { "", "[UNK]", "baz", "bar", "foo", "boom", "bada" }));
    }

    [Test]
    public void ToJson_BuildConfigsAsKeras_EmptyForLookupsInputShapeForTextVectorization()
    {
        // index_lookup.get_build_config returns {}; TextVectorization overrides build, so Layer's default records the shape.
        using var model = AdaptedModel();
        var layers = System.Text.Json.Nodes.JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray();
        Assert.That(layers.Single(l => l!["name"]!.GetValue<string>() == "look")!["build_config"]!.ToJsonString(), Is.EqualTo("{}"));
        Assert.That(layers.Single(l => l!["name"]!.GetValue<string>() == "tv")!["build_config"]!.ToJsonString(), Is.EqualTo("""{"input_shape":[null]}"""));
    }

    [Test]
    public void SaveKeras_GivenVocabulary_InTheConfigAndNoAsset()
    {
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        using var model = new Model(text, new TextVectorization(outputSequenceLength: 3, vocabulary: new[] { "baz", "bar", "foo" }, name: "tv").Call(text));
        var path = PathOf("given.keras");
        model.Save(path);
        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.That(zip.Entries.Select(e => e.FullName), Has.None.StartsWith("assets/"));
        }

        using var loaded = Model.Load(path);
        Assert.That(loaded.Predict<float[,]>(Texts), Is.EqualTo(new float[,] { { 4, 1, 3 }, { 1, 2, 0 }, { 2, 2, 0 } }));
    }

    [TestCase(H5Format.Keras3)]
    [TestCase(H5Format.TfKeras2)]
    public void SaveH5_GivenVocabulary_RoundTripsThroughTheConfig(H5Format format)
    {
        var text = new Input(new[] { 1 }, DType.String, name: "text");
        using var model = new Model(text, new TextVectorization(outputSequenceLength: 3, vocabulary: new[] { "baz", "bar", "foo" }, name: "tv").Call(text));
        var path = PathOf("given.h5");
        model.Save(path, format);
        using var loaded = Model.Load(path);
        Assert.That(loaded.Predict<float[,]>(new[,] { { "foo qux bar" } }), Is.EqualTo(new float[,] { { 4, 1, 3 } }));
    }

    [Test]
    public void SaveH5_LearnedVocabulary_RefusedNamingLayerAndFormat()
    {
        using var model = AdaptedModel();
        var path = PathOf("learned.h5");
        Assert.That(() => model.Save(path), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("TextVectorization 'tv'").And.Message.Contains(".keras"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void Load_RealKeras3H5WithTextVectorization_RefusedBecauseTheFileHoldsNoVocabulary()
    {
        var file = Path.Combine(RealModels, "set2", "PeyvandQuanchi__LSTM-Spam-Detector__spam_model.h5");
        if (!File.Exists(file))
        {
            Assert.Ignore("../shared/real-models is absent.");
        }

        // Keras 3.10's legacy .h5: config "vocabulary": null, "vocabulary_size": 5076, no weights for the layer.
        var error = Assert.Throws<KerasFileException>(() => Model.Load(file))!;
        Assert.That(error.Message, Does.Contain(file).And.Contain("TextVectorization 'text_vectorization'").And.Contain("5076").And.Contain("holds no vocabulary"));
    }
}
