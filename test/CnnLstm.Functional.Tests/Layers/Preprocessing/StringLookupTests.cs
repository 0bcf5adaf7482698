using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// StringLookup (Keras 3.16's string_lookup.py over index_lookup.py). Keras runs this layer on TensorFlow, which is not
/// installable here: every expectation below is computed by hand from Keras' source and its docstring examples.
/// </summary>
public class StringLookupTests
{
    private static readonly string[] Vocabulary = { "a", "b", "c", "d" };

    [Test]
    public void SetVocabulary_LeavesTheConfigsVocabularyNull_AsKerasInputVocabulary()
    {
        // Keras' set_vocabulary does not touch input_vocabulary: the config keeps null and a .keras save writes the
        // terms to assets (vocabulary.txt); only a constructor's vocabulary is in the config.
        using var lookup = new StringLookup();
        lookup.SetVocabulary(new[] { "a", "b" });
        using var text = new TextVectorization();
        text.SetVocabulary(new[] { "a", "b" });
        Assert.That((lookup.GetConfig()["vocabulary"], text.GetConfig()["vocabulary"]), Is.EqualTo(((JsonNode?)null, (JsonNode?)null)));
        Assert.That(lookup.GetVocabulary(), Is.EqualTo(new[] { "[UNK]", "a", "b" }));
        Assert.That(new StringLookup(vocabulary: new[] { "a" }).GetConfig()["vocabulary"]!.AsArray().Select(t => (string?)t), Is.EqualTo(new[] { "a" }));
    }

    [Test]
    public void Invoke_GivenVocabulary_MapsTokensAndOovToIndexZero()
    {
        // num_oov_indices=1 and no mask: OOV is 0, the terms 1..4 (Keras' docstring example).
        var layer = new StringLookup(vocabulary: Vocabulary);
        var ids = (long[,])layer.Invoke(new[,] { { "a", "c", "d" }, { "d", "z", "b" } });
        Assert.That(ids, Is.EqualTo(new long[,] { { 1, 3, 4 }, { 4, 0, 2 } }));
    }

