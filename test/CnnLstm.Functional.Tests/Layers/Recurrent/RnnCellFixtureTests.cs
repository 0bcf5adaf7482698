using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using TorchSharp;

namespace KerasStyle.Tests.Layers.Recurrent;

/// <summary>
/// RNN(cell), the cells and StackedRNNCells against real Keras 3.16 (tools/keras-fixtures/rnn_cells.py): Keras'
/// .keras and .h5 files load here and predict as Keras (masks, returnState, goBackwards, stacks, Bidirectional), with
/// Keras' parameter count, output shapes, config and weight paths, and come back from every file form the same; the
/// cells called eagerly on one step give Keras' output and states.
/// </summary>
public class RnnCellFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "rnn");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!.AsObject();

    private static IEnumerable<string> CaseNames() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(RnnCellFixtureTests).Assembly.Location)!, "Layers", "KerasFixtures", "rnn", "cases.json")))!["cases"]!.AsObject().Select(kv => kv.Key);

    private static IEnumerable<string> CellNames() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(RnnCellFixtureTests).Assembly.Location)!, "Layers", "KerasFixtures", "rnn", "cases.json")))!["cells"]!.AsObject().Select(kv => kv.Key);

    [TestCaseSource(nameof(CaseNames))]
    public void Load_KerasFiles_PredictAsKeras_WithKerasParamsShapesConfigAndWeightPaths(string name)
    {
        var fixture = Fixture["cases"]![name]!;
        foreach (var file in new[] { ".keras", ".h5" })
        {
            using var model = Model.Load(Path.Combine(Folder, name + file));
            AssertAsKeras(model, fixture);
            Assert.That(model.CountParams(), Is.EqualTo(fixture["params"]!.GetValue<long>()), file);
            Assert.That(model.Outputs.Select(o => o.Shape.ToString()), Is.EqualTo(fixture["output_shapes"]!.AsArray().Select(s => ShapeText(s!.AsArray()))), file);
            var layer = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == fixture["layer_name"]!.GetValue<string>())!;
            Assert.That(layer["class_name"]!.GetValue<string>(), Is.EqualTo(fixture["layer_class"]!.GetValue<string>()));
            Assert.That(JsonNode.DeepEquals(layer["config"], fixture["layer_config"]), Is.True,
                $"the layer config Keras writes:\n{fixture["layer_config"]!.ToJsonString()}\nthe library's:\n{layer["config"]!.ToJsonString()}");
            var paths = Keras3WeightsH5.Paths(model.Layers).SelectMany(p => Keras3WeightsH5.VarGroups(p.Layer)
                .SelectMany(g => g.Weights.Select((_, i) => $"layers/{p.Path}/{g.VarsPath}/{i}"))).Order(StringComparer.Ordinal);
            Assert.That(paths, Is.EqualTo(fixture["weight_paths"]!.AsArray().Select(p => p!.GetValue<string>())), "the weight paths Keras 3 writes");
            ModelFiles.CheckEveryForm(model, back => AssertAsKeras(back, fixture));
        }
    }

    [Test]
    public void BuiltInCode_StackedCells_WriteKerasConfigAndPredictWithKerasWeights()
    {
        var fixture = Fixture["cases"]!["rnn_stacked_lstm_gru_masked"]!;
        var x = new Input(shape: (5, 3), name: "x");
        var layerName = fixture["layer_name"]!.GetValue<string>();
        var cells = fixture["layer_config"]!["cell"]!["config"]!;
        var rnn = new RNN(new StackedRNNCells(new RecurrentCell[] { new LSTMCell(4, name: Name(cells["cells"]![0])), new GRUCell(3, name: Name(cells["cells"]![1])) }, name: cells["name"]!.GetValue<string>()),
            returnState: true, name: layerName);
        using var model = new Model(new[] { x }, rnn.CallMulti(new Masking(0.0, name: "masking").Call(x)));
        var config = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray().Single(l => l!["class_name"]!.GetValue<string>() == "RNN")!["config"];
        Assert.That(JsonNode.DeepEquals(config, fixture["layer_config"]), Is.True, $"Keras:\n{fixture["layer_config"]!.ToJsonString()}\nlibrary:\n{config!.ToJsonString()}");
        using var keras = Model.Load(Path.Combine(Folder, "rnn_stacked_lstm_gru_masked.keras"));
        model.SetWeights(keras.GetWeights());
        AssertAsKeras(model, fixture);
        Assert.That(rnn.OutputCount, Is.EqualTo(4), "the output, then h1, c1 and h2");
    }

    [Test]
    public void Bidirectional_OfAnRnnOfACell_BuiltInCode_PredictsAsKeras()
    {
        var fixture = Fixture["cases"]!["bidirectional_rnn_lstm_cell"]!;
        var x = new Input(shape: (5, 3), name: "x");
        using var model = new Model(x, new Bidirectional(new RNN(new LSTMCell(4), returnSequences: true)).Call(x));
        using var keras = Model.Load(Path.Combine(Folder, "bidirectional_rnn_lstm_cell.keras"));
        model.SetWeights(keras.GetWeights());
        AssertAsKeras(model, fixture);
    }

    [TestCaseSource(nameof(CellNames))]
    public void Call_CellEagerlyOnOneStep_GivesKerasOutputAndStates(string name)
    {
        var fixture = Fixture["cells"]![name]!;
        RecurrentCell cell = name switch
        {
            "lstm_cell" => new LSTMCell(3),
            "gru_cell" => new GRUCell(3),
            "gru_cell_reset_before" => new GRUCell(3, resetAfter: false),
            "simple_rnn_cell" => new SimpleRNNCell(3, activation: "relu"),
            _ => new StackedRNNCells(new RecurrentCell[] { new LSTMCell(3), new SimpleRNNCell(2) }),
        };
        using (cell)
        {
            var x = Tensor(fixture["x"]!);
            var states = fixture["states"]!.AsArray().Select(Tensor).ToArray();
            cell.Call(x, states);
            cell.SetWeights(fixture["weights"]!.AsArray().Zip(fixture["weight_shapes"]!.AsArray())
                .Select(p => new WeightArray(p.Second!.AsArray().Select(d => d!.GetValue<int>()).ToArray(), FixtureJson.Flatten(p.First!).Select(v => (float)v).ToArray())).ToArray());
            var (output, next) = cell.Call(x, states);
            Assert.That(output.data<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(fixture["output"]!)).Within(1e-5));
            Assert.That(next.SelectMany(s => s.data<float>().ToArray()).Select(v => (double)v),
                Is.EqualTo(fixture["new_states"]!.AsArray().SelectMany(s => FixtureJson.Flatten(s!))).Within(1e-5));
        }
    }

    [Test]
    public void Call_CellWithTheWrongStates_ThrowsNamingTheShapes()
    {
        using var cell = new LSTMCell(3, name: "cell");
        var e = Assert.Throws<LayerInputException>(() => cell.Call(torch.zeros(2, 4), new[] { torch.zeros(2, 3) }))!;
        Assert.That(e.Message, Does.Contain("LSTMCell 'cell'").And.Contain("(2, 3), (2, 3)").And.Contain("got (2, 3)"));
    }

    [Test]
    public void Constructor_Unrolled_IsRefused()
    {
        Assert.Throws<NotSupportedException>(() => new RNN(new LSTMCell(2), unroll: true));
    }

    [Test]
    public void Constructor_WithACellAlreadyInAnRnn_ThrowsNamingBoth()
    {
        var cell = new GRUCell(2, name: "shared_cell");
        using var first = new RNN(cell, name: "first");
        var e = Assert.Throws<ArgumentException>(() => new RNN(cell))!;
        Assert.That(e.Message, Does.Contain("GRUCell 'shared_cell'").And.Contain("RNN 'first'"));
        Assert.Throws<ArgumentException>(() => new StackedRNNCells(new[] { cell }));
    }

    [Test]
    public void Summary_ListsTheRnnWithItsCellsParameters()
    {
        var x = new Input(shape: (5, 3), name: "x");
        using var model = new Model(x, new RNN(new RecurrentCell[] { new LSTMCell(4), new GRUCell(3) }, name: "stack").Call(x));
        Assert.That(model.SummaryText(), Does.Contain("stack (RNN)").And.Contain("(None, 3)").And.Contain("209"));
    }

    private static void AssertAsKeras(Model model, JsonNode fixture)
    {
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        var predicted = model.Predict(new[] { x }).SelectMany(o => o.Cast<float>()).Select(v => (double)v);
        Assert.That(predicted, Is.EqualTo(fixture["y"]!.AsArray().SelectMany(y => FixtureJson.Flatten(y!))).Within(1e-5));
    }

    private static string Name(JsonNode? entry) => entry!["config"]!["name"]!.GetValue<string>();

    private static torch.Tensor Tensor(JsonNode? rows)
    {
        var array = rows!.AsArray();
        return torch.tensor(FixtureJson.Flatten(array).Select(v => (float)v).ToArray(), new long[] { array.Count, array[0]!.AsArray().Count });
    }

    private static string ShapeText(JsonArray dims) =>
        new KerasStyle.Graph.Shape(dims.Select(d => d is null ? (int?)null : d.GetValue<int>()).ToArray()).ToString();
}
