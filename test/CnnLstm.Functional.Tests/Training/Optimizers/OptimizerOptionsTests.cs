using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Optimizers;

/// <summary>
/// The options of every Keras optimizer (issue 25: clipnorm, clipvalue, global_clipnorm, weight_decay with
/// exclude_from_weight_decay, use_ema with ema_momentum and ema_overwrite_frequency, gradient_accumulation_steps,
/// loss_scale_factor) against Keras 3.16 (tools/keras-fixtures/optimizer_options.py): Adam and SGD read from the
/// config Keras wrote, four steps of Dense(3, tanh) > Dense(2), the optimizer variables in Keras' order, Fit with
/// finalize_variable_values, an Embedding model (gradient by rows), configs both ways; and Keras' optimizer_test.py
/// cases.
/// </summary>
public class OptimizerOptionsTests
{
    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "optimizer_options.json")))!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static IEnumerable<string> Cases() => Fixture["cases"]!.AsObject().Select(kv => kv.Key);

    private static IEnumerable<string> EmbeddingCases() => Fixture["embedding"]!["cases"]!.AsObject().Select(kv => kv.Key);

    /// <summary>The optimizer read from Keras' config, with Keras' exclude_from_weight_decay call.</summary>
    private static Optimizer Read(JsonNode keras)
    {
        var (optimizer, _, _, _) = CompileConfig.Deserialize(new JsonObject
        {
            ["optimizer"] = new JsonObject { ["class_name"] = keras["class_name"]!.GetValue<string>(), ["config"] = keras["config"]!.DeepClone() },
            ["loss"] = "mse",
        });
        if (keras["options"]!["exclude"] is JsonArray names)
        {
            optimizer.ExcludeFromWeightDecay(names: names.Select(n => n!.GetValue<string>()));
        }

        return optimizer;
    }

    [TestCaseSource(nameof(Cases))]
    public void TrainOnBatch_FourSteps_WeightsAndOptimizerVariablesAsKeras316(string name)
    {
        var keras = Fixture["cases"]![name]!;
        using var optimizer = Read(keras);
        using var model = Build();
        model.Compile(optimizer, "mse");
        var (x, y) = (FixtureJson.ToFloat2(Fixture["x"]!.AsArray()), FixtureJson.ToFloat2(Fixture["y"]!.AsArray()));

        for (var s = 0; s < 4; s++)
        {
            model.TrainOnBatch(x, y);
            OptimizerFixtureModel.AssertWeights(model.GetWeights(), keras["steps"]![s]!.AsArray(), $"{name}, step {s + 1}");
        }

        Assert.That(optimizer.Iterations, Is.EqualTo(keras["iterations_after_steps"]!.GetValue<long>()));
        var variables = keras["variables"]!.AsArray();
        var state = optimizer.ExportState(model.TrainableWeights);
        Assert.That(state.Iterations, Is.EqualTo((long)FixtureJson.Flatten(variables[0]!["value"]!).Single()), "Keras saves _iterations, every call");
        var slots = state.InKerasOrder().ToArray();
        // With a schedule Keras keeps no learning_rate variable.
        var first = state.Scheduled ? 1 : 2;
        Assert.That(slots, Has.Length.EqualTo(variables.Count - first), string.Join(", ", variables.Select(v => v!["path"]!.GetValue<string>())));
        for (var v = 0; v < slots.Length; v++)
        {
            var want = FixtureJson.Flatten(variables[v + first]!["value"]!).ToArray();
            Assert.That(slots[v].Data.Select(d => (double)d), Is.EqualTo(want).Within(1e-5), $"{name}: {variables[v + first]!["path"]}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Fit_TwoEpochs_WeightsAsKeras316AfterFinalizeVariableValues(string name)
    {
        var keras = Fixture["cases"]![name]!;
        using var optimizer = Read(keras);
        using var model = Build();
        model.Compile(optimizer, "mse");

        model.Fit(FixtureJson.ToFloat2(Fixture["x"]!.AsArray()), FixtureJson.ToFloat2(Fixture["y"]!.AsArray()), batchSize: 4, epochs: 2, verbose: 0, shuffle: false);

        OptimizerFixtureModel.AssertWeights(model.GetWeights(), keras["fit_weights"]!.AsArray(), name);
    }

    [TestCaseSource(nameof(Cases))]
    public void GetConfig_ReadFromKerasConfig_WritesKeras316Config(string name)
    {
        var keras = Fixture["cases"]![name]!;
        using var optimizer = Read(keras);
        var config = optimizer.GetConfig();
        var expected = keras["config"]!.AsObject();
        Assert.That(config.Select(kv => kv.Key), Is.EquivalentTo(expected.Select(kv => kv.Key)));
        foreach (var (key, value) in expected.Where(kv => kv.Key != "name"))
        {
            if (value is JsonValue number && number.TryGetValue<double>(out var want))
            {
                Assert.That(double.Parse(config[key]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(want), key);
            }
            else
            {
                Assert.That(config[key]?.ToJsonString(), Is.EqualTo(value?.ToJsonString()), key);
            }
        }
    }

    [TestCaseSource(nameof(EmbeddingCases))]
    public void Embedding_ThreeSteps_RowGradientClippedAsKeras316(string name)
    {
        var keras = Fixture["embedding"]!["cases"]![name]!;
        using var optimizer = Read(keras);
        var fixture = Fixture["embedding"]!;
        var ids = new Input(new[] { 4 }, dtype: DType.Int64);
        var embedding = new Embedding(6, 3);
        var dense = new Dense(1);
        using var model = new Model(ids, dense.Call(new GlobalAveragePooling1D().Call(embedding.Call(ids))));
        var w = fixture["weights"]!.AsArray();
        embedding.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(w[0]!.AsArray())) });
        dense.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToFloat2(w[1]!.AsArray())), new WeightArray(new[] { 1 }, new[] { 0f }) });
        model.Compile(optimizer, "mse");
        var x = FixtureJson.ToLong2(fixture["ids"]!.AsArray());
        var y = FixtureJson.ToFloat2(fixture["y"]!.AsArray());

        for (var s = 0; s < 3; s++)
        {
            model.TrainOnBatch(x, y);
            OptimizerFixtureModel.AssertWeights(model.GetWeights(), keras["steps"]![s]!.AsArray(), $"{name}, step {s + 1}");
        }
    }

    [Test]
    public void Save_EmaAndAccumulation_VariablesRoundTripThroughKerasFile()
    {
        using var model = Build();
        model.Compile(new Adam(0.05) { UseEma = true, EmaMomentum = 0.9, GradientAccumulationSteps = 2, ClipNorm = 0.5 }, "mse");
        model.Fit(FixtureJson.ToFloat2(Fixture["x"]!.AsArray()), FixtureJson.ToFloat2(Fixture["y"]!.AsArray()), batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        var path = Path.Combine(Path.GetTempPath(), $"ks-optopts-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            using var loaded = Model.Load(path);
            var adam = (Adam)loaded.Optimizer!;
            Assert.That((adam.UseEma, adam.EmaMomentum, adam.GradientAccumulationSteps, adam.ClipNorm), Is.EqualTo((true, 0.9, (int?)2, (double?)0.5)));
            var (saved, restored) = (model.Optimizer!.ExportState(model.TrainableWeights), adam.ExportState(loaded.TrainableWeights));
            Assert.That(restored.Iterations, Is.EqualTo(2));
            Assert.That(restored.InKerasOrder().Count(), Is.EqualTo(4 * 4));
            Assert.That(restored.InKerasOrder().Select(a => a.Data), Is.EqualTo(saved.InKerasOrder().Select(a => a.Data)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    // Keras' optimizer_test.py.
    [Test]
    public void ClipNorm_OnlyOneClippingOption_ElseArgumentException()
    {
        Assert.That(new SGD(1.0) { ClipNorm = 0.1 }.ClipNorm, Is.EqualTo(0.1));
        Assert.That(() => new SGD(1.0) { ClipNorm = 0.1, ClipValue = 0.1 }, Throws.ArgumentException.With.Message.Contains("only one of clipnorm, clipvalue and global_clipnorm"));
        Assert.That(() => new SGD(1.0) { GlobalClipNorm = 0.1, ClipNorm = 0.1 }, Throws.ArgumentException);
        Assert.That(() => new Adam() { ClipValue = 0.1, GlobalClipNorm = 0.1 }, Throws.ArgumentException);
        var config = new JsonObject { ["optimizer"] = new JsonObject { ["class_name"] = "SGD", ["config"] = new JsonObject { ["clipnorm"] = 1.0, ["clipvalue"] = 1.0 } }, ["loss"] = "mse" };
        Assert.That(() => CompileConfig.Deserialize(config), Throws.ArgumentException);
    }

    [Test]
    public void BadArguments_RefusedAsKeras()
    {
        Assert.That(() => new SGD() { GradientAccumulationSteps = 1 }, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains(">= 2"));
        Assert.That(() => new SGD() { GradientAccumulationSteps = -3 }, Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new SGD() { EmaMomentum = 1.5, UseEma = true }, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[0, 1]"));
        Assert.That(() => new SGD() { UseEma = true, EmaOverwriteFrequency = -1 }, Throws.InstanceOf<ArgumentOutOfRangeException>());
        // Keras checks the EMA arguments only with use_ema.
        Assert.That(new SGD() { EmaMomentum = 1.5 }.EmaMomentum, Is.EqualTo(1.5));
        var config = JsonNode.Parse("{\"optimizer\": {\"class_name\": \"Adam\", \"config\": {\"gradient_accumulation_steps\": 1}}, \"loss\": \"mse\"}")!.AsObject();
        Assert.That(() => CompileConfig.Deserialize(config), Throws.InstanceOf<ArgumentOutOfRangeException>());
        using var sgd = new SGD() { WeightDecay = 0.1 };
        using var v = new Parameter(ones(2));
        sgd.ApplyGradients(new[] { ((Tensor?)ones(2), v) });
        Assert.That(() => sgd.ExcludeFromWeightDecay(names: new[] { "bias" }), Throws.InvalidOperationException);
    }

    [Test]
    public void ClipNorm_ClipValue_GlobalClipNorm_OnOneGradientAsKerasTests()
    {
        double[] Step(Optimizer optimizer, float[] grad)
        {
            using var v = new Parameter(zeros(2));
            optimizer.ApplyGradients(new[] { ((Tensor?)tensor(grad), v) });
            return v.data<float>().Select(f => (double)-f).ToArray();
        }

        using var norm = new SGD(1.0) { ClipNorm = 1 };
        Assert.That(Step(norm, new[] { 100f, 100f }), Is.EqualTo(new[] { Math.Sqrt(0.5), Math.Sqrt(0.5) }).Within(1e-6));
        using var value = new SGD(1.0) { ClipValue = 1 };
        Assert.That(Step(value, new[] { 100f, 100f }), Is.EqualTo(new[] { 1.0, 1.0 }).Within(1e-6));
        using var global = new SGD(1.0) { GlobalClipNorm = 1 };
        var length = Math.Sqrt((50 * 50) + (100 * 100));
        Assert.That(Step(global, new[] { 50f, 100f }), Is.EqualTo(new[] { 50 / length, 100 / length }).Within(1e-6));
    }

    [Test]
    public void UseEma_OverwriteEveryThreeSteps_AsKerasTestEma()
    {
        using var optimizer = new SGD(1.0) { UseEma = true, EmaMomentum = 0.9, EmaOverwriteFrequency = 3 };
        using var v = new Parameter(tensor(new[] { 3f, 4f, 5f, 6f }));
        var expected = new[] { new[] { 2.0, 3, 4, 5 }, new[] { 1.0, 2, 3, 4 }, new[] { 1.71, 2.71, 3.71, 4.71 } };
        foreach (var want in expected)
        {
            optimizer.ApplyGradients(new[] { ((Tensor?)ones(4), v) });
            Assert.That(v.data<float>().Select(f => (double)f), Is.EqualTo(want).Within(1e-5));
        }
    }

    [Test]
    public void LossScaleFactor_GradientsDividedAndScaleLoss_AsKerasTestStaticLossScaling()
    {
        using var optimizer = new SGD(1.0) { LossScaleFactor = 1024 };
        using var v = new Parameter(tensor(new[] { 1f, 2f, 3f, 4f }));
        optimizer.ApplyGradients(new[] { ((Tensor?)tensor(new[] { 1f, 2f, 3f, 4f }).mul(1024f), v) });
        Assert.That(v.data<float>().ToArray(), Is.EqualTo(new[] { 0f, 0f, 0f, 0f }));
        Assert.That(optimizer.ScaleLoss(tensor(1f)).item<float>(), Is.EqualTo(1024f));
    }

    [Test]
    public void GradientAccumulation_ThreeSteps_AsKerasTestGradientAccumulation()
    {
        using var optimizer = new SGD(1.0) { GradientAccumulationSteps = 3 };
        using var v = new Parameter(tensor(new[] { 1f, 2f, 3f, 4f }));
        var expected = new[] { (1.0, 0L, 1L), (1.0, 0L, 2L), (0.0, 1L, 3L), (0.0, 1L, 4L) };
        foreach (var (first, iterations, raw) in expected)
        {
            optimizer.ApplyGradients(new[] { ((Tensor?)ones(4), v) });
            Assert.That(v.data<float>()[0], Is.EqualTo(first).Within(1e-6));
            Assert.That((optimizer.Iterations, optimizer.RawIterations), Is.EqualTo((iterations, raw)));
        }
    }

    [TestCase("adam")]
    [TestCase("sgd")]
    [TestCase("rmsprop")]
    public void GradientAccumulation_WithWeightDecay_EqualsMeanGradientStep(string name)
    {
        Optimizer Make(int? steps) => CompileConfig.Deserialize(new JsonObject
        {
            ["optimizer"] = new JsonObject { ["class_name"] = name, ["config"] = JsonNode.Parse($"{{\"weight_decay\": 0.05, \"gradient_accumulation_steps\": {steps?.ToString() ?? "null"}}}") },
            ["loss"] = "mse",
        }).Optimizer;
        using var one = Make(null);
        using var three = Make(3);
        using var v1 = new Parameter(tensor(new[] { 0.9f, 0.5f }));
        using var v3 = new Parameter(tensor(new[] { 0.9f, 0.5f }));
        var random = new Random(3);
        for (var epoch = 0; epoch < 8; epoch++)
        {
            var grads = Enumerable.Range(0, 3).Select(_ => new[] { (float)random.NextDouble(), (float)random.NextDouble() }).ToArray();
            one.ApplyGradients(new[] { ((Tensor?)tensor(new[] { grads.Average(g => g[0]), grads.Average(g => g[1]) }), v1) });
            foreach (var g in grads)
            {
                three.ApplyGradients(new[] { ((Tensor?)tensor(g), v3) });
            }
        }

        Assert.That(v3.data<float>().ToArray(), Is.EqualTo(v1.data<float>().ToArray()).Within(1e-5));
    }

    private static Model Build() => OptimizerFixtureModel.Build(Fixture["weights"]!.AsArray(), 2);
}