    [Test]
    public void Invoke_MaskToken_MaskIsZeroOovOneTermsFromTwo()
    {
        var layer = new StringLookup(maskToken: "", vocabulary: Vocabulary);
        var ids = (long[,])layer.Invoke(new[,] { { "a", "c", "d" }, { "", "z", "b" } });
        Assert.That(ids, Is.EqualTo(new long[,] { { 2, 4, 5 }, { 0, 1, 3 } }));
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "", "[UNK]", "a", "b", "c", "d" }));
        Assert.That(layer.GetVocabulary(includeSpecialTokens: false), Is.EqualTo(Vocabulary));
    }

    [Test]
    public void Invoke_OneHotOnRankOne_OneRowPerToken()
    {
        var layer = new StringLookup(vocabulary: Vocabulary, outputMode: "one_hot");
        var encoded = (float[,])layer.Invoke(new[] { "a", "b", "c", "d", "z" });
        Assert.That(encoded, Is.EqualTo(new float[,] { { 0, 1, 0, 0, 0 }, { 0, 0, 1, 0, 0 }, { 0, 0, 0, 1, 0 }, { 0, 0, 0, 0, 1 }, { 1, 0, 0, 0, 0 } }));
    }

    [Test]
    public void Invoke_MultiHotAndCount_AsKerasDocstring()
    {
        var data = new[,] { { "a", "b", "a", "d" }, { "d", "z", "b", "z" } };
        Assert.That((float[,])new StringLookup(vocabulary: Vocabulary, outputMode: "multi_hot").Invoke(data),
            Is.EqualTo(new float[,] { { 0, 1, 1, 0, 1 }, { 1, 0, 1, 0, 1 } }));
        Assert.That((float[,])new StringLookup(vocabulary: Vocabulary, outputMode: "count").Invoke(data),
            Is.EqualTo(new float[,] { { 0, 2, 1, 0, 1 }, { 2, 0, 1, 0, 1 } }));
        Assert.That((float[,])new StringLookup(vocabulary: Vocabulary, outputMode: "binary").Invoke(data),
            Is.EqualTo(new float[,] { { 0, 1, 1, 0, 1 }, { 1, 0, 1, 0, 1 } }), "binary is multi_hot's alias");
    }

    [Test]
    public void Invoke_TfIdf_OovWeightIsTheMeanOfTheGivenWeights()
    {
        // Weights padded at the front with their mean 0.5 for the OOV index (index_lookup.set_vocabulary).
        var layer = new StringLookup(vocabulary: Vocabulary, idfWeights: new[] { 0.25, 0.75, 0.6, 0.4 }, outputMode: "tf_idf");
        var encoded = (float[,])layer.Invoke(new[,] { { "a", "c", "d", "d" }, { "d", "z", "b", "z" } });
        Assert.That(encoded, Is.EqualTo(new float[,] { { 0, 0.25f, 0, 0.6f, 0.8f }, { 1.0f, 0, 0.75f, 0, 0.4f } }).Within(1e-6));
    }

    [Test]
    public void Invoke_PadToMaxTokens_OutputIsMaxTokensWide()
    {
        var layer = new StringLookup(maxTokens: 8, vocabulary: Vocabulary, outputMode: "multi_hot", padToMaxTokens: true);
        var encoded = (float[,])layer.Invoke(new[,] { { "a", "z" } });
        Assert.That(encoded, Is.EqualTo(new float[,] { { 1, 1, 0, 0, 0, 0, 0, 0 } }));
    }

    [Test]
    public void Invoke_Invert_IndicesBackToTermsAndOovToken()
    {
        var layer = new StringLookup(vocabulary: Vocabulary, invert: true);
        var terms = (string[,])layer.Invoke(new long[,] { { 1, 3, 4 }, { 4, 0, 2 } });
        Assert.That(terms, Is.EqualTo(new[,] { { "a", "c", "d" }, { "d", "[UNK]", "b" } }));
    }

    [Test]
    public void Adapt_OrdersByCountThenTermDescending()
    {
        // Counts d 2, a b c z 1: Keras' np.lexsort((tokens, counts))[::-1] puts ties high to low: z c b a.
        var layer = new StringLookup();
        layer.Adapt(new[,] { { "a", "c", "d" }, { "d", "z", "b" } });
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "[UNK]", "d", "z", "c", "b", "a" }));
    }

    [Test]
    public void Adapt_MaxTokens_KeepsTheMostFrequentAfterTheSpecialIndices()
    {
        var layer = new StringLookup(maxTokens: 3, maskToken: "");
        layer.Adapt(new[] { "x", "y", "y", "z", "z", "z", "" });
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "", "[UNK]", "z" }), "mask and OOV take 2 of the 3; the mask token is not counted");
    }

    [Test]
    public void Adapt_AfterGivenVocabulary_RefusedAsKeras()
    {
        var layer = new StringLookup(vocabulary: Vocabulary);
        Assert.That(() => layer.Adapt(new[] { "a" }), Throws.InvalidOperationException.With.Message.Contains("static vocabulary"));
    }

    [Test]
    public void Invoke_NoOovIndicesAndUnknownTerm_RefusedNamingTheTerm()
    {
        var layer = new StringLookup(numOovIndices: 0, vocabulary: Vocabulary);
        Assert.That((long[])layer.Invoke(new[] { "b" }), Is.EqualTo(new long[] { 1 }), "terms start at 0 without OOV indices");
        Assert.That(() => layer.Invoke(new[] { "q" }), Throws.ArgumentException.With.Message.Contains("'q'").And.Message.Contains("num_oov_indices=1"));
    }

    [Test]
    public void Constructor_VocabularyWithSpecialTokensFirst_TheyAreRecognised()
    {
        var layer = new StringLookup(maskToken: "", vocabulary: new[] { "", "[UNK]", "a", "b" });
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "", "[UNK]", "a", "b" }));
        Assert.That((long[])layer.Invoke(new[] { "b" }), Is.EqualTo(new long[] { 3 }));
    }

    [Test]
    public void Constructor_BadVocabularies_RefusedAsKeras()
    {
        Assert.That(() => new StringLookup(vocabulary: new[] { "a", "b", "a" }), Throws.ArgumentException.With.Message.Contains("repeated"));
        Assert.That(() => new StringLookup(maskToken: "", vocabulary: new[] { "a", "", "b" }), Throws.ArgumentException.With.Message.Contains("mask token"));
        Assert.That(() => new StringLookup(maxTokens: 3, vocabulary: Vocabulary), Throws.ArgumentException.With.Message.Contains("max_tokens"));
        Assert.That(() => new StringLookup(vocabulary: Array.Empty<string>()), Throws.ArgumentException.With.Message.Contains("empty"));
        Assert.That(() => new StringLookup(invert: true, vocabulary: new[] { "a", "[UNK]" }), Throws.ArgumentException.With.Message.Contains("OOV token"));
    }

    [Test]
    public void Constructor_ArgumentsKerasRefuses_Refused()
    {
        Assert.That(() => new StringLookup(maxTokens: 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new StringLookup(padToMaxTokens: true), Throws.ArgumentException.With.Message.Contains("max_tokens"));
        Assert.That(() => new StringLookup(numOovIndices: -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new StringLookup(invert: true, outputMode: "count"), Throws.ArgumentException.With.Message.Contains("invert"));
        Assert.That(() => new StringLookup(outputMode: "ragged"), Throws.ArgumentException.With.Message.Contains("'ragged'"));
        Assert.That(() => new StringLookup(vocabulary: Vocabulary, outputMode: "tf_idf"), Throws.ArgumentException.With.Message.Contains("idf_weights"));
        Assert.That(() => new StringLookup(vocabulary: Vocabulary, idfWeights: new[] { 1.0, 1, 1, 1 }), Throws.ArgumentException.With.Message.Contains("idf_weights"));
        Assert.That(() => new StringLookup(sparse: true), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("sparse"));
        Assert.That(() => new StringLookup(encoding: "latin-1"), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("latin-1"));
    }

    [Test]
    public void Call_NumberInput_RefusedNamingLayerAndDtype()
    {
        var input = new Input(new[] { 3 }, DType.Int64);
        Assert.That(() => new StringLookup(vocabulary: Vocabulary, name: "look").Call(input),
            Throws.InstanceOf<LayerInputException>().With.Message.Contains("look").And.Message.Contains("int64"));
    }

    [Test]
    public void Call_MultiHotOnRankOne_RefusedAsItWouldLoseTheBatchAxis()
    {
        var input = new Input(Array.Empty<int>(), DType.String);
        Assert.That(() => new StringLookup(vocabulary: Vocabulary, outputMode: "multi_hot").Call(input), Throws.InstanceOf<LayerInputException>().With.Message.Contains("rank 2"));
    }

    [Test]
    public void GetConfig_KerasKeysInKerasOrder_AndRoundTrips()
    {
        var layer = new StringLookup(vocabulary: Vocabulary, maskToken: "", name: "look");
        var config = layer.GetConfig();
        Assert.That(config.Select(kv => kv.Key), Is.EqualTo(new[]
        {
            "name", "trainable", "dtype", "invert", "max_tokens", "num_oov_indices", "oov_token", "mask_token", "output_mode", "sparse",
            "pad_to_max_tokens", "idf_weights", "vocabulary", "vocabulary_size", "oov_method", "salt", "encoding",
        }));
        Assert.That(config["vocabulary_size"]!.GetValue<int>(), Is.EqualTo(6));
        var again = (StringLookup)LayerRegistry.Create(new LayerConfig("StringLookup", "look", JsonNode.Parse(config.ToJsonString())!.AsObject()));
        Assert.That(again.GetVocabulary(), Is.EqualTo(layer.GetVocabulary()));
        Assert.That(again.GetConfig().ToJsonString(), Is.EqualTo(config.ToJsonString()));
    }

    [Test]
    public void FromConfig_TfKeras2FormWithAliasesAndHasInputVocabulary_Read()
    {
        // tf.keras 2.x wrote dtype "string", vocabulary inline, output_mode "binary".
        var config = JsonNode.Parse("""
            {"name": "sl", "trainable": true, "dtype": "string", "invert": false, "max_tokens": null, "num_oov_indices": 1, "oov_token": "[UNK]",
             "mask_token": null, "output_mode": "binary", "sparse": false, "pad_to_max_tokens": false, "vocabulary": ["a", "b"], "idf_weights": null,
             "encoding": "utf-8", "has_input_vocabulary": true}
            """)!.AsObject();
        var layer = (StringLookup)LayerRegistry.Create(new LayerConfig("StringLookup", "sl", config, keras2: true));
        Assert.That(layer.OutputMode, Is.EqualTo("multi_hot"));
        Assert.That((float[,])layer.Invoke(new[,] { { "b", "q" } }), Is.EqualTo(new float[,] { { 1, 0, 1 } }));
    }
}
