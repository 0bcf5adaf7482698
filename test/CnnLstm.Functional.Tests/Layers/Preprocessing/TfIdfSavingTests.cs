using System.IO.Compression;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using PureHDF;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// tf_idf lookups (TextVectorization, StringLookup, IntegerLookup) in files as Keras 3.16 writes them. Keras runs these
/// layers on TensorFlow, which is not installable here, so the layout and values come from its source:
/// index_lookup.py's <c>save_own_variables</c> stores the padded idf weights as <c>store["idf_weights"]</c>, i.e.
/// <c>layers/&lt;path&gt;/vars/idf_weights</c> (saving_lib's H5IOStore), and <c>save_assets</c> the vocabulary with its
/// special tokens; text_vectorization.py delegates both to its <c>_lookup_layer</c>, which saving_lib then walks
/// again at <c>layers/text_vectorization/_lookup_layer</c>. The idf values are Keras' <c>log(1 + documents / (1 +
/// documents with the term))</c>, the special indices padded with the mean (finalize_state), computed by hand.
/// </summary>
public class TfIdfSavingTests : SavingTestBase
{
    private static readonly string[] Documents = { "a b", "b", "b c c" };

    // Three documents; b in all three, c and a in one each. Vocabulary by count: b (3), c (2), a (1).
    private static readonly double IdfB = Math.Log(1 + (3.0 / 4));
    private static readonly double IdfC = Math.Log(1 + (3.0 / 2));
    private static readonly double IdfA = Math.Log(1 + (3.0 / 2));
    private static readonly double Mean = (IdfB + IdfC + IdfA) / 3;
    private static readonly double[] TextIdf = { Mean, IdfB, IdfC, IdfA };

    private static readonly string[] Queries = { "a c c z", "b", "" };

    // Term counts of each query times the idf of each index ([UNK], b, c, a).
    private static readonly float[,] Expected =
    {
        { (float)Mean, 0, (float)(2 * IdfC), (float)IdfA },
        { 0, (float)IdfB, 0, 0 },
        { 0, 0, 0, 0 },
    };

    private static Model AdaptedTextModel(string name = "tv")
    {
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        var layer = new TextVectorization(outputMode: "tf_idf", name: name);
        layer.Adapt(Documents);
        return new Model(text, layer.Call(text));
    }

    private static MemoryStream Entry(ZipArchive zip, string name)
    {
        var result = new MemoryStream();
        using (var stream = zip.GetEntry(name)!.Open())
        {
            stream.CopyTo(result);
        }

        result.Position = 0;
        return result;
    }

    private static string Text(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(zip.GetEntry(name)!.Open());
        return reader.ReadToEnd();
    }

    /// <summary>A copy of a .keras archive with its weights entry replaced (and entries renamed or dropped).</summary>
    private void Rewrite(string source, string target, H5File weights, Func<string, string?>? rename = null)
    {
        using var h5 = new MemoryStream();
        weights.Write(h5);
        using var from = ZipFile.OpenRead(source);
        using var to = ZipFile.Open(target, ZipArchiveMode.Create);
        foreach (var entry in from.Entries)
        {
            var name = entry.FullName == "model.weights.h5" ? entry.FullName : rename is null ? entry.FullName : rename(entry.FullName);
            if (name is null)
            {
                continue;
            }

            using var output = to.CreateEntry(name, CompressionLevel.NoCompression).Open();
            if (entry.FullName == "model.weights.h5")
            {
                h5.Position = 0;
                h5.CopyTo(output);
            }
            else
            {
                using var input = entry.Open();
                input.CopyTo(output);
            }
        }
    }

    /// <summary>The weights of the text model, built by hand in Keras' layout.</summary>
    private static H5File TextWeights(object? outer, object? inner)
    {
        var vars = new H5Group();
        var innerVars = new H5Group();
        if (outer is not null)
        {
            vars["idf_weights"] = outer;
        }

        if (inner is not null)
        {
            innerVars["idf_weights"] = inner;
        }

        return new H5File
        {
            ["layers"] = new H5Group
            {
                ["input_layer"] = new H5Group { ["vars"] = new H5Group() },
                ["text_vectorization"] = new H5Group { ["vars"] = vars, ["_lookup_layer"] = new H5Group { ["vars"] = innerVars } },
            },
            ["vars"] = new H5Group(),
        };
    }

