using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;

namespace KerasStyle.Tests.Layers.Convolution;

/// <summary>
/// The rest of Keras 3.16's convolution family (issue 24) against real Keras 3.16 (tools/keras-fixtures/conv_family.py):
/// transposed convolutions (1-3 D), depthwise convolutions (1-2 D), SeparableConv2D, Conv3D and grouped Conv1D/2D/3D,
/// one model per layer and argument set (Input > the layer). Each loads here and predicts within 1e-5 of Keras, by
/// libtorch's checked kernels and by the plain paths, has Keras' parameter count, output shape and config, and comes
/// back from every file form with the same predictions; models of these layers train as Keras trains them.
/// </summary>
public class ConvFamilyFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "convs");

    private static JsonObject Cases => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!["cases"]!.AsObject();

    private static IEnumerable<string> CaseNames() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(ConvFamilyFixtureTests).Assembly.Location)!, "Layers", "KerasFixtures", "convs", "cases.json")))!["cases"]!.AsObject().Select(kv => kv.Key);

    private static IEnumerable<string> TrainedNames() => new[] { "train2d", "train1d3d", "train1d" };

    [TearDown]
    public void TearDown() => KernelChecks.ClearDistrust();

    [TestCaseSource(nameof(CaseNames))]
    public void Load_KerasModel_PredictsWithin1e5_WithKerasParamsShapeAndConfig(string name)
    {
        var fixture = Cases[name]!;
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        AssertAsKeras(model, fixture);
        Assert.That(model.CountParams(), Is.EqualTo(fixture["params"]!.GetValue<long>()), "parameters as Keras counts them");
        Assert.That(model.Outputs[0].Shape.ToString(), Is.EqualTo(ShapeText(fixture["output_shape"]!.AsArray())));
        var layer = JsonNode.Parse(model.ToJson())!["config"]!["layers"]![1]!;
        Assert.That(layer["class_name"]!.GetValue<string>(), Is.EqualTo(fixture["layer_class"]!.GetValue<string>()));
        Assert.That(JsonNode.DeepEquals(layer["config"], fixture["layer_config"]), Is.True,
            $"the layer config Keras writes:\n{fixture["layer_config"]!.ToJsonString()}\nthe library's:\n{layer["config"]!.ToJsonString()}");
        ModelFiles.CheckEveryForm(model, back => AssertAsKeras(back, fixture));
    }

    [TestCaseSource(nameof(CaseNames))]
    public void Predict_WithLibTorchConvolutionsDistrusted_PlainPathsGiveKerasNumbers(string name)
    {
        KernelChecks.Distrust(ConvKernels.ConvInference);
        KernelChecks.Distrust(ConvKernels.TransposeInference);
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        AssertAsKeras(model, Cases[name]!);
    }

    [TestCaseSource(nameof(TrainedNames))]
    public void Fit_ThreeAdamSteps_WeightsAndPredictionsMatchKerasWithin1e4(string name) => AssertTrainsAsKeras(name);

    [TestCaseSource(nameof(TrainedNames))]
    public void Fit_WithLibTorchConvolutionsDistrusted_PlainPathsTrainAsKeras(string name)
    {
        KernelChecks.Distrust(ConvKernels.ConvTraining);
        KernelChecks.Distrust(ConvKernels.TransposeTraining);
        AssertTrainsAsKeras(name);
    }

    private static void AssertTrainsAsKeras(string name)
    {
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!["trained"]![name]!;
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        model.Fit(x, FixtureJson.ToFloat2(fixture["y"]!.AsArray()), batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        var expected = fixture["weights_after"]!.AsObject();
        var mine = model.Layers.SelectMany(l => l.Weights).ToDictionary(w => $"{w.Layer.Name}/{w.Name}");
        Assert.That(mine.Keys, Is.EquivalentTo(expected.Select(kv => kv.Key)));
        foreach (var (path, value) in expected)
        {
            Assert.That(mine[path].Get().Data, Is.EqualTo(FixtureJson.Flatten(value!).ToArray()).Within(1e-4), path);
        }

        FixtureJson.AssertClose(model.Predict<float[,]>(x), fixture["predictions_after"]!.AsArray(), "inference after training");
    }

    private static void AssertAsKeras(Model model, JsonNode fixture)
    {
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        var predicted = model.Predict(new[] { x }).SelectMany(o => o.Cast<float>()).Select(v => (double)v);
        Assert.That(predicted, Is.EqualTo(FixtureJson.Flatten(fixture["y"]!)).Within(1e-5));
    }

    private static string ShapeText(JsonArray dims) =>
        new KerasStyle.Graph.Shape(dims.Select(d => d is null ? (int?)null : d.GetValue<int>()).ToArray()).ToString();
}
