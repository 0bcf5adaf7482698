using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Tools.KerasInterop;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// Recurrent state in the graph (issue 13): an LSTM encoder's states start an LSTM decoder
/// (<c>LSTM.Call(x, initialState: new[] { h, c })</c>), against real Keras 3.16 (tools/keras-fixtures/seq2seq.py).
/// </summary>
public class LSTMInitialStateTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "seq2seq.json")))!.AsObject();

    [TestCase("seq2seq.keras")]
    [TestCase("seq2seq.h5")]
    public void Load_KerasEncoderDecoder_PredictsWithin1e5(string file)
    {
        using var model = Model.Load(Path.Combine(Folder, file));
        AssertAsKeras(model);
    }

    [Test]
    public void BuiltHere_EncoderDecoder_SavesAndLoadsInEveryForm()
    {
        using var keras = Model.Load(Path.Combine(Folder, "seq2seq.keras"));
        using var model = Build();
        model.SetWeights(keras.GetWeights());
        AssertAsKeras(model);
        ModelFiles.CheckEveryForm(model, AssertAsKeras);
        var decoder = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray().Single(l => l!["name"]!.GetValue<string>() == "decoder")!;
        var node = decoder["inbound_nodes"]![0]!;
        Assert.That(node["args"]!.AsArray(), Has.Count.EqualTo(1));
        Assert.That(node["kwargs"]!["initial_state"]!.AsArray().Select(t => t!["config"]!["keras_history"]!.ToJsonString()),
            Is.EqualTo(new[] { "[\"encoder\",0,1]", "[\"encoder\",0,2]" }), "as Keras records initial_state");
    }

    [Test]
    public void ForwardWithAutogradOn_TheTrainingKernelTakesTheStates()
    {
        // With autograd on the library's LSTM training kernel runs (LstmTrainingKernel); it must start from the given
        // state as the inference kernel does.
        using var model = Model.Load(Path.Combine(Folder, "seq2seq.keras"));
        var fixture = Fixture;
        var inputs = fixture["inputs"]!;
        var source = FixtureJson.First(FixtureJson.ToFloat3(inputs["source"]!.AsArray()), 5);
        var target = FixtureJson.First(FixtureJson.ToFloat3(inputs["target"]!.AsArray()), 5);
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var grad = TorchSharp.torch.enable_grad();
        var output = model.Run(new[] { TensorData.FromArray(source, "source"), TensorData.FromArray(target, "target") }, training: false)[0];
        Assert.That(output.requires_grad, Is.True, "the output is in the weights' graph");
        Assert.That(output.detach().contiguous().data<float>().ToArray().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(fixture["predictions_before"]!)).Within(1e-5));
    }

    [Test]
    public void Fit_EncoderDecoder_ThreeAdamSteps_WeightsMatchKerasWithin1e4()
    {
        var fixture = Fixture;
        var inputs = fixture["inputs"]!;
        using var model = Model.Load(Path.Combine(Folder, "seq2seq.keras"));
        var y = FixtureJson.ToFloat3(inputs["y"]!.AsArray());
        model.Fit(new Array[] { FixtureJson.ToFloat3(inputs["source"]!.AsArray()), FixtureJson.ToFloat3(inputs["target"]!.AsArray()) }, y,
            batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        var order = fixture["weight_order"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        var mine = model.Layers.SelectMany(l => l.Weights).ToArray();
        Assert.That(mine, Has.Length.EqualTo(order.Length));
        for (var i = 0; i < order.Length; i++)
        {
            Assert.That(mine[i].Get().Data, Is.EqualTo(FixtureJson.Flatten(fixture["weights_after"]![order[i]]!).ToArray()).Within(1e-4), order[i]);
        }
    }

    [Test]
    public void Call_WithOneState_ThrowsNamingTheExpectedShapes()
    {
        var source = new Input(shape: (5, 3), name: "source");
        var states = new LSTM(6, returnState: true, name: "encoder").CallMulti(source);
        var e = Assert.Throws<LayerInputException>(() => new LSTM(6, name: "decoder").Call(source, new[] { states[1] }))!;
        Assert.That(e.Message, Does.Contain("LSTM 'decoder'").And.Contain("two float32 tensors h and c of shape (None, 6)").And.Contain("encoder[0][1]"));
    }

    [Test]
    public void Call_WithStatesOfTheWrongSize_Throws()
    {
        var source = new Input(shape: (5, 3), name: "source");
        var states = new LSTM(4, returnState: true, name: "encoder").CallMulti(source);
        var e = Assert.Throws<LayerInputException>(() => new LSTM(6, name: "decoder").Call(source, new[] { states[1], states[2] }))!;
        Assert.That(e.Message, Does.Contain("(None, 6)").And.Contain("(None, 4)"));
    }

    [Test]
    public void Call_DenseWithInitialState_IsNotPossible_AndSummaryListsTheStates()
    {
        using var model = Build();
        var summary = model.SummaryText();
        var row = summary.Split('\n').ToList().FindIndex(l => l.StartsWith("decoder (LSTM)", StringComparison.Ordinal));
        Assert.That(summary.Split('\n')[row + 1].Trim(), Is.EqualTo("encoder[0][1]"));
        Assert.That(summary.Split('\n')[row + 2].Trim(), Is.EqualTo("encoder[0][2]"));
        Assert.That(model.CountParams(), Is.EqualTo(Fixture["params"]!.GetValue<long>()));
    }

    internal static Model Build() => GraphModels.Seq2Seq();

    private static void AssertAsKeras(Model model)
    {
        var fixture = Fixture;
        var inputs = fixture["inputs"]!;
        var source = FixtureJson.First(FixtureJson.ToFloat3(inputs["source"]!.AsArray()), 5);
        var target = FixtureJson.First(FixtureJson.ToFloat3(inputs["target"]!.AsArray()), 5);
        var predicted = model.Predict<float[,,]>(new Array[] { source, target });
        Assert.That(predicted.Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(fixture["predictions_before"]!)).Within(1e-5));
    }
}
