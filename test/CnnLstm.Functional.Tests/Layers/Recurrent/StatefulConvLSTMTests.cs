using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers.Recurrent;

/// <summary>
/// Stateful ConvLSTM1D/2D/3D and Bidirectional(ConvLSTM2D) against real Keras 3.16
/// (tools/keras-fixtures/stateful_conv_lstm.py): states carried between Predict calls and between the batches of one
/// Predict, reset by ResetStates, the files both ways, and the checks Keras makes of a stateful layer's batch.
/// </summary>
public class StatefulConvLSTMTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "Recurrent", "KerasFixtures", "stateful_convlstm");

    private static JsonObject Cases => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!["cases"]!.AsObject();

    private static IEnumerable<string> Names() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(StatefulConvLSTMTests).Assembly.Location)!, "Layers", "Recurrent", "KerasFixtures", "stateful_convlstm", "cases.json")))!["cases"]!.AsObject().Select(kv => kv.Key);

    [TestCaseSource(nameof(Names))]
    public void Load_KerasConvLstmFiles_PredictAndCarryStatesAsKeras(string name)
    {
        var fixture = Cases[name]!;
        foreach (var file in new[] { ".keras", ".h5" })
        {
            using var model = Model.Load(Path.Combine(Folder, name + file));
            AssertAsKeras(model, fixture, file);
            var layers = JsonNode.Parse(model.ToJson())!["config"]!["layers"]!.AsArray();
            var tested = layers.Single(l => l!["config"]!["name"]!.GetValue<string>() == fixture["layer_name"]!.GetValue<string>())!;
            Assert.That(JsonNode.DeepEquals(tested["config"], fixture["layer_config"]!["config"]), Is.True, $"{file}: Keras:\n{fixture["layer_config"]!["config"]!.ToJsonString()}\nlibrary:\n{tested["config"]!.ToJsonString()}");
            ModelFiles.CheckEveryForm(model, back => AssertAsKeras(back, fixture, $"{file} written back"));
        }
    }

    [Test]
    public void ConvLstm2D_StatefulBuiltInCode_CarriesStatesUntilReset()
    {
        var input = new Input(new[] { 2, 3, 3, 1 }, batchSize: 2);
        var layer = new ConvLSTM2D(2, 2, padding: "same", stateful: true);
        using var model = new Model(input, layer.Call(input));
        var x = new float[2, 2, 3, 3, 1];
        x[0, 0, 1, 1, 0] = 1f;
        x[1, 1, 2, 0, 0] = -1f;
        var first = model.Predict(x, batchSize: 2).Cast<float>().ToArray();
        var second = model.Predict(x, batchSize: 2).Cast<float>().ToArray();
        Assert.That(second, Is.Not.EqualTo(first).Within(1e-6), "the second call starts from the first call's states");
        layer.ResetState();
        Assert.That(model.Predict(x, batchSize: 2).Cast<float>().ToArray(), Is.EqualTo(first).Within(1e-6), "after ResetState the states are zeros again");
        Assert.That(layer.Stateful, Is.True);
    }

    [Test]
    public void ConvLstm_StatefulWithoutFixedBatchSize_IsRefusedNamingTheLayer()
    {
        var input = new Input(new[] { 2, 3, 3, 1 });
        var layer = new ConvLSTM2D(2, 2, stateful: true, name: "frames");
        var error = Assert.Throws<LayerInputException>(() => layer.Call(input));
        Assert.That(error!.Message, Does.Contain("frames").And.Contain("fixed batch size"));
    }

    [Test]
    public void ConvLstm_StatefulPredictWithAnotherBatchSize_IsRefusedBeforeStatesChange()
    {
        var input = new Input(new[] { 2, 3, 1 }, batchSize: 2);
        var layer = new ConvLSTM1D(2, 2, stateful: true, name: "strip");
        using var model = new Model(input, layer.Call(input));
        var x = new float[2, 2, 3, 1];
        x[0, 0, 0, 0] = 1f;
        var first = model.Predict(x, batchSize: 2).Cast<float>().ToArray();
        layer.ResetState();
        var error = Assert.Throws<LayerInputException>(() => model.Predict(new float[3, 2, 3, 1], batchSize: 3));
        Assert.That(error!.Message, Does.Contain("strip").And.Contain("batch of 2"));
        Assert.That(model.Predict(x, batchSize: 2).Cast<float>().ToArray(), Is.EqualTo(first).Within(1e-6), "the refused call left the states at zeros");
    }

    [Test]
    public void ConvLstm_States_IsRefusedNamingTheLayer()
    {
        var input = new Input(new[] { 2, 3, 1 }, batchSize: 2);
        var layer = new ConvLSTM1D(2, 2, stateful: true, name: "strip");
        using var model = new Model(input, layer.Call(input));
        var error = Assert.Throws<NotSupportedException>(() => _ = layer.States);
        Assert.That(error!.Message, Does.Contain("strip").And.Contain("returnState"));
    }

    private static void AssertAsKeras(Model model, JsonNode fixture, string what)
    {
        var xs = fixture["x"]!.AsArray().Select(x => FixtureJson.ToArray(x!.AsArray())).ToArray();
        model.ResetStates();
        AssertPredicts(model, xs[0], fixture["y1"]!, $"{what}: first call");
        if (!fixture["stateful"]!.GetValue<bool>())
        {
            AssertPredicts(model, xs[0], fixture["y1"]!, $"{what}: a second call, no state carried");
            return;
        }

        AssertPredicts(model, xs[1], fixture["y2"]!, $"{what}: second call, from the first call's states");
        model.ResetStates();
        AssertPredicts(model, xs[2], fixture["y3_after_reset"]!, $"{what}: after ResetStates");
        model.ResetStates();
        var lengths = Enumerable.Range(0, xs[0].Rank).Select(d => d == 0 ? 4 : xs[0].GetLength(d)).ToArray();
        var stacked = Array.CreateInstance(typeof(float), lengths);
        Buffer.BlockCopy(xs[0], 0, stacked, 0, xs[0].Length * sizeof(float));
        Buffer.BlockCopy(xs[1], 0, stacked, xs[0].Length * sizeof(float), xs[1].Length * sizeof(float));
        AssertPredicts(model, stacked, fixture["y_x1_x2_one_predict"]!, $"{what}: one Predict of two batches");
        model.ResetStates();
    }

    private static void AssertPredicts(Model model, Array x, JsonNode expected, string what) =>
        Assert.That(model.Predict(x, batchSize: 2).Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(expected)).Within(1e-5), what);
}