    private static float[] Floats(IEnumerable<double> values) => values.Select(v => (float)v).ToArray();

    [Test]
    public void SaveKeras_AdaptedTextVectorizationTfIdf_IdfWeightsAndVocabularyWhereKerasPutsThem()
    {
        using var model = AdaptedTextModel();
        var path = PathOf("tfidf.keras");
        model.Save(path);

        using var zip = ZipFile.OpenRead(path);
        // Keras' paths are the class name's, not the layer name ("tv").
        Assert.That(Text(zip, "assets/layers/text_vectorization/vocabulary.txt"), Is.EqualTo("[UNK]\nb\nc\na"));
        Assert.That(Text(zip, "assets/layers/text_vectorization/_lookup_layer/vocabulary.txt"), Is.EqualTo("[UNK]\nb\nc\na"));
        var layer = JsonNode.Parse(Text(zip, "config.json"))!["config"]!["layers"]!.AsArray().Single(l => l!["class_name"]!.GetValue<string>() == "TextVectorization")!["config"]!;
        Assert.That(layer["vocabulary"], Is.Null, "an adapted vocabulary is not Keras' input_vocabulary");
        Assert.That(layer["idf_weights"], Is.Null, "adapted idf weights are not Keras' input_idf_weights");
        Assert.That(layer["vocabulary_size"]!.GetValue<int>(), Is.EqualTo(4));

        using var h5 = Entry(zip, "model.weights.h5");
        using var file = H5File.Open(h5);
        foreach (var dataset in new[] { "layers/text_vectorization/vars/idf_weights", "layers/text_vectorization/_lookup_layer/vars/idf_weights" })
        {
            Assert.That(file.Dataset(dataset).Space.Dimensions, Is.EqualTo(new ulong[] { 4 }), dataset);
            Assert.That(file.Dataset(dataset).Read<float[]>(), Is.EqualTo(Floats(TextIdf)).Within(1e-6), dataset);
        }

        Assert.That(file.Group("layers/text_vectorization/vars").Children().Select(c => c.Name), Is.EqualTo(new[] { "idf_weights" }), "no numbered variables: Keras' idf weights are a tf.Variable it does not track");
    }

