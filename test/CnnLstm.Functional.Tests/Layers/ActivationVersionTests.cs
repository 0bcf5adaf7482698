using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// Activations as Keras 3.16 defines them for models built in code (tools/keras-fixtures/numerics.py), and as Keras 2
/// defined them for models read from Keras 2 / tf.keras 2 files (issue 20: hard_sigmoid was Keras 2's everywhere);
/// the version carries through every save form.
/// </summary>
public class ActivationVersionTests
{
    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "numerics.json")))!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static IEnumerable<string> Known() => Activations.Names.Where(n => n != Activations.Keras2HardSigmoid);

    [TestCaseSource(nameof(Known))]
    public void Activation_BuiltInCode_ComputesKeras316sDefinition(string name)
    {
        var values = Fixture["activations"]!["values"]![name] ?? throw new AssertionException($"the fixture has no Keras values for '{name}'");
        var grid = FixtureJson.Flatten(Fixture["activations"]!["x"]!).Select(v => (float)v).ToArray();
        var input = new Input(shape: grid.Length);
        using var model = new Model(input, new Activation(name).Call(input));

        var y = (float[,])model.Predict(new float[1, grid.Length].Also(grid));

        var expected = FixtureJson.Flatten(values).ToArray();
        Assert.That(y.GetLength(1), Is.EqualTo(expected.Length), $"{name}: output width (glu halves the last axis)");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.That(y[0, i], Is.EqualTo(expected[i]).Within(1e-5 * Math.Max(1, Math.Abs(expected[i]))), $"{name}({grid[i]})");
        }
    }

    [TestCase("hard_sigmoid")]
    [TestCase("hard_silu")]
    [TestCase("gelu")]
    [TestCase("leaky_relu")]
    [TestCase("relu6")]
    public void Dense_BuiltInCode_PredictsAsKeras316(string activation)
    {
        var dense = Fixture["dense"]!;
        var input = new Input(shape: 3);
        var layer = new Dense(2, activation: activation);
        using var model = new Model(input, layer.Call(input));
        layer.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(dense["kernel"]!.AsArray())), new WeightArray(new[] { 2 }, FixtureJson.Flatten(dense["bias"]!).Select(v => (float)v).ToArray()) });

        FixtureJson.AssertClose((float[,])model.Predict(FixtureJson.ToFloat2(dense["x"]!.AsArray())), dense["predictions"]![activation]!.AsArray(), activation);
    }

    [Test]
    public void Lstm_HardSigmoidGates_BuiltInCode_PredictsAsKeras316()
    {
        var lstm = Fixture["lstm_hard_sigmoid"]!;
        var input = new Input(shape: (4, 3));
        var layer = new LSTM(2, recurrentActivation: "hard_sigmoid");
        using var model = new Model(input, layer.Call(input));
        var weights = lstm["weights"]!.AsArray();
        layer.SetWeights(new[]
        {
            WeightArray.FromArray(FixtureJson.ToFloat2(weights[0]!.AsArray())), WeightArray.FromArray(FixtureJson.ToFloat2(weights[1]!.AsArray())),
            new WeightArray(new[] { 8 }, FixtureJson.Flatten(weights[2]!).Select(v => (float)v).ToArray()),
        });

        FixtureJson.AssertClose((float[,])model.Predict(FixtureJson.ToFloat3(lstm["x"]!.AsArray())), lstm["predictions"]!.AsArray(), "lstm");
    }

    [TestCase(@"""keras_version"": ""2.1.6"", ""backend"": ""tensorflow""", true)]
    [TestCase(@"""keras_version"": ""2.11.0"", ""backend"": ""tensorflow""", true)]
    [TestCase(@"""keras_version"": ""3.16.0""", false)]
    [TestCase(@"""module"": ""keras""", false)]
    [TestCase(@"""backend"": ""tensorflow""", true)]
    public void FromJson_HardSigmoid_FollowsTheKerasThatWroteTheConfig(string versionKeys, bool keras2)
    {
        using var model = FromJson(DenseConfig("hard_sigmoid", versionKeys));

        var y = Predict(model, 1f);

        // At x = 1: Keras 2's clip(0.2 x + 0.5, 0, 1) = 0.7, Keras 3's relu6(x + 3) / 6 = 0.6667.
        Assert.That(y, Is.EqualTo(keras2 ? 0.7f : 4f / 6).Within(1e-6));
    }

    [Test]
    public void Keras2Model_SavedInEveryForm_StillComputesKeras2sHardSigmoid_AndSaysSo()
    {
        using var model = FromJson(DenseConfig("hard_sigmoid", @"""keras_version"": ""2.4.0"""));

        var activation = JsonNode.Parse(model.ToJson())!["config"]!["layers"]![1]!["config"]!["activation"]!;
        Assert.That(activation["registered_name"]!.GetValue<string>(), Is.EqualTo("KerasStyle>keras2_hard_sigmoid"), "the Keras 3 form names what it computes");
        using (var again = FromJson(model.ToJson()))
        {
            Assert.That(Predict(again, 1f), Is.EqualTo(0.7f).Within(1e-6));
        }

        ModelFiles.CheckEveryForm(model, loaded => Assert.That(Predict(loaded, 1f), Is.EqualTo(0.7f).Within(1e-6)));
    }

    [Test]
    public void Keras3HardSigmoid_InTheTfKeras2Form_IsRefused()
    {
        var input = new Input(shape: 1);
        using var model = new Model(input, new Dense(1, activation: "hard_sigmoid").Call(input));
        var path = Path.Combine(Path.GetTempPath(), $"ks-hs-{Guid.NewGuid():N}.h5");
        try
        {
            var error = Assert.Throws<NotSupportedException>(() => model.Save(path, H5Format.TfKeras2))!;
            Assert.That(error.Message, Does.Contain("hard_sigmoid").And.Contain("relu6"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void FromJson_ActivationGivenAsALayerObject_IsRefused()
    {
        var json = DenseConfig("hard_sigmoid", @"""keras_version"": ""2.4.0""").Replace(@"""activation"": ""hard_sigmoid""", @"""activation"": {""class_name"": ""LeakyReLU"", ""config"": {""alpha"": 0.1}}");
        var error = Assert.Throws<NotSupportedException>(() => Model.FromJson(json))!;
        Assert.That(error.Message, Does.Contain("LeakyReLU"));
    }

    /// <summary>The model of a config, with the Dense kernel 1 and bias 0.</summary>
    private static Model FromJson(string json)
    {
        var model = Model.FromJson(json);
        model.GetLayer("d").SetWeights(new[] { new WeightArray(new[] { 1, 1 }, new[] { 1f }), new WeightArray(new[] { 1 }, new[] { 0f }) });
        return model;
    }

    private static float Predict(Model model, float x) => ((float[,])model.Predict(new float[,] { { x } }))[0, 0];

    /// <summary>Input(1) > Dense(1, activation) with kernel 1 and bias 0, in the Keras 2 config form plus the given top-level keys.</summary>
    private static string DenseConfig(string activation, string versionKeys) => """
        {"class_name": "Model", "config": {"name": "m", "layers": [
          {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 1], "dtype": "float32", "sparse": false, "name": "x"}, "name": "x", "inbound_nodes": []},
          {"class_name": "Dense", "config": {"name": "d", "trainable": true, "units": 1, "activation": "ACTIVATION", "use_bias": true,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}},
            "name": "d", "inbound_nodes": [[["x", 0, 0, {}]]]}],
          "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}, VERSION_KEYS}
        """.Replace("ACTIVATION", activation, StringComparison.Ordinal).Replace("VERSION_KEYS", versionKeys, StringComparison.Ordinal);
}

internal static class ArrayFill
{
    /// <summary>Fills a one-row array with values.</summary>
    public static float[,] Also(this float[,] row, float[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            row[0, i] = values[i];
        }

        return row;
    }
}
