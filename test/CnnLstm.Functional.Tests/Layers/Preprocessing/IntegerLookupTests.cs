using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// IntegerLookup (Keras 3.16's integer_lookup.py over index_lookup.py). Keras runs it on TensorFlow, not installable
/// here: the expectations are computed by hand from Keras' source and docstring examples.
/// </summary>
public class IntegerLookupTests
{
    private static readonly long[] Vocabulary = { 12, 36, 1138, 42 };

    [Test]
    public void Invoke_GivenVocabulary_OovIsZeroAndTermsFollow()
    {
        var layer = new IntegerLookup(vocabulary: Vocabulary);
        Assert.That((long[,])layer.Invoke(new long[,] { { 12, 1138, 42 }, { 42, 1000, 36 } }), Is.EqualTo(new long[,] { { 1, 3, 4 }, { 4, 0, 2 } }));
        Assert.That((long[,])layer.Invoke(new[,] { { 12, 1138, 42 }, { 42, 1000, 36 } }), Is.EqualTo(new long[,] { { 1, 3, 4 }, { 4, 0, 2 } }), "int32 input");
    }

    [Test]
    public void Invoke_SeveralOovIndices_FloorModOfTheValue()
    {
        // floormod(1000, 2) = 0, floormod(1001, 2) = 1, floormod(-3, 2) = 1 (Python's sign rule); terms from 2.
        var layer = new IntegerLookup(numOovIndices: 2, vocabulary: Vocabulary);
        Assert.That((long[,])layer.Invoke(new long[,] { { 12, 1000, 42 }, { 42, 1001, -3 } }), Is.EqualTo(new long[,] { { 2, 0, 5 }, { 5, 1, 1 } }));
    }

    [Test]
    public void Invoke_MaskToken_ZeroIsTheMask()
    {
        var layer = new IntegerLookup(maskToken: 0, vocabulary: Vocabulary);
        Assert.That((long[,])layer.Invoke(new long[,] { { 12, 0, 7 } }), Is.EqualTo(new long[,] { { 2, 0, 1 } }));
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new long[] { 0, -1, 12, 36, 1138, 42 }));
    }

    [Test]
    public void Adapt_TiesByLargerValueFirst()
    {
        var layer = new IntegerLookup();
        layer.Adapt(new long[,] { { 12, 1138, 42 }, { 42, 1000, 36 } });
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new long[] { -1, 42, 1138, 1000, 36, 12 }));
    }

    [Test]
    public void Invoke_Invert_IndicesToValues()
    {
        var layer = new IntegerLookup(vocabulary: Vocabulary, invert: true);
        Assert.That((long[,])layer.Invoke(new long[,] { { 1, 3, 4 }, { 4, 0, 2 } }), Is.EqualTo(new long[,] { { 12, 1138, 42 }, { 42, -1, 36 } }));
    }

    [Test]
    public void Invoke_CountWithTfIdfAdapt_WeightsAreLogOnePlusDocumentsOverOnePlusDocumentFrequency()
    {
        // Documents {1,2}, {2,3}: 2 in both (idf ln(1 + 2/3)), 1 and 3 in one (ln 2); ties by larger value: vocab [-1, 2, 3, 1].
        var layer = new IntegerLookup(outputMode: "tf_idf");
        layer.Adapt(new long[,] { { 1, 2 }, { 2, 3 } });
        Assert.That(layer.GetVocabulary(), Is.EqualTo(new long[] { -1, 2, 3, 1 }));
        var a = (float)Math.Log(1 + (2.0 / 3));
        var b = (float)Math.Log(2.0);
        var mean = (a + b + b) / 3;
        Assert.That(layer.IdfWeights, Is.EqualTo(new[] { mean, a, b, b }).Within(1e-6));
        var encoded = (float[,])layer.Invoke(new long[,] { { 2, 2, 9 } });
        Assert.That(encoded, Is.EqualTo(new float[,] { { mean, 2 * a, 0, 0 } }).Within(1e-6));
    }

    [Test]
    public void Constructor_ArgumentsKerasRefuses_Refused()
    {
        Assert.That(() => new IntegerLookup(vocabularyDtype: "int32"), Throws.ArgumentException.With.Message.Contains("int64"));
        Assert.That(() => new IntegerLookup(vocabulary: new long[] { 1, 1 }), Throws.ArgumentException.With.Message.Contains("repeated"));
    }

    [Test]
    public void Call_StringInput_Refused()
    {
        Assert.That(() => new IntegerLookup(vocabulary: Vocabulary).Call(new Input(new[] { 2 }, DType.String)),
            Throws.InstanceOf<LayerInputException>().With.Message.Contains("integer"));
    }

    [Test]
    public void GetConfig_IntegerTokensAndVocabularyDtype_RoundTrips()
    {
        var layer = new IntegerLookup(maskToken: 0, vocabulary: Vocabulary, name: "il");
        var config = layer.GetConfig();
        Assert.That(config["oov_token"]!.GetValue<long>(), Is.EqualTo(-1));
        Assert.That(config["mask_token"]!.GetValue<long>(), Is.EqualTo(0));
        Assert.That(config["vocabulary_dtype"]!.GetValue<string>(), Is.EqualTo("int64"));
        Assert.That(config["vocabulary"]!.ToJsonString(), Is.EqualTo("[12,36,1138,42]"));
        var again = (IntegerLookup)LayerRegistry.Create(new LayerConfig("IntegerLookup", "il", JsonNode.Parse(config.ToJsonString())!.AsObject()));
        Assert.That(again.GetConfig().ToJsonString(), Is.EqualTo(config.ToJsonString()));
    }
}