    [Test]
    public void LoadKeras_AdaptedTextVectorizationTfIdf_SamePredictionsAndNothingInTheConfig()
    {
        using var model = AdaptedTextModel();
        var path = PathOf("tfidf.keras");
        model.Save(path);
        using var loaded = Model.Load(path);

        Assert.That(model.Predict<float[,]>(Queries), Is.EqualTo(Expected).Within(1e-6));
        Assert.That(loaded.Predict<float[,]>(Queries), Is.EqualTo(model.Predict<float[,]>(Queries)));
        var layer = (TextVectorization)loaded.GetLayer("tv");
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "[UNK]", "b", "c", "a" }));
        Assert.That(layer.Lookup.IdfWeights, Is.EqualTo(Floats(TextIdf)).Within(1e-6));
        Assert.That(JsonNode.Parse(loaded.ToJson())!["config"]!["layers"]![1]!["config"]!["idf_weights"], Is.Null, "saved again as Keras would: still no input_idf_weights");
    }

    [Test]
    public void LoadKeras_HandBuiltKerasFormWeights_HandComputedIdfUsed()
    {
        // The weights entry written by hand as Keras' H5IOStore writes it, with idf values other than the saved ones
        // (the inner lookup's entry, walked last by Keras, wins): the layer computes with exactly these.
        using var model = AdaptedTextModel();
        var saved = PathOf("saved.keras");
        model.Save(saved);
        var idf = new[] { 0.5f, 1.5f, 2f, 3f };
        var path = PathOf("hand.keras");
        Rewrite(saved, path, TextWeights(new[] { 9f, 9f, 9f, 9f }, idf));

        using var loaded = Model.Load(path);
        Assert.That(loaded.Predict<float[,]>(Queries), Is.EqualTo(new float[,] { { 0.5f, 0, 4f, 3f }, { 0, 1.5f, 0, 0 }, { 0, 0, 0, 0 } }));
    }

    [Test]
    public void LoadKeras_IdfOnlyInTheLayersOwnVars_Used()
    {
        using var model = AdaptedTextModel();
        var saved = PathOf("saved.keras");
        model.Save(saved);
        var path = PathOf("outer.keras");
        Rewrite(saved, path, TextWeights(Floats(TextIdf), null));

        using var loaded = Model.Load(path);
        Assert.That(loaded.Predict<float[,]>(Queries), Is.EqualTo(Expected).Within(1e-6));
    }

    [Test]
    public void LoadKeras_MissingIdfEntry_RefusedNamingLayerAndEntry()
    {
        using var model = AdaptedTextModel();
        var saved = PathOf("saved.keras");
        model.Save(saved);
        var path = PathOf("missing.keras");
        Rewrite(saved, path, TextWeights(null, null));

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("TextVectorization 'tv'").And.Contain("idf_weights").And.Contain("missing"));
    }

    [Test]
    public void LoadKeras_IdfEntryOfAnotherLength_RefusedNamingBothLengths()
    {
        using var model = AdaptedTextModel();
        var saved = PathOf("saved.keras");
        model.Save(saved);
        var path = PathOf("short.keras");
        Rewrite(saved, path, TextWeights(new[] { 1f, 2f, 3f }, new[] { 1f, 2f, 3f }));

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path))!;
        Assert.That(error.Message, Does.Contain("TextVectorization 'tv'").And.Contain("3 values").And.Contain("4 entries"));
    }

    [Test]
    public void LoadKeras_IdfEntryOfIntegersOrRankTwo_RefusedNamingTheDataset()
    {
        using var model = AdaptedTextModel();
        var saved = PathOf("saved.keras");
        model.Save(saved);
        var integers = PathOf("integers.keras");
        Rewrite(saved, integers, TextWeights(new long[] { 1, 2, 3, 4 }, null));
        var matrix = PathOf("matrix.keras");
        Rewrite(saved, matrix, TextWeights(new float[,] { { 1, 2 }, { 3, 4 } }, null));

        Assert.That(() => Model.Load(integers), Throws.InstanceOf<KerasFileException>().With.Message.Contains("layers/text_vectorization/vars/idf_weights").And.Message.Contains("integers"));
        Assert.That(() => Model.Load(matrix), Throws.InstanceOf<KerasFileException>().With.Message.Contains("layers/text_vectorization/vars/idf_weights").And.Message.Contains("rank-1"));
    }

    [Test]
    public void LoadKeras_AssetAtTheLayerNamePathOfEarlierVersions_StillRead()
    {
        using var model = AdaptedTextModel();
        var saved = PathOf("saved.keras");
        model.Save(saved);
        var path = PathOf("old.keras");
        Rewrite(saved, path, TextWeights(Floats(TextIdf), null), name =>
            name == "assets/layers/text_vectorization/vocabulary.txt" ? "assets/layers/tv/vocabulary.txt" : name.StartsWith("assets/", StringComparison.Ordinal) ? null : name);

        using var loaded = Model.Load(path);
        Assert.That(loaded.Predict<float[,]>(Queries), Is.EqualTo(Expected).Within(1e-6));
    }

    [Test]
    public void SaveKeras_TfIdfInANestedModel_AtTheNestedPathAndRoundTrips()
    {
        using var inner = AdaptedTextModel();
        var text = new Input(Array.Empty<int>(), DType.String, name: "outer_text");
        using var outer = new Model(text, inner.Call(text), "outer");
        var path = PathOf("nested.keras");
        outer.Save(path);
        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.That(Text(zip, "assets/layers/functional/layers/text_vectorization/vocabulary.txt"), Is.EqualTo("[UNK]\nb\nc\na"));
            using var h5 = Entry(zip, "model.weights.h5");
            using var file = H5File.Open(h5);
            Assert.That(file.Dataset("layers/functional/layers/text_vectorization/vars/idf_weights").Read<float[]>(), Is.EqualTo(Floats(TextIdf)).Within(1e-6));
        }

        using var loaded = Model.Load(path);
        Assert.That(loaded.Predict<float[,]>(Queries), Is.EqualTo(Expected).Within(1e-6));
    }

    [Test]
    public void SaveKeras_AdaptedStringLookupPadToMaxTokens_IdfPaddedToMaxTokensAndRoundTrips()
    {
        var word = new Input(new[] { 2 }, DType.String);
        var layer = new StringLookup(maxTokens: 6, padToMaxTokens: true, outputMode: "tf_idf", name: "look");
        // Two documents: y in both, x in one; vocabulary y (3), x (1) after the OOV index.
        layer.Adapt(new[,] { { "x", "y" }, { "y", "y" } });
        using var model = new Model(word, layer.Call(word));
        var path = PathOf("lookup.keras");
        model.Save(path);

        var idfY = Math.Log(1 + (2.0 / 3));
        var idfX = Math.Log(1 + (2.0 / 2));
        var expected = Floats(new[] { (idfY + idfX) / 2, idfY, idfX, 0, 0, 0 });
        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.That(Text(zip, "assets/layers/string_lookup/vocabulary.txt"), Is.EqualTo("[UNK]\ny\nx"));
            using var h5 = Entry(zip, "model.weights.h5");
            using var file = H5File.Open(h5);
            Assert.That(file.Dataset("layers/string_lookup/vars/idf_weights").Read<float[]>(), Is.EqualTo(expected).Within(1e-6));
        }

        using var loaded = Model.Load(path);
        var x = new[,] { { "x", "q" }, { "y", "y" } };
        Assert.That(loaded.Predict<float[,]>(x), Is.EqualTo(model.Predict<float[,]>(x)));
        Assert.That(((StringLookup)loaded.GetLayer("look")).IdfWeights, Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void SaveKeras_AdaptedIntegerLookupTfIdf_IdfAtItsPathAndRoundTrips()
    {
        var ids = new Input(new[] { 2 }, DType.Int64);
        var layer = new IntegerLookup(outputMode: "tf_idf", name: "ints");
        // Documents {1, 2}, {2, 3}: 2 in both; 1 and 3 in one each, ties by the larger value: 2, 3, 1.
        layer.Adapt(new long[,] { { 1, 2 }, { 2, 3 } });
        using var model = new Model(ids, layer.Call(ids));
        var path = PathOf("ints.keras");
        model.Save(path);

        var idf2 = Math.Log(1 + (2.0 / 3));
        var idfOne = Math.Log(1 + (2.0 / 2));
        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.That(Text(zip, "assets/layers/integer_lookup/vocabulary.txt"), Is.EqualTo("-1\n2\n3\n1"));
            using var h5 = Entry(zip, "model.weights.h5");
            using var file = H5File.Open(h5);
            Assert.That(file.Dataset("layers/integer_lookup/vars/idf_weights").Read<float[]>(),
                Is.EqualTo(Floats(new[] { (idf2 + idfOne + idfOne) / 3, idf2, idfOne, idfOne })).Within(1e-6));
        }

        using var loaded = Model.Load(path);
        var x = new long[,] { { 1, 9 }, { 2, 2 } };
        Assert.That(loaded.Predict<float[,]>(x), Is.EqualTo(model.Predict<float[,]>(x)));
    }

    [Test]
    public void SaveKeras_GivenIdfWeights_InTheConfigAsGivenAndPaddedInTheWeightsFile()
    {
        // Keras' get_config writes input_idf_weights (as given); save_own_variables still stores the padded weights.
        var text = new Input(Array.Empty<int>(), DType.String);
        var layer = new TextVectorization(outputMode: "tf_idf", vocabulary: new[] { "b", "c" }, idfWeights: new[] { 0.25, 0.75 }, name: "tv");
        using var model = new Model(text, layer.Call(text));
        var path = PathOf("given.keras");
        model.Save(path);
        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.That(zip.Entries.Select(e => e.FullName), Has.None.StartsWith("assets/"));
            var config = JsonNode.Parse(Text(zip, "config.json"))!["config"]!["layers"]![1]!["config"]!;
            Assert.That(config["idf_weights"]!.AsArray().Select(v => v!.GetValue<double>()), Is.EqualTo(new[] { 0.25, 0.75 }));
            using var h5 = Entry(zip, "model.weights.h5");
            using var file = H5File.Open(h5);
            Assert.That(file.Dataset("layers/text_vectorization/vars/idf_weights").Read<float[]>(), Is.EqualTo(new[] { 0.5f, 0.25f, 0.75f }));
        }

        using var loaded = Model.Load(path);
        Assert.That(loaded.Predict<float[,]>(new[] { "b c c z" }), Is.EqualTo(new float[,] { { 0.5f, 0.25f, 1.5f } }));
    }

    [Test]
    public void LoadKeras_GivenIdfWeightsAndAnEntryOfAnotherLength_RefusedAsKerasAssignWould()
    {
        var text = new Input(Array.Empty<int>(), DType.String);
        using var model = new Model(text, new TextVectorization(outputMode: "tf_idf", vocabulary: new[] { "b", "c" }, idfWeights: new[] { 0.25, 0.75 }, name: "tv").Call(text));
        var saved = PathOf("given.keras");
        model.Save(saved);
        var path = PathOf("long.keras");
        Rewrite(saved, path, TextWeights(new[] { 1f, 2f, 3f, 4f }, null));

        Assert.That(() => Model.Load(path), Throws.InstanceOf<KerasFileException>().With.Message.Contains("4 idf weights").And.Message.Contains("has 3"));
    }

    [Test]
    public void SaveKeras_TfIdfNeitherAdaptedNorGiven_RefusedAsKerasCannotSaveIt()
    {
        var text = new Input(Array.Empty<int>(), DType.String);
        using var model = new Model(text, new TextVectorization(outputMode: "tf_idf", name: "tv").Call(text));
        var path = PathOf("empty.keras");
        Assert.That(() => model.Save(path), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("TextVectorization 'tv'").And.Message.Contains("no idf weights"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void SaveWeightsThenLoadWeights_TfIdf_IdfWeightsTravelWithTheWeights()
    {
        // Keras' save_weights/load_weights call save_own_variables/load_own_variables too (no assets).
        using var model = AdaptedTextModel();
        var path = PathOf("tfidf.weights.h5");
        model.SaveWeights(path);
        using (var file = H5File.OpenRead(path))
        {
            Assert.That(file.Dataset("layers/text_vectorization/vars/idf_weights").Read<float[]>(), Is.EqualTo(Floats(TextIdf)).Within(1e-6));
        }

        var text = new Input(Array.Empty<int>(), DType.String);
        var other = new TextVectorization(outputMode: "tf_idf", name: "tv");
        other.Adapt(new[] { "b b c a", "b c a" });
        using var target = new Model(text, other.Call(text));
        Assert.That(other.GetVocabulary(), Is.EqualTo(new[] { "[UNK]", "b", "c", "a" }));
        target.LoadWeights(path);
        Assert.That(other.Lookup.IdfWeights, Is.EqualTo(Floats(TextIdf)).Within(1e-6));
        Assert.That(target.Predict<float[,]>(Queries), Is.EqualTo(Expected).Within(1e-6));
    }

    [Test]
    public void SaveLegacyH5_AdaptedTfIdf_RefusedAsTheFormatCannotHoldTheVocabulary()
    {
        using var model = AdaptedTextModel();
        var path = PathOf("tfidf.h5");
        Assert.That(() => model.Save(path), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("TextVectorization 'tv'").And.Message.Contains("legacy .h5"));
        Assert.That(File.Exists(path), Is.False);
    }
}
