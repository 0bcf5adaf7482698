using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Tools.KerasInterop;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Models used as layers (issue 13: models could not be nested), against real Keras 3.16
/// (tools/keras-fixtures/nested.py): a functional encoder called on two inputs (shared weights) and a Sequential head
/// inside a functional model.
/// </summary>
public class NestedModelTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Models", "KerasFixtures");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "nested.json")))!.AsObject();

    [TestCase("nested.keras")]
    [TestCase("nested.h5")]
    public void Load_KerasNestedModel_PredictsWithin1e5_WithKerasLayersAndParams(string file)
    {
        using var model = Model.Load(Path.Combine(Folder, file));
        AssertAsKeras(model);
    }

    [Test]
    public void LoadWeights_KerasWeightsFile_IntoTheModelBuiltHere_PredictsAsKeras()
    {
        using var model = BuildSiamese();
        model.LoadWeights(Path.Combine(Folder, "nested.weights.h5"));
        AssertAsKeras(model);
    }

    [Test]
    public void Fit_ThroughNestedModels_ThreeAdamSteps_WeightsMatchKerasWithin1e4()
    {
        var fixture = Fixture;
        var inputs = fixture["inputs"]!;
        using var model = Model.Load(Path.Combine(Folder, "nested.keras"));
        model.Fit(new Array[] { FixtureJson.ToFloat3(inputs["a"]!.AsArray()), FixtureJson.ToFloat3(inputs["b"]!.AsArray()) }, FixtureJson.ToFloat2(inputs["y"]!.AsArray()),
            batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(fixture["iterations"]!.GetValue<long>()));
        var keras = fixture["weight_order"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        var expected = fixture["weights_after"]!.AsObject();
        var mine = model.Layers.SelectMany(l => l.Weights).ToArray();
        Assert.That(mine, Has.Length.EqualTo(keras.Length));
        for (var i = 0; i < keras.Length; i++)
        {
            Assert.That(mine[i].Get().Data, Is.EqualTo(FixtureJson.Flatten(expected[keras[i]]!).ToArray()).Within(1e-4), keras[i]);
        }
    }

    [Test]
    public void Save_NestedModel_EveryFormRoundTrips()
    {
        using var model = Model.Load(Path.Combine(Folder, "nested.keras"));
        ModelFiles.CheckEveryForm(model, AssertAsKeras);
        var folder = Directory.CreateTempSubdirectory("ks-nested-").FullName;
        try
        {
            // The Keras 2 weights layout: one group per top-level layer, listing all of a nested model's weights.
            model.SaveWeights(Path.Combine(folder, "w.h5"));
            using var fromKeras2 = BuildSiamese();
            fromKeras2.LoadWeights(Path.Combine(folder, "w.h5"));
            AssertAsKeras(fromKeras2);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Call_ModelTwice_SharesWeights_AndSummaryShowsItAsOneRow()
    {
        using var model = BuildSiamese();
        var encoder = model.GetLayer("encoder");
        Assert.That(encoder.ClassName, Is.EqualTo("Functional"));
        Assert.That(encoder.InboundNodes, Has.Count.EqualTo(2), "one node per call, one set of weights");
        Assert.That(model.CountParams(), Is.EqualTo(Fixture["params"]!.GetValue<long>()));
        var summary = model.SummaryText();
        Assert.That(summary, Does.Contain("encoder (Functional)").And.Contain("head (Sequential)"));
        Assert.That(summary, Does.Not.Contain("conv1d"), "a nested model is one row");
        Assert.That(summary, Does.Contain("Total params: 279"));
    }

    [Test]
    public void Call_ModelOnTheWrongShape_ThrowsNamingBothShapes()
    {
        using var model = BuildSiamese();
        var wrong = new Input(new[] { 5, 3 }, name: "wrong");
        var e = Assert.Throws<LayerInputException>(() => EncoderOf(model).Call(wrong))!;
        Assert.That(e.Message, Does.Contain("expects shape (None, 4, 3)").And.Contain("(None, 5, 3)"));
    }

    [Test]
    public void Save_ModelsNestedThreeDeep_RoundTripInEveryForm_WithKerasWeightPaths()
    {
        var x = new Input(shape: 3, name: "x");
        using var inner = new Model(x, new Dense(2, name: "d").Call(x), "inner");
        var y = new Input(shape: 3, name: "y");
        using var middle = new Model(y, new Dense(1, name: "e").Call(inner.Call(y)), "middle");
        var z = new Input(shape: 3, name: "z");
        using var outer = new Model(z, middle.Call(z), "outer");
        var data = new float[,] { { 1, 2, 3 }, { -1, 0.5f, 2 } };
        var expected = outer.Predict<float[,]>(data);
        var folder = Directory.CreateTempSubdirectory("ks-deep-").FullName;
        try
        {
            outer.Save(Path.Combine(folder, "m.keras"));
            outer.Save(Path.Combine(folder, "m.h5"));
            outer.SaveWeights(Path.Combine(folder, "w.weights.h5"));
            using (var file = PureHDF.H5File.OpenRead(Path.Combine(folder, "w.weights.h5")))
            {
                // As Keras' _walk_saveable: each model's layers below layers/<class path>/layers/.
                Assert.That(file.LinkExists("layers/functional/layers/functional/layers/dense/vars/0"), Is.True);
                Assert.That(file.LinkExists("layers/functional/layers/dense/vars/0"), Is.True);
            }

            foreach (var path in new[] { "m.keras", "m.h5" })
            {
                using var back = Model.Load(Path.Combine(folder, path));
                Assert.That(back.Predict<float[,]>(data), Is.EqualTo(expected), path);
                Assert.That(back.CountParams(), Is.EqualTo(outer.CountParams()));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Fit_FrozenLayerInsideANestedModel_StaysFrozen()
    {
        // The training step took every weight of a trainable top-level layer, so a frozen layer inside a nested
        // model was updated anyway (the optimizer state already left it out).
        var x = new Input(shape: 3, name: "x");
        var frozen = new Dense(2, name: "frozen") { Trainable = false };
        using var inner = new Model(x, frozen.Call(x), "inner");
        var y = new Input(shape: 3, name: "y");
        using var outer = new Model(y, new Dense(1, name: "head").Call(inner.Call(y)), "outer");
        outer.Compile("adam", "mse");
        var before = frozen.GetWeights().SelectMany(w => w.Data).ToArray();
        outer.Fit(new float[,] { { 1, 2, 3 }, { 3, 2, 1 } }, new float[,] { { 1 }, { -1 } }, batchSize: 2, epochs: 3, verbose: 0);
        Assert.That(frozen.GetWeights().SelectMany(w => w.Data), Is.EqualTo(before));
        Assert.That(outer.SummaryText(), Does.Contain("Non-trainable params: 8"));
    }

    [Test]
    public void Dispose_OuterModel_LeavesTheNestedModelUsable()
    {
        var x = new Input(new[] { 3 }, name: "x");
        using var inner = new Model(x, new Dense(2, name: "d").Call(x), "inner");
        var y = new Input(new[] { 3 }, name: "y");
        var outer = new Model(y, inner.Call(y), "outer");
        outer.Dispose();
        var result = (float[,])inner.Predict(new float[,] { { 1, 2, 3 } });
        Assert.That(result.GetLength(1), Is.EqualTo(2));
    }

    /// <summary>The fixture's model, built here.</summary>
    internal static Model BuildSiamese() => GraphModels.Siamese();

    private static Model EncoderOf(Model model) => ((KerasStyle.Models.ModelLayer)model.GetLayer("encoder")).Model;

    private static void AssertAsKeras(Model model)
    {
        var fixture = Fixture;
        var inputs = fixture["inputs"]!;
        Assert.That(model.Layers.Select(l => l.Name), Is.EqualTo(fixture["layers"]!.AsArray().Select(n => n!.GetValue<string>())));
        Assert.That(model.Layers.Select(l => l.CountParams()), Is.EqualTo(model.Layers.Select(l => fixture["layer_params"]![l.Name]!.GetValue<long>())));
        var a = FixtureJson.ToFloat3(inputs["a"]!.AsArray());
        var b = FixtureJson.ToFloat3(inputs["b"]!.AsArray());
        var y = (float[,])model.Predict(new Array[] { a, b })[0];
        FixtureJson.AssertClose(y, fixture["predictions_before"]!.AsArray(), "as Keras before training");
    }
}
