using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Regularizers;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Regularizers;

/// <summary>
/// <see cref="OrthogonalRegularizer"/> against Keras 3.16 (Training/KerasFixtures/orthogonal_regularizer.json,
/// tools/keras-fixtures/orthogonal_regularizer.py; Keras' regularizers_test.py cases): eager calls in both modes,
/// <c>get</c> and the serialized form both ways, Keras' refusals, and a model with it on kernels and activity trained
/// and evaluated as Keras.
/// </summary>
public class OrthogonalRegularizerTests
{
    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "orthogonal_regularizer.json")))!.AsObject();

    [TestCase("rows(0.1)_x34", 0.1, "rows", "x34")]
    [TestCase("columns(0.1)_x34", 0.1, "columns", "x34")]
    [TestCase("rows(0.01)_x52", 0.01, "rows", "x52")]
    [TestCase("columns(2.5)_x52", 2.5, "columns", "x52")]
    public void Invoke_OnAMatrix_GivesKerasPenalty(string name, double factor, string mode, string input)
    {
        var calls = Fixture["calls"]!;
        var x = FixtureJson.ToFloat2(calls[input]!.AsArray());
        var regularizer = new OrthogonalRegularizer(factor, mode);

        Assert.That(regularizer.Invoke(x), Is.EqualTo(calls[name]!.GetValue<double>()).Within(1e-6));
    }

    [Test]
    public void Invoke_MatchesKerasTestFormula_RowsOfA4x4Matrix()
    {
        // keras/src/regularizers/regularizers_test.py test_orthogonal_regularizer.
        var random = new Random(3);
        var value = new float[4, 4];
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                value[i, j] = (float)random.NextDouble();
            }
        }

        var norms = Enumerable.Range(0, 4).Select(i => Math.Sqrt(Enumerable.Range(0, 4).Sum(j => (double)value[i, j] * value[i, j]))).ToArray();
        var sum = 0.0;
        for (var a = 0; a < 4; a++)
        {
            for (var b = 0; b < 4; b++)
            {
                sum += a == b ? 0 : Math.Abs(Enumerable.Range(0, 4).Sum(j => value[a, j] / norms[a] * value[b, j] / norms[b]));
            }
        }

        Assert.That(new OrthogonalRegularizer(0.1, "rows").Invoke(value), Is.EqualTo(0.1 * 0.5 * sum / 6.0).Within(1e-6));
    }

    [TestCase("orthogonal_regularizer")]
    [TestCase("OrthogonalRegularizer")]
    public void Get_AName_GivesKerasDefaultsAndSerializesAsKeras(string name)
    {
        var regularizer = Regularizer.Get(JsonValue.Create(name))!;

        Assert.That(regularizer, Is.TypeOf<OrthogonalRegularizer>());
        Assert.That(JsonNode.DeepEquals(regularizer.Serialize(), Fixture["get"]![name]), Is.True, regularizer.Serialize().ToJsonString());
    }

    [Test]
    public void Serialize_WritesKeras316FormAndReadsBack()
    {
        var written = new OrthogonalRegularizer(0.3, "columns").Serialize();
        Assert.That(JsonNode.DeepEquals(written, Fixture["serialize"]), Is.True, written.ToJsonString());

        var read = (OrthogonalRegularizer)Regularizer.Get(Fixture["serialize"])!;
        Assert.That((read.Factor, read.Mode), Is.EqualTo((0.3f, "columns")));
        var tfKeras2 = (OrthogonalRegularizer)Regularizer.Get(JsonNode.Parse("""{"class_name": "OrthogonalRegularizer", "config": {"factor": 0.02, "mode": "rows"}}"""))!;
        Assert.That((tfKeras2.Factor, tfKeras2.Mode), Is.EqualTo((0.02f, "rows")));
    }

    [Test]
    public void BadArguments_AreRefusedWithKerasMessages()
    {
        var refused = Fixture["refused"]!;
        Assert.That(() => new OrthogonalRegularizer(0.01, "diagonal"), Throws.ArgumentException.With.Message.StartsWith(refused["mode"]!.GetValue<string>()));
        Assert.That(() => new OrthogonalRegularizer(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("non-negative"));
        using var cube = ones(2, 2, 2);
        Assert.That(() => new OrthogonalRegularizer().Invoke(cube), Throws.ArgumentException.With.Message.StartsWith(refused["rank3"]!.GetValue<string>()));
        Assert.That(() => Regularizer.Get(JsonNode.Parse("""{"class_name": "OrthogonalRegularizer", "config": {"factor": 0.01, "mode": "diagonal"}}""")),
            Throws.TypeOf<FormatException>().With.Message.Contains("mode=diagonal"));
        Assert.That(() => Regularizer.Get(JsonNode.Parse("""{"class_name": "OrthogonalRegularizer", "config": {"factor": 0.01, "axis": 0}}""")),
            Throws.TypeOf<FormatException>().With.Message.Contains("'axis'"));
        Assert.That(() => Regularizer.Get(JsonNode.Parse("""{"class_name": "OrthogonalRegularizer", "config": {"mode": 1}}""")),
            Throws.TypeOf<FormatException>().With.Message.Contains("'mode' must be a string"));
    }

    [Test]
    public void LayerConfig_KernelAndActivity_AreReadAsKerasWroteThem()
    {
        var configs = Fixture["configs"]!;
        var dense = (Dense)KerasStyle.Saving.LayerRegistry.Create(new KerasStyle.Saving.LayerConfig("Dense", "dense", configs["dense"]!.AsObject().DeepClone().AsObject()));
        Assert.That(dense.KernelRegularizer, Is.TypeOf<OrthogonalRegularizer>());
        Assert.That(dense.ActivityRegularizer, Is.TypeOf<OrthogonalRegularizer>());
        Assert.That(JsonNode.DeepEquals(dense.GetConfig()["kernel_regularizer"], configs["dense"]!["kernel_regularizer"]), Is.True);
        Assert.That(JsonNode.DeepEquals(dense.GetConfig()["activity_regularizer"], configs["dense"]!["activity_regularizer"]), Is.True);
    }

    [Test]
    public void FitAndEvaluate_WithOrthogonalPenaltiesOnKernelsAndActivity_GiveKerasLossesAndWeights()
    {
        var input = new Input(5);
        var h = new Dense(4, "tanh", name: "dense")
        {
            KernelRegularizer = new OrthogonalRegularizer(0.2, "rows"),
            BiasRegularizer = new L2(0.1),
            ActivityRegularizer = new OrthogonalRegularizer(0.05, "columns"),
        }.Call(input);
        h = new Dense(3, name: "dense_1") { KernelRegularizer = new OrthogonalRegularizer(0.1, "columns"), ActivityRegularizer = new OrthogonalRegularizer(0.3, "rows") }.Call(h);
        using var model = new Model(input, h);
        model.SetWeights(Fixture["initial_weights"]!.AsArray().Select(w => WeightArray.FromArray(FixtureJson.ToArray(w!.AsArray()))).ToArray());
        model.Compile(new SGD(0.1), "mse");
        var x = FixtureJson.ToFloat2(Fixture["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(Fixture["y"]!.AsArray());

        var history = model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, shuffle: false);

        Assert.That(history["loss"], Is.EqualTo(Fixture["history"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).Within(1e-5), "loss per epoch, penalties included");
        Assert.That(model.Evaluate(x, y, batchSize: 4)["loss"], Is.EqualTo(Fixture["evaluate"]!.GetValue<double>()).Within(1e-5), "evaluate");
        var expected = Fixture["weights"]!.AsArray();
        var actual = model.GetWeights();
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].Data, Is.EqualTo(FixtureJson.Flatten(expected[i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i}");
        }
    }
}
