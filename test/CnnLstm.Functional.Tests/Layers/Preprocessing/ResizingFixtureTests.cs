using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Tests.Saving.Onnx;

namespace KerasStyle.Tests.Layers.Preprocessing;

/// <summary>
/// Resizing (bilinear, nearest, bicubic, crop and pad to the aspect ratio, antialias) and CenterCrop (cropping, and
/// resizing an image smaller than the target) against real Keras 3.16 on the torch backend
/// (tools/keras-fixtures/resizing.py, issue 24): one model per input form with one output per layer and argument form,
/// saved by Keras as .keras, with Keras' output shapes, configs, summaries and predictions on a seeded input.
/// </summary>
public class ResizingFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "Preprocessing", "KerasFixtures");

    private static readonly Lazy<JsonObject> Fixture = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "resizing.json")))!.AsObject());

    private static Array Image => FixtureJson.ToArray(Fixture.Value["inputs"]!["image"]!.AsArray());

    private static Layer[] ImageLayers(bool antialias = true)
    {
        var layers = new List<Layer>
        {
            new Resizing(3, 4, name: "rs_bilinear"),
            new Resizing(8, 10, name: "rs_bilinear_up"),
            new Resizing(3, 4, interpolation: "nearest", name: "rs_nearest"),
            new Resizing(9, 11, interpolation: "nearest", name: "rs_nearest_up"),
            new Resizing(4, 4, cropToAspectRatio: true, name: "rs_crop"),
            new Resizing(6, 3, interpolation: "nearest", cropToAspectRatio: true, name: "rs_crop_nearest"),
            new Resizing(4, 4, padToAspectRatio: true, fillValue: 0.5, name: "rs_pad"),
            new Resizing(3, 8, padToAspectRatio: true, name: "rs_pad_wide"),
        };
        if (antialias)
        {
            layers.Insert(4, new Resizing(4, 9, interpolation: "bicubic", name: "rs_bicubic"));
            layers.Add(new Resizing(3, 4, antialias: true, name: "rs_antialias"));
            layers.Add(new Resizing(2, 3, interpolation: "bicubic", antialias: true, name: "rs_antialias_bicubic"));
        }

        layers.Add(new Resizing(2, 3, interpolation: "nearest", antialias: true, name: "rs_antialias_nearest"));
        layers.Add(new CenterCrop(3, 4, name: "cc_smaller"));
        layers.Add(new CenterCrop(5, 7, name: "cc_equal"));
        layers.Add(new CenterCrop(2, 2, name: "cc_odd"));
        layers.Add(new CenterCrop(6, 9, name: "cc_larger"));
        layers.Add(new CenterCrop(3, 9, name: "cc_mixed"));
        return layers.ToArray();
    }

    /// <summary>The images model built here, as the script builds it in Keras (without the antialiased layers when asked).</summary>
    internal static Model BuildImages(bool antialias = true)
    {
        var x = new Input((5, 7, 3), name: "x");
        return new Model(new[] { x }, ImageLayers(antialias).Select(l => l.Call(x)).ToArray(), name: "images");
    }

    private static Model BuildOpen()
    {
        var x = new Input(new int?[] { null, null, 3 }, name: "x");
        var layers = new Layer[]
        {
            new Resizing(3, 4, name: "rs"),
            new Resizing(4, 4, cropToAspectRatio: true, name: "rs_crop"),
            new CenterCrop(3, 4, name: "cc"),
            new CenterCrop(6, 9, name: "cc_larger"),
        };
        return new Model(new[] { x }, layers.Select(l => l.Call(x)).ToArray(), name: "open");
    }

    private static void AssertAsKeras(Model model, string key, Array input)
    {
        var expected = Fixture.Value[key]!.AsObject();
        var names = model.Outputs.Select(o => o.Layer.Name).ToArray();
        var kerasNames = expected["layers"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        var shapes = expected["output_shapes"]!.AsArray();
        var predictions = model.Predict(new[] { input });
        for (var o = 0; o < names.Length; o++)
        {
            var k = kerasNames.IndexOf(names[o]);
            Assert.That(k, Is.GreaterThanOrEqualTo(0), names[o]);
            var kerasShape = "(" + string.Join(", ", shapes[k]!.AsArray().Select(d => d is null ? "None" : d.ToString())) + ")";
            Assert.That(model.Outputs[o].Shape.ToString(), Is.EqualTo(kerasShape), $"{names[o]} output shape");
            var want = FixtureJson.ToArray(expected["predictions"]![k]!.AsArray());
            Assert.That(TestData.Dims(predictions[o]), Is.EqualTo(TestData.Dims(want)), $"{names[o]} predicted shape");
            Assert.That(predictions[o].Cast<float>(), Is.EqualTo(want.Cast<float>()).Within(1e-5), names[o]);
        }
    }

    private static void AssertConfigsAsKeras(Model model, string key)
    {
        var expected = Fixture.Value[key]!.AsObject();
        var kerasNames = expected["layers"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        foreach (var layer in model.Outputs.Select(o => o.Layer))
        {
            var theirs = expected["configs"]![kerasNames.IndexOf(layer.Name)]!.AsObject();
            var ours = layer.GetConfig();
            Assert.That(ours.Select(kv => kv.Key), Is.EqualTo(theirs.Select(kv => kv.Key)), $"{layer.Name} config keys in Keras' order");
            foreach (var item in theirs.Where(kv => kv.Key is not "dtype"))
            {
                if (item.Value is JsonValue number && number.GetValueKind() == System.Text.Json.JsonValueKind.Number)
                {
                    // A float Keras writes as 0.0 is .NET's 0 here (the same number to Keras' reader).
                    Assert.That(double.Parse(ours[item.Key]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(double.Parse(number.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)), $"{layer.Name} config '{item.Key}'");
                    continue;
                }

                Assert.That(ours[item.Key]?.ToJsonString(), Is.EqualTo(item.Value?.ToJsonString()), $"{layer.Name} config '{item.Key}'");
            }
        }
    }

    [Test]
    public void Load_KerasImagesModel_EveryFormMatchesKerasShapesAndPredictionsWithin1e5()
    {
        using var model = Model.Load(Path.Combine(Folder, "images.keras"));
        Assert.That(model.Outputs.Select(o => o.Layer.Name), Is.EqualTo(Fixture.Value["images"]!["layers"]!.AsArray().Select(n => n!.GetValue<string>())));
        AssertAsKeras(model, "images", Image);
    }

    [Test]
    public void Load_KerasModelOfUnknownImageSizes_GivesKnownOutputSizesAndPredictsAsKeras()
    {
        using var model = Model.Load(Path.Combine(Folder, "open.keras"));
        AssertAsKeras(model, "open", Image);
    }

    [Test]
    public void BuiltHere_ImagesModel_ConfigsShapesAndPredictionsAsKeras()
    {
        using var model = BuildImages();
        AssertConfigsAsKeras(model, "images");
        AssertAsKeras(model, "images", Image);
    }

    [Test]
    public void BuiltHere_OpenModel_ConfigsShapesAndPredictionsAsKeras()
    {
        using var model = BuildOpen();
        AssertConfigsAsKeras(model, "open");
        AssertAsKeras(model, "open", Image);
    }

    [Test]
    public void Save_ImagesModel_KerasH5AndJsonRoundTripsPredictAsKeras()
    {
        using var model = BuildImages();
        var folder = Directory.CreateTempSubdirectory("ks-resize-").FullName;
        try
        {
            foreach (var file in new[] { "m.keras", "m.h5" })
            {
                model.Save(Path.Combine(folder, file));
                using var back = Model.Load(Path.Combine(folder, file));
                AssertConfigsAsKeras(back, "images");
                AssertAsKeras(back, "images", Image);
            }

            model.SaveWeights(Path.Combine(folder, "w.weights.h5"));
            using var fromJson = Model.FromJson(model.ToJson());
            fromJson.LoadWeights(Path.Combine(folder, "w.weights.h5"));
            AssertAsKeras(fromJson, "images", Image);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Save_TfKeras2Form_KeepsItsArgumentsAndRefusesKeras3OnlyOnes()
    {
        var x = new Input((5, 7, 3), name: "x");
        using var model = new Model(new[] { x }, new[]
        {
            new Resizing(3, 4, name: "rs_bilinear").Call(x), new Resizing(6, 3, "nearest", cropToAspectRatio: true, name: "rs_crop_nearest").Call(x),
            new CenterCrop(6, 9, name: "cc_larger").Call(x), new CenterCrop(3, 4, name: "cc_smaller").Call(x),
        });
        ModelFiles.CheckEveryForm(model, m => AssertAsKeras(m, "images", Image));

        var y = new Input((5, 7, 3));
        using var padded = new Model(new[] { y }, new[] { new Resizing(4, 4, padToAspectRatio: true, name: "rs_pad").Call(y) });
        var path = Path.Combine(Path.GetTempPath(), $"ks-resize-{Guid.NewGuid():N}.h5");
        try
        {
            Assert.That(() => padded.Save(path, H5Format.TfKeras2), Throws.Exception.With.Message.Contains("pad_to_aspect_ratio").And.Message.Contains("rs_pad"));

            // tf.keras 2 reads bicubic as TensorFlow's kernel, not torch's: that file would compute other numbers.
            var z = new Input((5, 7, 3));
            using var bicubic = new Model(new[] { z }, new[] { new Resizing(3, 4, "bicubic", name: "rs_bicubic").Call(z) });
            Assert.That(() => bicubic.Save(path, H5Format.TfKeras2), Throws.TypeOf<NotSupportedException>().With.Message.Contains("interpolation=\"bicubic\"").And.Message.Contains("rs_bicubic"));
            Assert.That(File.Exists(path), Is.False);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Invoke_OneImageWithABatchAxis_AsKerasUnbatchedCall()
    {
        var image = FixtureJson.ToArray(Fixture.Value["inputs"]!["image"]!.AsArray());
        var one = new float[1, 5, 7, 3];
        Array.Copy(image, one, one.Length);
        foreach (var layer in new Layer[] { new Resizing(3, 4, name: "rs"), new CenterCrop(3, 4, name: "cc"), new CenterCrop(6, 9, name: "cc_larger") })
        {
            using (layer)
            {
                var ours = layer.Invoke(one);
                var want = FixtureJson.ToArray(Fixture.Value["unbatched"]![layer.Name]!.AsArray());
                Assert.That(TestData.Dims(ours), Is.EqualTo(new[] { 1 }.Concat(TestData.Dims(want))), layer.Name);
                Assert.That(ours.Cast<float>(), Is.EqualTo(want.Cast<float>()).Within(1e-5), layer.Name);
            }
        }
    }

    [TestCase("images")]
    [TestCase("open")]
    [NonParallelizable]
    public void Summary_Keras3Style_PrintsAsKeras316ByteForByte(string name)
    {
        using var model = Model.Load(Path.Combine(Folder, name + ".keras"));
        Backend.ConsoleStyle = ConsoleStyle.Keras3;
        try
        {
            Assert.That(model.SummaryText(), Is.EqualTo(Fixture.Value[name]!["summary"]!.GetValue<string>()));
        }
        finally
        {
            Backend.ConsoleStyle = ConsoleStyle.Keras2;
        }
    }

    [Test]
    public void Export_EveryFormButBicubicAndAntialias_OnnxRuntimeMatchesPredictWithin1e5()
    {
        using var images = BuildImages(antialias: false);
        OnnxCheck.AssertMatchesPredict(images, new[] { Image }, 1e-5);
    }

    [Test]
    public void Export_PlainResizeOfUnknownSizes_OnnxRuntimeMatchesPredictAtTwoSizes()
    {
        var x = new Input(new int?[] { null, null, 3 }, name: "x");
        using var model = new Model(new[] { x }, new[] { new Resizing(3, 4).Call(x), new Resizing(5, 2, "nearest").Call(x) });
        OnnxCheck.AssertMatchesPredict(model, new[] { Image }, 1e-5);
        OnnxCheck.AssertMatchesPredict(model, OnnxCheck.RandomInputs(model, 2, 3, unknownSteps: 9), 1e-5);
    }

    [TestCase("antialias")]
    [TestCase("bicubic")]
    [TestCase("window")]
    public void Export_AntialiasBicubicOrUnknownSizeWindow_RefusedNamingTheLayer(string what)
    {
        var x = new Input(what != "window" ? new int?[] { 5, 7, 3 } : new int?[] { null, null, 3 }, name: "x");
        var layer = what == "window" ? (Layer)new CenterCrop(3, 4, name: "window") : new Resizing(3, 4, what == "bicubic" ? "bicubic" : "bilinear", antialias: what == "antialias", name: "shrink");
        using var model = new Model(new[] { x }, new[] { layer.Call(x) });
        var path = Path.Combine(Path.GetTempPath(), $"ks-resize-{Guid.NewGuid():N}.onnx");
        try
        {
            Assert.That(() => model.Export(path), Throws.TypeOf<NotSupportedException>().With.Message.Contains(what != "window" ? "Resizing 'shrink'" : "CenterCrop 'window'"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
