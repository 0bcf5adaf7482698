using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Tools.KerasInterop;

namespace KerasStyle.Tests.Layers.Merging;

/// <summary>
/// The merge layers against real Keras 3.16 (tools/keras-fixtures/merges.py): a model with one output per merge layer
/// and option, and a trainable graph through merges trained 3 Adam steps (issue 13: layers took one input).
/// </summary>
public class MergeFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "Merging", "KerasFixtures");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "merges.json")))!.AsObject();

    [Test]
    public void Load_KerasMergesModel_EveryMergePredictsWithin1e5()
    {
        using var model = Model.Load(Path.Combine(Folder, "merges.keras"));
        AssertMergesAsKeras(model);
    }

    [Test]
    public void BuiltHere_MergesModel_HasKerasShapesAndPredictions_AndSurvivesEverySaveForm()
    {
        using var model = BuildMerges();
        AssertMergesAsKeras(model);
        ModelFiles.CheckEveryForm(model, AssertMergesAsKeras);
    }

    [Test]
    public void ToJson_MergeNode_RecordsOneListArgumentAsKeras()
    {
        using var model = BuildMerges();
        var layers = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray();
        var add = layers.Single(l => l!["name"]!.GetValue<string>() == "add")!;
        var args = add["inbound_nodes"]![0]!["args"]!.AsArray();
        Assert.That(args, Has.Count.EqualTo(1), "Keras records a merge call as one positional argument: the list");
        Assert.That(args[0]!.AsArray().Select(t => t!["config"]!["keras_history"]![0]!.GetValue<string>()), Is.EqualTo(new[] { "a", "b", "a" }));
        var kerasAdd = JsonNode.Parse(ReadConfig("merges.keras"))!["config"]!["layers"]!.AsArray().Single(l => l!["name"]!.GetValue<string>() == "add")!;
        Assert.That(kerasAdd["inbound_nodes"]![0]!["args"]!.AsArray()[0], Is.InstanceOf<JsonArray>());
    }

    [Test]
    public void Fit_ThroughMerges_ThreeAdamSteps_WeightsMatchKerasWithin1e4()
    {
        var fixture = Fixture;
        var inputs = fixture["inputs"]!;
        var a = FixtureJson.ToFloat3(inputs["a"]!.AsArray());
        var c = FixtureJson.ToFloat2(inputs["c"]!.AsArray());
        var y = FixtureJson.ToFloat2(inputs["y"]!.AsArray());
        var train = fixture["merges_train"]!;
        using var model = Model.Load(Path.Combine(Folder, "merges-train.keras"));
        Assert.That(model.CountParams(), Is.EqualTo(train["params"]!.GetValue<long>()));
        var before = (float[,])model.Predict(new Array[] { FixtureJson.First(a, 5), FixtureJson.First(c, 5) })[0];
        FixtureJson.AssertClose(before, train["predictions_before"]!.AsArray(), "before training");

        model.Fit(new Array[] { a, c }, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);

        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(train["iterations"]!.GetValue<long>()));
        var expected = train["weights_after"]!.AsObject();
        var compared = 0;
        foreach (var layer in model.Layers)
        {
            var values = layer.GetWeights();
            for (var w = 0; w < layer.Weights.Count; w++)
            {
                var path = layer is LSTM ? $"{layer.Name}/lstm_cell/{layer.Weights[w].Name}" : $"{layer.Name}/{layer.Weights[w].Name}";
                var keras = FixtureJson.Flatten(expected[path] ?? throw new AssertionException($"Keras has no weight '{path}'")).ToArray();
                Assert.That(values[w].Data, Is.EqualTo(keras).Within(1e-4), path);
                compared++;
            }
        }

        Assert.That(compared, Is.EqualTo(expected.Count));
    }

    /// <summary>The fixture's merges model, built here with the library's API.</summary>
    internal static Model BuildMerges() => GraphModels.Merges();

    private static void AssertMergesAsKeras(Model model)
    {
        var fixture = Fixture;
        var inputs = fixture["inputs"]!;
        var x = new Array[] { FixtureJson.First(FixtureJson.ToFloat3(inputs["a"]!.AsArray()), 5), FixtureJson.First(FixtureJson.ToFloat3(inputs["b"]!.AsArray()), 5),
            FixtureJson.First(FixtureJson.ToFloat2(inputs["c"]!.AsArray()), 5) };
        var merges = fixture["merges"]!;
        var shapes = merges["output_shapes"]!.AsArray();
        Assert.That(model.Outputs.Select(o => o.Shape.ToString()), Is.EqualTo(shapes.Select(s => new Shape(s!.AsArray().Select(d => d is null ? (int?)null : d.GetValue<int>()).ToArray()).ToString())));
        Assert.That(model.CountParams(), Is.EqualTo(0));
        var predicted = model.Predict(x);
        var expected = merges["predictions"]!.AsArray();
        for (var o = 0; o < expected.Count; o++)
        {
            var keras = FixtureJson.Flatten(expected[o]!).ToArray();
            var actual = predicted[o].Cast<float>().Select(v => (double)v).ToArray();
            Assert.That(actual, Is.EqualTo(keras).Within(1e-5), $"output {o} ({model.Outputs[o].Layer.Name})");
        }
    }

    private static string ReadConfig(string archive)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(Path.Combine(Folder, archive));
        using var reader = new StreamReader(zip.GetEntry("config.json")!.Open());
        return reader.ReadToEnd();
    }
}
