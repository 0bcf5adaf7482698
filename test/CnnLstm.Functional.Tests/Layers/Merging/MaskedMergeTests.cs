using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Tests.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Layers.Merging;

/// <summary>
/// Every merge layer on inputs from <c>Embedding(maskZero: true)</c>, against Keras 3.16 called eagerly on the same
/// values (tools/keras-fixtures/numerics.py): Multiply, Maximum and Minimum replace masked entries before merging
/// (issue 20: they merged the raw zeros), the others merge raw values; the output masks; and the ONNX export.
/// </summary>
public class MaskedMergeTests
{
    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "numerics.json")))!["merges"]!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void MergesOfMaskedInputs_ValuesAndMasksAsKeras316_AndOnnxAsPredict()
    {
        var ids = new Input(shape: 5, dtype: DType.Int64, name: "ids");
        var idsB = new Input(shape: 5, dtype: DType.Int64, name: "ids_b");
        var plain = new Input(shape: (5, 3), name: "plain");
        var embeddingA = new Embedding(5, 3, maskZero: true);
        var embeddingB = new Embedding(5, 3, maskZero: true);
        var a = embeddingA.Call(ids);
        var b = embeddingB.Call(idsB);
        var outputs = new Dictionary<string, KerasTensor>
        {
            ["multiply"] = new Multiply().Call(a, b), ["maximum"] = new Maximum().Call(a, b), ["minimum"] = new Minimum().Call(a, b),
            ["add"] = new Add().Call(a, b), ["subtract"] = new Subtract().Call(a, b), ["average"] = new Average().Call(a, b),
            ["concatenate"] = new Concatenate().Call(a, b), ["concatenate_axis1"] = new Concatenate(axis: 1).Call(a, b),
            ["dot"] = new Dot(2).Call(a, b),
            ["multiply_three"] = new Multiply().Call(a, b, a), ["maximum_three"] = new Maximum().Call(a, b, a), ["minimum_three"] = new Minimum().Call(b, a, b),
            ["multiply_unmasked"] = new Multiply().Call(a, plain), ["maximum_unmasked"] = new Maximum().Call(plain, a), ["minimum_unmasked"] = new Minimum().Call(a, plain),
        };
        using var model = new Model(new KerasTensor[] { ids, idsB, plain }, outputs.Values.ToList());
        embeddingA.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(Fixture["embedding_a"]!.AsArray())) });
        embeddingB.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(Fixture["embedding_b"]!.AsArray())) });
        var inputs = new Array[] { FixtureJson.ToLong2(Fixture["ids"]!.AsArray()), FixtureJson.ToLong2(Fixture["ids_b"]!.AsArray()), FixtureJson.ToFloat3(Fixture["plain"]!.AsArray()) };

        var predictions = model.Predict(inputs);
        using var scope = NewDisposeScope();
        var (_, _, masks) = model.RunWithMasks(inputs.Select((x, i) => i < 2 ? tensor(((long[,])x).Cast<long>().ToArray(), new long[] { 3, 5 }) : tensor(((float[,,])x).Cast<float>().ToArray(), new long[] { 3, 5, 3 })).ToArray(), false, null);

        var names = outputs.Keys.ToArray();
        for (var o = 0; o < names.Length; o++)
        {
            var keras = Fixture["outputs"]![names[o]]!;
            Assert.That(predictions[o].Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(keras["value"]!)).Within(1e-5), names[o]);
            Assert.That(masks[o] is null ? null : masks[o]!.data<bool>().ToArray(),
                Is.EqualTo(keras["mask"] is JsonArray m ? Booleans(m).ToArray() : null), $"{names[o]} mask");
        }

        OnnxCheck.AssertMatchesPredict(model, inputs);
    }

    private static IEnumerable<bool> Booleans(JsonNode node) => node is JsonArray list ? list.SelectMany(item => Booleans(item!)) : new[] { node.GetValue<bool>() };
}
