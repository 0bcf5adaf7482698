using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests;
using KerasStyle.Tests.Saving;
using TorchSharp;

namespace KerasStyle.Tests.Layers.Recurrent;

/// <summary>
/// ConvLSTM1D/2D/3D against real Keras 3.16 (tools/keras-fixtures/conv_lstm.py): Keras' .keras and .h5 files load and
/// predict as Keras (same/valid, strides, dilation, returnSequences/returnState, goBackwards, 1-D to 3-D) with Keras'
/// parameter count, output shapes, config and weight paths, and come back from every file form the same; eager calls
/// with a (batch, steps) mask and models with initial states give Keras' numbers; two epochs of Adam give Keras' weights.
/// </summary>
public class ConvLSTMTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "convlstm");

    private static readonly Lazy<JsonObject> Cases = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")))!.AsObject());

    private static JsonObject Fixture => Cases.Value;

    private static IEnumerable<string> CaseNames() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(typeof(ConvLSTMTests).Assembly.Location)!, "Layers", "KerasFixtures", "convlstm", "cases.json")))!["cases"]!.AsObject().Select(kv => kv.Key);

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
    public void Load_PublishedConvLstm2DModel_WrittenByKeras38_PredictsAsKeras()
    {
        // ../shared/real-models/set2: four ConvLSTM2D (recurrent_dropout 0.2), MaxPooling3D, TimeDistributed(Dropout), Dense.
        var file = Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models", "set2", "tleeds1__human-activity-recognition__convlstm_model.h5"));
        if (!File.Exists(file))
        {
            Assert.Ignore($"{file} is absent (it sits beside the repository on project machines and in CI).");
        }

        using var model = Model.Load(file);
        Assert.That(model.Layers.Count(l => l is ConvLSTM2D), Is.EqualTo(4));
        var predicted = (float[,])model.Predict(NpyFile.Read(file + ".x.npy"));
        var expected = NpyFile.Read(file + ".y.npy").Cast<float>().ToArray();
        Assert.That(predicted.Cast<float>().ToArray(), Is.EqualTo(expected).Within(1e-5));
    }

    [TestCaseSource(nameof(CaseNames))]
    public void LibraryFiles_Keras316LoadsEveryFormTheLibraryWrites_AndPredictsAsHere(string name)
    {
        // tools/keras-interop wrote each case back in every form (Saving/LibraryFiles/convlstm/), and
        // `conv_lstm.py --check-library-files` loaded them in Keras 3.16 (report.json).
        var folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "LibraryFiles", "convlstm");
        var checks = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "report.json")))!["checks"]!.AsArray().Where(c => c!["model"]!.GetValue<string>() == name).ToList();
        Assert.That(checks, Has.Count.EqualTo(4), ".keras, full-model .h5 in both forms, ToJson");
        foreach (var check in checks)
        {
            Assert.That(check!["loaded"]!.GetValue<bool>(), Is.True, check.ToJsonString());
            Assert.That(check["max_difference"]!.GetValue<double>(), Is.LessThanOrEqualTo(1e-5), check.ToJsonString());
        }

        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        Assert.That(JsonNode.DeepEquals(JsonNode.Parse(model.ToJson()), JsonNode.Parse(File.ReadAllText(Path.Combine(folder, $"{name}.json")))), Is.True,
            "rerun tools/keras-interop and conv_lstm.py --check-library-files with real Keras and commit their output");
    }

    [TestCaseSource(nameof(CaseNames))]
    public void Summary_Keras3Style_IsKeras316sTextByteForByte(string name)
    {
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        var style = Backend.ConsoleStyle;
        Backend.ConsoleStyle = ConsoleStyle.Keras3;
        try
        {
            Assert.That(model.SummaryText(), Is.EqualTo(Fixture["cases"]![name]!["summary"]!.GetValue<string>()));
        }
        finally
        {
            Backend.ConsoleStyle = style;
        }
    }

    [Test]
    public void DefaultName_IsKeras2sUnderKeras2NamesAndKeras3sUnderKeras3Names()
    {
        var style = Backend.ConsoleStyle;
        try
        {
            Backend.ConsoleStyle = ConsoleStyle.Keras2;
            using var keras2 = new ConvLSTM2D(2, 3);
            Assert.That(keras2.Name, Does.Match("^conv_lst_m2d_[0-9]+$"), "tf.keras 2's to_snake_case counts digits as lower case");
            Backend.ConsoleStyle = ConsoleStyle.Keras3;
            using var keras3 = new ConvLSTM3D(2, 3);
            Assert.That(keras3.Name, Does.Match("^conv_lstm3d(_[0-9]+)?$"), "Keras 3's does not");
        }
        finally
        {
            Backend.ConsoleStyle = style;
        }
    }

    [Test]
    public void Invoke_WithAStepsMask_KeepsStatesOverMaskedStepsAsKeras()
    {
        var fixture = Fixture["eager"]!["mask_2d"]!;
        using var layer = new ConvLSTM2D(2, 3, padding: "same", returnSequences: true, returnState: true, name: "masked");
        var x = ToTensor(fixture["x"]!);
        var mask = torch.tensor(fixture["mask"]!.AsArray().SelectMany(r => r!.AsArray().Select(v => v!.GetValue<bool>())).ToArray(), new long[] { 3, 4 });
        SetWeights(layer, x, fixture, () => layer.InvokeMulti(new[] { x }, masks: new[] { mask }));
        var outputs = layer.InvokeMulti(new[] { x }, masks: new[] { mask });
        Assert.That(outputs.SelectMany(o => o.data<float>().ToArray()).Select(v => (double)v),
            Is.EqualTo(fixture["y"]!.AsArray().SelectMany(y => FixtureJson.Flatten(y!))).Within(1e-5));
    }

    [Test]
    public void Invoke_WithZeroOutputForMask_OutputsZerosAtMaskedStepsAsKeras()
    {
        var fixture = Fixture["eager"]!["mask_2d_zero_output"]!;
        using var layer = new ConvLSTM2D(2, 3, padding: "same", returnSequences: true, name: "zeroed", zeroOutputForMask: true);
        var x = ToTensor(fixture["x"]!);
        var mask = torch.tensor(fixture["mask"]!.AsArray().SelectMany(r => r!.AsArray().Select(v => v!.GetValue<bool>())).ToArray(), new long[] { 3, 4 });
        SetWeights(layer, x, fixture, () => layer.Invoke(x, mask: mask));
        using var output = layer.Invoke(x, mask: mask);
        Assert.That(output.data<float>().Select(v => (double)v), Is.EqualTo(fixture["y"]!.AsArray().SelectMany(y => FixtureJson.Flatten(y!))).Within(1e-5));
        Assert.That(JsonNode.Parse(layer.GetConfig().ToJsonString())!["zero_output_for_mask"]!.GetValue<bool>(), Is.True);
    }

    [TestCase("initial_state_1d")]
    [TestCase("initial_state_2d")]
    [TestCase("initial_state_2d_valid")]
    public void Call_WithInitialStates_PredictsAsKeras(string name)
    {
        var fixture = Fixture["eager"]![name]!;
        var x = ToTensor(fixture["x"]!);
        var states = fixture["states"]!.AsArray().Select(s => ToTensor(s!)).ToArray();
        ConvLSTM layer = name switch
        {
            "initial_state_1d" => new ConvLSTM1D(3, 3, padding: "same", returnState: true),
            "initial_state_2d" => new ConvLSTM2D(4, 3, padding: "same", returnSequences: true),
            _ => new ConvLSTM2D(2, 3, returnState: true),
        };
        var input = new Input(x.shape.Skip(1).Select(d => (int)d).ToArray(), name: "x");
        var stateInputs = states.Select((s, i) => new Input(s.shape.Skip(1).Select(d => (int)d).ToArray(), name: $"s{i}")).ToArray();
        using var model = new Model(new[] { input }.Concat(stateInputs).ToArray(), layer.CallMulti(input, stateInputs).ToArray());
        layer.SetWeights(Weights(fixture));
        var arrays = new[] { fixture["x"]! }.Concat(fixture["states"]!.AsArray()).Select(a => FixtureJson.ToArray(a!.AsArray())).ToArray();
        var predicted = model.Predict(arrays);
        Assert.That(predicted.SelectMany(o => o.Cast<float>()).Select(v => (double)v), Is.EqualTo(fixture["y"]!.AsArray().SelectMany(y => FixtureJson.Flatten(y!))).Within(1e-5));
    }

    [Test]
    public void Call_WithInitialStatesOfTheWrongShape_ThrowsNamingTheShapes()
    {
        var x = new Input(new[] { 3, 5, 5, 2 }, name: "x");
        var wrong = new Input((5, 5, 3), name: "h");
        var layer = new ConvLSTM2D(4, 3, padding: "same", name: "conv");
        var e = Assert.Throws<LayerInputException>(() => layer.Call(x, new[] { wrong, wrong }))!;
        Assert.That(e.Message, Does.Contain("ConvLSTM2D 'conv'").And.Contain("(None, 5, 5, 4)").And.Contain("(None, 5, 5, 3)"));
    }

    [Test]
    public void Fit_TwoEpochsOfAdam_GivesKerasWeights()
    {
        var fixture = Fixture["training"]!;
        using var model = Model.Load(Path.Combine(Folder, "training_start.keras"));
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        var y = FixtureJson.ToArray(fixture["y"]!.AsArray());
        var history = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
        Assert.That(history["loss"], Is.EqualTo(fixture["losses"]!.AsArray().Select(v => v!.GetValue<double>())).Within(1e-4));
        var expected = fixture["weights_after"]!.AsArray().SelectMany(w => FixtureJson.Flatten(w!));
        Assert.That(model.GetWeights().SelectMany(w => w.Data).Select(v => (double)v), Is.EqualTo(expected).Within(1e-4));
    }

    [Test]
    public void KerasCorrectnessTest_ConstantWeights_GiveKerasExpectedOutput()
    {
        // keras/src/layers/rnn/conv_lstm2d_test.py test_correctness: kernel 0.01, recurrent kernel 0.02, bias 0.03
        // (unit_forget_bias adds 1 to the forget block... Keras' initializer replaces it: the bias is all 0.03 plus the ones).
        using var layer = new ConvLSTM2D(2, 3);
        var x = torch.arange(480, dtype: torch.float32).reshape(2, 3, 4, 4, 5).div(100f);
        layer.Invoke(x).Dispose();
        layer.SetWeights(new[]
        {
            new WeightArray(new[] { 3, 3, 5, 8 }, Enumerable.Repeat(0.01f, 3 * 3 * 5 * 8).ToArray()),
            new WeightArray(new[] { 3, 3, 2, 8 }, Enumerable.Repeat(0.02f, 3 * 3 * 2 * 8).ToArray()),
            new WeightArray(new[] { 8 }, new[] { 0.03f, 0.03f, 1f, 1f, 0.03f, 0.03f, 0.03f, 0.03f }),
        });
        using var output = layer.Invoke(x);
        var expected = new[] { 0.48694518, 0.48694518, 0.50237733, 0.50237733, 0.5461202, 0.5461202, 0.5598283, 0.5598283, 0.8661607, 0.8661607, 0.86909103, 0.86909103, 0.8774414, 0.8774414, 0.8800861, 0.8800861 };
        Assert.That(output.data<float>().Select(v => (double)v), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void ChannelsFirst_PredictsTheChannelsLastNumbersTurned()
    {
        var rng = new Random(3);
        var data = Enumerable.Range(0, 2 * 3 * 5 * 4 * 2).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using var last = torch.tensor(data, new long[] { 2, 3, 5, 4, 2 });
        using var first = last.permute(0, 1, 4, 2, 3).contiguous();
        using var channelsLast = new ConvLSTM2D(3, 3, padding: "same", returnSequences: true, returnState: true);
        using var channelsFirst = new ConvLSTM2D(3, 3, padding: "same", dataFormat: "channels_first", returnSequences: true, returnState: true);
        channelsLast.InvokeMulti(new[] { last });
        channelsFirst.InvokeMulti(new[] { first });
        channelsFirst.SetWeights(channelsLast.GetWeights());
        var a = channelsLast.InvokeMulti(new[] { last });
        var b = channelsFirst.InvokeMulti(new[] { first });
        Assert.That(b[0].shape, Is.EqualTo(new long[] { 2, 3, 3, 5, 4 }));
        Assert.That(b[0].permute(0, 1, 3, 4, 2).data<float>().ToArray(), Is.EqualTo(a[0].data<float>().ToArray()).Within(1e-6));
        Assert.That(b[1].permute(0, 2, 3, 1).data<float>().ToArray(), Is.EqualTo(a[1].data<float>().ToArray()).Within(1e-6));
    }

    [Test]
    public void Constructor_BadArguments_AreRefusedBeforeAnythingIsMade()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new ConvLSTM2D(2, 3, strides: 2, dilationRate: 2))!.Message, Does.Contain("dilation_rate"));
        Assert.Throws<ArgumentException>(() => new ConvLSTM1D(2, 3, dataFormat: "channels_middle"));
        Assert.Throws<ArgumentException>(() => new ConvLSTM3D(2, 3, padding: "causal"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvLSTM2D(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvLSTM2D(2, 3, recurrentDropout: 1));
    }

    [Test]
    public void Call_OnAnUnknownSpatialSizeOrTooSmallInput_ThrowsNamingTheShape()
    {
        var open = new Input(new int?[] { 3, null, 4, 2 }, name: "open");
        Assert.That(Assert.Throws<LayerInputException>(() => new ConvLSTM2D(2, 3, name: "c1").Call(open))!.Message, Does.Contain("(None, 3, None, 4, 2)"));
        var small = new Input(new[] { 3, 2, 4, 2 }, name: "small");
        Assert.That(Assert.Throws<LayerInputException>(() => new ConvLSTM2D(2, 3, name: "c2").Call(small))!.Message, Does.Contain("(None, 3, 2, 4, 2)"));
        var flat = new Input((3, 4), name: "flat");
        Assert.That(Assert.Throws<LayerInputException>(() => new ConvLSTM2D(2, 3, name: "c3").Call(flat))!.Message, Does.Contain("ConvLSTM2D 'c3'"));
    }

    [Test]
    public void Load_StatefulConfigWithoutFixedBatchSize_IsRefusedNamingTheLayer()
    {
        using var model = Model.Load(Path.Combine(Folder, "conv_lstm2d_same_state.keras"));
        var config = JsonNode.Parse(model.ToJson())!;
        config["config"]!["layers"]!.AsArray().Single(l => l!["class_name"]!.GetValue<string>() == "ConvLSTM2D")!["config"]!["stateful"] = true;
        var e = Assert.Catch(() => Model.FromJson(config.ToJsonString()).Dispose());
        Assert.That(e!.Message, Does.Contain("stateful").And.Contain("conv_lstm2d"));
    }

    [Test]
    public void Export_ToOnnx_IsRefusedNamingTheLayer()
    {
        using var model = Model.Load(Path.Combine(Folder, "conv_lstm1d_same.keras"));
        var path = Path.Combine(Path.GetTempPath(), $"convlstm-{Guid.NewGuid():N}.onnx");
        var e = Assert.Throws<NotSupportedException>(() => model.Export(path))!;
        Assert.That(e.Message, Does.Contain("ConvLSTM1D 'conv_lstm1d'"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void Fit_WithDropoutAndRecurrentDropout_TrainsAndPredictsWithoutMasks()
    {
        using var keras = Model.Load(Path.Combine(Folder, "conv_lstm2d_dropout.keras"));
        var fixture = Fixture["cases"]!["conv_lstm2d_dropout"]!;
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        keras.Compile("adam", "mse");
        var before = keras.GetWeights().SelectMany(w => w.Data).ToArray();
        keras.Fit(x, keras.Predict(new[] { x })[0], batchSize: 3, epochs: 1, verbose: 0);
        Assert.That(keras.GetWeights().SelectMany(w => w.Data).ToArray(), Is.Not.EqualTo(before));
    }

    private static void SetWeights(Layer layer, torch.Tensor x, JsonNode fixture, Action build)
    {
        build();
        layer.SetWeights(Weights(fixture));
    }

    private static WeightArray[] Weights(JsonNode fixture) => fixture["weights"]!.AsArray().Zip(fixture["weight_shapes"]!.AsArray())
        .Select(p => new WeightArray(p.Second!.AsArray().Select(d => d!.GetValue<int>()).ToArray(), FixtureJson.Flatten(p.First!).Select(v => (float)v).ToArray())).ToArray();

    private static void AssertAsKeras(Model model, JsonNode fixture)
    {
        var x = FixtureJson.ToArray(fixture["x"]!.AsArray());
        var predicted = model.Predict(new[] { x }).SelectMany(o => o.Cast<float>()).Select(v => (double)v);
        Assert.That(predicted, Is.EqualTo(fixture["y"]!.AsArray().SelectMany(y => FixtureJson.Flatten(y!))).Within(1e-5));
    }

    private static torch.Tensor ToTensor(JsonNode node)
    {
        var shape = new List<long>();
        for (var n = node; n is JsonArray a; n = a[0])
        {
            shape.Add(a.Count);
        }

        return torch.tensor(FixtureJson.Flatten(node).Select(v => (float)v).ToArray(), shape.ToArray());
    }

    private static string ShapeText(JsonArray dims) =>
        new KerasStyle.Graph.Shape(dims.Select(d => d is null ? (int?)null : d.GetValue<int>()).ToArray()).ToString();
}
