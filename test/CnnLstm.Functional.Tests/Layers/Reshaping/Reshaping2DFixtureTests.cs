using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Tests.Saving.Onnx;

namespace KerasStyle.Tests.Layers.Reshaping;

/// <summary>
/// ZeroPadding2D/3D, Cropping2D/3D, UpSampling2D (nearest, bilinear)/3D and the 3-D pooling layers against real
/// Keras 3.16 (tools/keras-fixtures/reshaping2d.py, issue 24): one model per input rank with one output per layer and
/// argument form, saved by Keras as .keras, with Keras' output shapes, configs and predictions on seeded inputs.
/// </summary>
public class Reshaping2DFixtureTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "Reshaping", "KerasFixtures");

    private static readonly Lazy<JsonObject> Fixture = new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "reshaping2d.json")))!.AsObject());

    private static Array Image => FixtureJson.ToArray(Fixture.Value["inputs"]!["image"]!.AsArray());

    private static Array Volume => FixtureJson.ToArray(Fixture.Value["inputs"]!["volume"]!.AsArray());

    /// <summary>The images model built here with this library's argument forms, as the script builds it in Keras.</summary>
    internal static Model BuildImages()
    {
        var x = new Input((4, 5, 3), name: "x");
        var layers = new Layer[]
        {
            new ZeroPadding2D(name: "zp2_default"),
            new ZeroPadding2D(2, name: "zp2_int"),
            new ZeroPadding2D((1, 2), name: "zp2_pair"),
            new ZeroPadding2D(((1, 0), (2, 3)), name: "zp2_pairs"),
            new ZeroPadding2D(((0, 0), (1, 2)), name: "zp2_mixed"),
            new Cropping2D(name: "cr2_default"),
            new Cropping2D(1, name: "cr2_int"),
            new Cropping2D((1, 2), name: "cr2_pair"),
            new Cropping2D(((1, 0), (0, 2)), name: "cr2_pairs"),
            new Cropping2D(((0, 2), (3, 1)), name: "cr2_pairs_end"),
            new UpSampling2D(name: "up2_default"),
            new UpSampling2D((2, 3), name: "up2_pair"),
            new UpSampling2D(3, interpolation: "bilinear", name: "up2_bilinear"),
            new UpSampling2D((2, 3), interpolation: "bilinear", name: "up2_bilinear_pair"),
            new UpSampling2D((1, 4), interpolation: "bilinear", name: "up2_bilinear_1x4"),
        };
        return new Model(new[] { x }, layers.Select(l => l.Call(x)).ToArray(), name: "images");
    }

    /// <summary>The volumes model built here, as the script builds it in Keras.</summary>
    internal static Model BuildVolumes()
    {
        var x = new Input(new[] { 3, 4, 5, 2 }, name: "x");
        var layers = new Layer[]
        {
            new ZeroPadding3D(name: "zp3_default"),
            new ZeroPadding3D(2, name: "zp3_int"),
            new ZeroPadding3D((1, 2, 0), name: "zp3_triple"),
            new ZeroPadding3D(((1, 0), (0, 2), (1, 1)), name: "zp3_pairs"),
            new Cropping3D(name: "cr3_default"),
            new Cropping3D(0, name: "cr3_int"),
            new Cropping3D((1, 0, 2), name: "cr3_triple"),
            new Cropping3D(((1, 0), (0, 2), (1, 1)), name: "cr3_pairs"),
            new UpSampling3D(name: "up3_default"),
            new UpSampling3D(3, name: "up3_int"),
            new UpSampling3D((1, 2, 3), name: "up3_triple"),
            new MaxPooling3D(name: "mp3_default"),
            new MaxPooling3D((2, 2, 3), strides: (1, 2, 1), padding: "same", name: "mp3_same"),
            new AveragePooling3D((2, 2, 2), name: "ap3_valid"),
            new AveragePooling3D((2, 3, 2), strides: (2, 1, 2), padding: "same", name: "ap3_same"),
            new GlobalMaxPooling3D(name: "gmp3"),
            new GlobalAveragePooling3D(name: "gap3"),
            new GlobalMaxPooling3D(keepdims: true, name: "gmp3_keep"),
            new GlobalAveragePooling3D(keepdims: true, name: "gap3_keep"),
        };
        return new Model(new[] { x }, layers.Select(l => l.Call(x)).ToArray(), name: "volumes");
    }

    /// <summary>The 2-D layers over images of unknown height and width.</summary>
    internal static Model BuildOpen()
    {
        var x = new Input(new int?[] { null, null, 3 }, name: "x");
        var layers = new Layer[]
        {
            new ZeroPadding2D((1, 2), name: "zp2"),
            new Cropping2D(1, name: "cr2"),
            new UpSampling2D(2, name: "up2"),
            new UpSampling2D(2, interpolation: "bilinear", name: "up2_bilinear"),
        };
        return new Model(new[] { x }, layers.Select(l => l.Call(x)).ToArray(), name: "open");
    }

    private static void AssertAsKeras(Model model, string key, Array input)
    {
        var expected = Fixture.Value[key]!.AsObject();
        var names = expected["layers"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        Assert.That(model.Outputs.Select(o => o.Layer.Name), Is.EqualTo(names));
        var shapes = expected["output_shapes"]!.AsArray();
        var predictions = model.Predict(new[] { input });
        for (var o = 0; o < names.Length; o++)
        {
            var kerasShape = "(" + string.Join(", ", shapes[o]!.AsArray().Select(d => d is null ? "None" : d.ToString())) + ")";
            Assert.That(model.Outputs[o].Shape.ToString(), Is.EqualTo(kerasShape), $"{names[o]} output shape");
            var want = FixtureJson.ToArray(expected["predictions"]![o]!.AsArray());
            Assert.That(Enumerable.Range(0, want.Rank).Select(want.GetLength), Is.EqualTo(Enumerable.Range(0, predictions[o].Rank).Select(predictions[o].GetLength)), $"{names[o]} predicted shape");
            Assert.That(predictions[o].Cast<float>(), Is.EqualTo(want.Cast<float>()).Within(1e-6), names[o]);
        }
    }

    private static void AssertConfigsAsKeras(Model model, string key)
    {
        var configs = Fixture.Value[key]!["configs"]!.AsArray();
        var layers = model.Outputs.Select(o => o.Layer).ToArray();
        for (var i = 0; i < layers.Length; i++)
        {
            var ours = layers[i].GetConfig();
            foreach (var item in configs[i]!.AsObject().Where(kv => kv.Key is not ("dtype" or "trainable" or "name")))
            {
                Assert.That(ours[item.Key]?.ToJsonString(), Is.EqualTo(item.Value?.ToJsonString()), $"{layers[i].Name} config '{item.Key}'");
            }
        }
    }

    [Test]
    public void Load_KerasImagesModel_EveryLayerFormMatchesKerasShapesAndPredictionsWithin1e6()
    {
        using var model = Model.Load(Path.Combine(Folder, "images.keras"));
        AssertAsKeras(model, "images", Image);
    }

    [Test]
    public void Load_KerasVolumesModel_EveryLayerFormMatchesKerasShapesAndPredictionsWithin1e6()
    {
        using var model = Model.Load(Path.Combine(Folder, "volumes.keras"));
        AssertAsKeras(model, "volumes", Volume);
    }

    [Test]
    public void Load_KerasModelOfUnknownImageSizes_KeepsNoneDimsAndPredictsAsKeras()
    {
        using var model = Model.Load(Path.Combine(Folder, "open.keras"));
        AssertAsKeras(model, "open", Image);
    }

    [Test]
    public void BuiltHere_ImagesModel_ConfigsShapesAndPredictionsAsKeras_AndSurvivesEverySaveForm()
    {
        using var model = BuildImages();
        AssertConfigsAsKeras(model, "images");
        AssertAsKeras(model, "images", Image);
        ModelFiles.CheckEveryForm(model, m => AssertAsKeras(m, "images", Image));
    }

    [Test]
    public void BuiltHere_VolumesModel_ConfigsShapesAndPredictionsAsKeras_AndSurvivesEverySaveForm()
    {
        using var model = BuildVolumes();
        AssertConfigsAsKeras(model, "volumes");
        AssertAsKeras(model, "volumes", Volume);
        ModelFiles.CheckEveryForm(model, m => AssertAsKeras(m, "volumes", Volume));
    }

    [Test]
    public void BuiltHere_OpenModel_ShapesAndPredictionsAsKeras()
    {
        using var model = BuildOpen();
        AssertConfigsAsKeras(model, "open");
        AssertAsKeras(model, "open", Image);
    }

    [Test]
    public void Export_EveryLayerForm_OnnxRuntimeMatchesPredict()
    {
        using var images = BuildImages();
        OnnxCheck.AssertMatchesPredict(images, new[] { Image }, 1e-6);
        using var volumes = BuildVolumes();
        OnnxCheck.AssertMatchesPredict(volumes, new[] { Volume }, 1e-6);
        using var open = BuildOpen();
        OnnxCheck.AssertMatchesPredict(open, new[] { Image }, 1e-6);
    }
}
