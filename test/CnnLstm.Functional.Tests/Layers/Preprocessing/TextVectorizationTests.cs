using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// TextVectorization (Keras 3.16's text_vectorization.py). Keras runs it on TensorFlow, which is not installable here:
/// the expectations are computed by hand from Keras' source (standardize, split, ngrams, the StringLookup with mask
/// "" and OOV "[UNK]") and from the cases of its text_vectorization_test.py.
/// </summary>
public class TextVectorizationTests
{
    [Test]
    public void Adapt_KerasTestAdaptFlow_SameIds()
    {
        // Counts bar 2, baz 2, foo/bada/boom 1; ties high to low: ["", "[UNK]", baz, bar, foo, boom, bada].
        var layer = new TextVectorization(maxTokens: 5000, outputSequenceLength: 4);
        layer.Adapt(new[] { "foo bar", "bar baz", "baz bada boom" });
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "", "[UNK]", "baz", "bar", "foo", "boom", "bada" }));
        var ids = (long[,])layer.Invoke(new[,] { { "foo qux bar" }, { "qux baz" } });
        Assert.That(ids, Is.EqualTo(new long[,] { { 4, 1, 3, 0 }, { 1, 2, 0, 0 } }));
    }

    [Test]
    public void Invoke_FixedVocabularyAndSetVocabulary_KerasTestIds()
    {
        var given = new TextVectorization(maxTokens: 5000, outputSequenceLength: 4, vocabulary: new[] { "baz", "bar", "foo" });
        Assert.That((long[,])given.Invoke(new[] { "foo qux bar", "qux baz" }), Is.EqualTo(new long[,] { { 4, 1, 3, 0 }, { 1, 2, 0, 0 } }));
        var set = new TextVectorization(maxTokens: 5000, outputSequenceLength: 4);
        set.SetVocabulary(new[] { "baz", "bar", "foo" });
        Assert.That((long[,])set.Invoke(new[] { "foo qux bar", "qux baz" }), Is.EqualTo(new long[,] { { 4, 1, 3, 0 }, { 1, 2, 0, 0 } }));
    }

    [Test]
    public void Invoke_NoOutputSequenceLength_PadsToTheLongestRow_AndTruncatesWhenSet()
    {
        var vocabulary = new[] { "a", "b", "c", "d", "e" };
        Assert.That((long[,])new TextVectorization(vocabulary: vocabulary).Invoke(new[] { "a b c d e", "e" }),
            Is.EqualTo(new long[,] { { 2, 3, 4, 5, 6 }, { 6, 0, 0, 0, 0 } }));
        Assert.That((long[,])new TextVectorization(vocabulary: vocabulary, outputSequenceLength: 3).Invoke(new[] { "a b c d e", "e" }),
            Is.EqualTo(new long[,] { { 2, 3, 4 }, { 6, 0, 0 } }));
    }

    [Test]
    public void Standardize_LowerAndStripPunctuation_AsciiOnlyAsTensorFlow()
    {
        // tf.strings.lower without an encoding lowers A-Z only; Keras' regex class is ASCII punctuation.
        Assert.That(TextVectorization.StripPunctuation(TextVectorization.LowerAscii("Hello, World! It's ÉTÉ_(x) [a-b]~")), Is.EqualTo("hello world its ÉtÉx ab"));
        Assert.That(TextVectorization.StripPunctuation("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"), Is.Empty);
    }

    [TestCase("lower_and_strip_punctuation", "hello world")]
    [TestCase("lower", "hello, world!")]
    [TestCase("strip_punctuation", "Hello World")]
    [TestCase(null, "Hello, World!")]
    public void Preprocess_EachStandardizeMode(string? standardize, string expected)
    {
        var layer = new TextVectorization(standardize: standardize, split: null);
        Assert.That(layer.Preprocess(new[] { "Hello, World!" })[0], Is.EqualTo(new[] { expected }));
    }

    [Test]
    public void Preprocess_WhitespaceRunsCharactersAndNgrams()
    {
        Assert.That(new TextVectorization().Preprocess(new[] { "  a\tb \n c  " })[0], Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(new TextVectorization(split: "character", standardize: null).Preprocess(new[] { "ab c😀" })[0], Is.EqualTo(new[] { "a", "b", " ", "c", "😀" }));
        Assert.That(new TextVectorization(2).Preprocess(new[] { "a b c" })[0], Is.EqualTo(new[] { "a", "b", "c", "a b", "b c" }), "ngrams=2: widths 1 and 2");
        Assert.That(new TextVectorization(ngrams: new[] { 3 }).Preprocess(new[] { "a b" })[0], Is.Empty, "a row shorter than the width gives none");
    }

    [Test]
    public void Invoke_MultiHotAndCount_OovAtZeroEmptyTextAllZero()
    {
        var vocabulary = new[] { "baz", "bar", "foo" };
        Assert.That((float[,])new TextVectorization(outputMode: "multi_hot", vocabulary: vocabulary).Invoke(new[] { "foo qux bar", "" }),
            Is.EqualTo(new float[,] { { 1, 0, 1, 1 }, { 0, 0, 0, 0 } }));
        Assert.That((float[,])new TextVectorization(outputMode: "count", vocabulary: vocabulary).Invoke(new[] { "foo FOO qux" }),
            Is.EqualTo(new float[,] { { 1, 0, 0, 2 } }));
    }

    [Test]
    public void Adapt_TfIdf_WeightsAsKerasFinalizeState()
    {
        // 3 documents; bar and baz in 2: ln(1 + 3/3); foo, boom, bada in 1: ln(1 + 3/2); OOV gets the mean.
        var layer = new TextVectorization(maxTokens: 100, outputMode: "tf_idf");
        layer.Adapt(new[] { "foo bar", "bar baz", "baz bada boom" });
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "[UNK]", "baz", "bar", "foo", "boom", "bada" }));
        var two = (float)Math.Log(2.0);
        var one = (float)Math.Log(2.5);
        var mean = ((2 * two) + (3 * one)) / 5;
        var encoded = (float[,])layer.Invoke(new[] { "foo foo qux" });
        Assert.That(encoded, Is.EqualTo(new float[,] { { mean, 0, 0, 2 * one, 0, 0 } }).Within(1e-6));
    }

    [Test]
    public void Adapt_Batches_WithSteps_CountsOnlyThoseBatches()
    {
        var layer = new TextVectorization();
        layer.Adapt(new[] { new[] { "hello world", "foo bar" }, new[] { "baz qux", "hello foo" } }, steps: 1);
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new[] { "", "[UNK]", "world", "hello", "foo", "bar" }));
    }

    [Test]
    public void RegisteredStandardizeAndSplit_UsedAndSavedByName()
    {
        TextVectorization.RegisterStandardize("test>upper", s => s.ToUpperInvariant());
        TextVectorization.RegisterSplit("test>comma", s => s.Split(','));
        var layer = new TextVectorization(standardize: "test>upper", split: "test>comma", vocabulary: new[] { "A", "B C" });
        Assert.That((long[,])layer.Invoke(new[] { "a,b c,d" }), Is.EqualTo(new long[,] { { 2, 3, 1 } }));
        var config = layer.GetConfig();
        Assert.That(config["standardize"]!["config"]!.GetValue<string>(), Is.EqualTo("test>upper"));
        var again = (TextVectorization)LayerRegistry.Create(new LayerConfig("TextVectorization", layer.Name, JsonNode.Parse(config.ToJsonString())!.AsObject()));
        Assert.That((long[,])again.Invoke(new[] { "a,b c,d" }), Is.EqualTo(new long[,] { { 2, 3, 1 } }));
    }

    [Test]
    public void Constructor_UnregisteredCallableAndTensorFlowOnlyOptions_Refused()
    {
        Assert.That(() => new TextVectorization(standardize: "my_fn"), Throws.ArgumentException.With.Message.Contains("RegisterStandardize"));
        Assert.That(() => new TextVectorization(split: "my_fn"), Throws.ArgumentException.With.Message.Contains("RegisterSplit"));
        Assert.That(() => new TextVectorization(outputMode: "count", outputSequenceLength: 3), Throws.ArgumentException.With.Message.Contains("output_sequence_length"));
        Assert.That(() => new TextVectorization(sparse: true), Throws.InstanceOf<NotSupportedException>());
        Assert.That(() => new TextVectorization(ragged: true), Throws.InstanceOf<NotSupportedException>());
        Assert.That(() => new TextVectorization(ngrams: new[] { 0 }), Throws.ArgumentException.With.Message.Contains("ngrams"));
    }

    [Test]
    public void FromConfig_PythonCallableStandardize_RefusedNamingTheRegistration()
    {
        var config = new TextVectorization(vocabulary: new[] { "a" }, name: "tv").GetConfig();
        config["standardize"] = JsonNode.Parse("""{"module": "__main__", "class_name": "__lambda__", "config": {"code": "..."}}""");
        Assert.That(() => LayerRegistry.Create(new LayerConfig("TextVectorization", "tv", config)), Throws.InstanceOf<FormatException>().With.Message.Contains("RegisterStandardize"));
    }

    [Test]
    public void GetConfig_KeysAsTheRealKeras3File_AndNgramsTupleRoundTrips()
    {
        var layer = new TextVectorization(maxTokens: 20000, ngrams: new[] { 1, 2 }, vocabulary: new[] { "a", "b" }, name: "tv");
        var config = layer.GetConfig();
        Assert.That(config.Select(kv => kv.Key), Is.EqualTo(new[]
        {
            "name", "trainable", "dtype", "max_tokens", "standardize", "split", "ngrams", "output_mode", "output_sequence_length", "pad_to_max_tokens",
            "sparse", "ragged", "vocabulary", "idf_weights", "encoding", "vocabulary_size",
        }));
        Assert.That(config["ngrams"]!.ToJsonString(), Is.EqualTo("[1,2]"));
        Assert.That(config["vocabulary_size"]!.GetValue<int>(), Is.EqualTo(4));
        var again = (TextVectorization)LayerRegistry.Create(new LayerConfig("TextVectorization", "tv", JsonNode.Parse(config.ToJsonString())!.AsObject()));
        Assert.That(again.GetConfig().ToJsonString(), Is.EqualTo(config.ToJsonString()));
    }

    [Test]
    public void FromConfig_TfKeras2ConfigWithInlineVocabulary_Computes()
    {
        var config = JsonNode.Parse("""
            {"name": "text_vectorization", "trainable": true, "batch_input_shape": [null, 1], "dtype": "string", "max_tokens": null,
             "standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": null, "output_mode": "int", "output_sequence_length": 4,
             "pad_to_max_tokens": false, "sparse": false, "ragged": false, "vocabulary": ["baz", "bar", "foo"], "idf_weights": null, "encoding": "utf-8",
             "vocabulary_size": 5}
            """)!.AsObject();
        var layer = (TextVectorization)LayerRegistry.Create(new LayerConfig("TextVectorization", "text_vectorization", config, keras2: true));
        Assert.That((long[,])layer.Invoke(new[] { "Foo, qux BAR!" }), Is.EqualTo(new long[,] { { 4, 1, 3, 0 } }));
    }

    [Test]
    public void Call_NumericInputOrWideStrings_RefusedNamingTheLayer()
    {
        Assert.That(() => new TextVectorization(name: "tv").Call(new Input(new[] { 3 })), Throws.InstanceOf<LayerInputException>().With.Message.Contains("'tv'").And.Message.Contains("float32"));
        Assert.That(() => new TextVectorization(name: "tv").Call(new Input(new[] { 3 }, DType.String)), Throws.InstanceOf<LayerInputException>().With.Message.Contains("(None, 3)"));
    }
}
