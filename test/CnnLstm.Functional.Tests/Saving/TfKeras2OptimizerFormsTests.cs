using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Training.Optimizers;
using KerasStyle.Training.Schedules;
using PureHDF;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// The optimizers beyond Adam, SGD and RMSprop in tf.keras 2's full-model <c>.h5</c> (issue 25), both ways. TensorFlow
/// cannot be installed here, so the expected names, orders and updates come from the tf-keras source
/// (github.com/keras-team/tf-keras, tf_keras/src/optimizers/*.py: each optimizer's <c>build</c>, which names its
/// variables <c>{Class}/{slot}/{weight}</c> and creates them weight by weight; tf_keras/src/optimizers/legacy/*.py:
/// <c>_create_slots</c>, which names them <c>{Class}/{weight}/{slot}</c> and creates all first slots, then all
/// second ones; keras-team/keras at v2.11.0 for the 2.11 optimizers).
/// </summary>
public class TfKeras2OptimizerFormsTests
{
    [SetUp]
    public void Fresh() => Backend.ClearSession();

    /// <summary>
    /// Each optimizer, its tf.keras 2.11+ slot names in build order (tf_keras/src/optimizers/{file}.py build()) and how
    /// many of them are created weight by weight (the rest each for every weight in turn: AdamW's vhat, RMSprop's).
    /// </summary>
    private static IEnumerable<TestCaseData> RoundTrips()
    {
        yield return new TestCaseData((Func<Optimizer>)(() => new AdamW(learningRate: 0.02, weightDecay: 0.1)), "AdamW", new[] { "m", "v" }, 99).SetName("RoundTrip_AdamW");
        yield return new TestCaseData((Func<Optimizer>)(() => new AdamW(learningRate: 0.02, amsgrad: true)), "AdamW", new[] { "m", "v", "vhat" }, 2).SetName("RoundTrip_AdamWAmsgrad");
        yield return new TestCaseData((Func<Optimizer>)(() => new RMSprop(learningRate: 0.01, momentum: 0.5, centered: true)), "RMSprop", new[] { "velocity", "momentum", "average_gradient" }, 1).SetName("RoundTrip_RmspropMomentumCentered");
        yield return new TestCaseData((Func<Optimizer>)(() => new Nadam(learningRate: 0.02)), "Nadam", new[] { "m", "v" }, 99).SetName("RoundTrip_Nadam");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adamax(learningRate: 0.02)), "Adamax", new[] { "m", "u" }, 99).SetName("RoundTrip_Adamax");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adagrad(learningRate: 0.05)), "Adagrad", new[] { "accumulator" }, 99).SetName("RoundTrip_Adagrad");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adadelta(learningRate: 0.5)), "Adadelta", new[] { "accumulated_grad", "accumulated_delta_var" }, 99).SetName("RoundTrip_Adadelta");
        yield return new TestCaseData((Func<Optimizer>)(() => new Ftrl(learningRate: 0.05, l1RegularizationStrength: 0.001, l2ShrinkageRegularizationStrength: 0.01)), "Ftrl", new[] { "accumulator", "linear" }, 99).SetName("RoundTrip_Ftrl");
        yield return new TestCaseData((Func<Optimizer>)(() => new Lion(learningRate: 0.005)), "Lion", new[] { "m" }, 99).SetName("RoundTrip_Lion");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adamax(learningRate: 0.02) { WeightDecay = 0.05 }), "Adamax", new[] { "m", "u" }, 99).SetName("RoundTrip_AdamaxWithWeightDecay");
        yield return new TestCaseData((Func<Optimizer>)(() => new SGD(learningRate: 0.1, momentum: 0.9) { ClipNorm = 0.1 }), "SGD", new[] { "m" }, 99).SetName("RoundTrip_SgdWithClipnorm");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adagrad(learningRate: 0.05) { GlobalClipNorm = 0.2 }), "Adagrad", new[] { "accumulator" }, 99).SetName("RoundTrip_AdagradWithGlobalClipnorm");
        yield return new TestCaseData((Func<Optimizer>)(() => new Nadam(learningRate: 0.02) { ClipValue = 0.05 }), "Nadam", new[] { "m", "v" }, 99).SetName("RoundTrip_NadamWithClipvalue");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adamax(new ExponentialDecay(0.05, 3, 0.5, staircase: true))), "Adamax", new[] { "m", "u" }, 99).SetName("RoundTrip_AdamaxWithSchedule");
    }

    [TestCaseSource(nameof(RoundTrips))]
    public void SavedInTfKeras2Form_WritesTfKeras211NamesAndClass_AndContinuesAsUninterruptedTraining(Func<Optimizer> create, string className, string[] slots, int interleaved)
    {
        var (x, y) = Data();
        using var model = Compiled(create());
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
        var path = Temp();
        try
        {
            model.Save(path, H5Format.TfKeras2);
            var optimizerConfig = JsonNode.Parse(Attribute(path, "training_config"))!["optimizer_config"]!;
            Assert.That((string?)optimizerConfig["class_name"], Is.EqualTo(className));
            var config = optimizerConfig["config"]!.AsObject();
            Assert.That(config.ContainsKey("loss_scale_factor") || config.ContainsKey("gradient_accumulation_steps"), Is.False,
                "tf.keras 2 passes every key to the constructor and refuses unknown ones");
            Assert.That((bool?)config["is_legacy_optimizer"], Is.False);
            if (model.Optimizer!.Schedule is not null)
            {
                var schedule = config["learning_rate"]!.AsObject();
                Assert.That(schedule.Select(kv => kv.Key), Is.EquivalentTo(new[] { "class_name", "config" }), "tf.keras 2's learning_rate_schedule.serialize form");
            }

            using (var file = H5File.OpenRead(path))
            {
                var names = file.Group("optimizer_weights").Attribute("weight_names").Read<string[]>();
                var weights = model.TrainableWeights;
                var expected = new[] { "iteration:0" }
                    .Concat(weights.SelectMany(w => slots.Take(interleaved).Select(s => $"{className}/{s}/{w.FullName}")))
                    .Concat(slots.Skip(interleaved).SelectMany(s => weights.Select(w => $"{className}/{s}/{w.FullName}")));
                Assert.That(names, Is.EqualTo(expected), "tf.keras 2.11+ build() order, by which it restores");
            }

            using var back = Model.Load(path);
            Assert.That(back.Optimizer!.GetType(), Is.EqualTo(model.Optimizer!.GetType()));
            Assert.That(back.Optimizer.Iterations, Is.EqualTo(8));
            back.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
            model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
            Assert.That(TinyModels.Flat(back), Is.EqualTo(TinyModels.Flat(model)).Within(1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void OptimizerClass_AdamW_IsAdamWNotAdam()
    {
        // AdamW derives from Adam here; tf.keras 2 registers it as its own class (tf_keras/src/optimizers/adamw.py).
        Assert.That(TfKeras2OptimizerWeights.OptimizerClass(new AdamW()), Is.EqualTo("AdamW"));
        Assert.That(TfKeras2OptimizerWeights.OptimizerClass(new Adam()), Is.EqualTo("Adam"));
    }

    [TestCase("loss_scale_factor")]
    [TestCase("gradient_accumulation_steps")]
    [TestCase("use_ema")]
    public void SavedInTfKeras2Form_WithAnOptionTfKeras2HasNotOrComputesOtherwise_ThrowsNamingItWithoutWriting(string option)
    {
        var optimizer = option switch
        {
            "loss_scale_factor" => new Adamax { LossScaleFactor = 128 },
            "gradient_accumulation_steps" => new Adamax { GradientAccumulationSteps = 2 },
            _ => new Adamax { UseEma = true },
        };
        using var model = Compiled(optimizer);
        var path = Temp();
        var e = Assert.Throws<NotSupportedException>(() => model.Save(path, H5Format.TfKeras2))!;
        Assert.That(e.Message, Does.Contain(option).And.Contain(".keras").And.Contain("Adamax"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void SavedInTfKeras2Form_AUsersOptimizer_ThrowsNamingTheClass()
    {
        using var model = Compiled(new HalfStep());
        var path = Temp();
        var e = Assert.Throws<NotSupportedException>(() => model.Save(path, H5Format.TfKeras2))!;
        Assert.That(e.Message, Does.Contain("HalfStep").And.Contain("tf.keras 2"));
        Assert.That(File.Exists(path), Is.False);
    }

    /// <summary>
    /// tf.keras 2.11+ Adamax (tf_keras/src/optimizers/adamax.py build: "m" then "u" per weight) and legacy Adamax
    /// (legacy/adamax.py _create_slots: every "m", then every "v"; ResourceApplyAdaMax, the same update as Keras 3's).
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void HandBuiltTfKeras2File_Adamax_LoadsItsStateAndContinuesAsKeras3Adamax(bool legacyLayout)
    {
        var config = new JsonObject { ["name"] = "Adamax", ["learning_rate"] = 0.02, ["beta_1"] = 0.9, ["beta_2"] = 0.999, ["epsilon"] = 1e-7 };
        AssertHandBuiltFileContinues(() => new Adamax(learningRate: 0.02), config, legacyLayout,
            legacyLayout ? new[] { "m", "v" } : new[] { "m", "u" }, "Adamax");
    }

    /// <summary>tf.keras 2.11+ Adadelta ("accumulated_grad", "accumulated_delta_var") and legacy ("accum_grad", "accum_var"; ResourceApplyAdadelta, the same update).</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void HandBuiltTfKeras2File_Adadelta_LoadsItsStateAndContinuesAsKeras3Adadelta(bool legacyLayout)
    {
        var config = new JsonObject { ["name"] = "Adadelta", ["learning_rate"] = 0.5, ["rho"] = 0.95, ["epsilon"] = 1e-7 };
        AssertHandBuiltFileContinues(() => new Adadelta(learningRate: 0.5), config, legacyLayout,
            legacyLayout ? new[] { "accum_grad", "accum_var" } : new[] { "accumulated_grad", "accumulated_delta_var" }, "Adadelta");
    }

    /// <summary>
    /// tf.keras 2.11+ Nadam (tf_keras/src/optimizers/nadam.py build: "m", "v" per weight; u_product is a plain
    /// tf.Variable, not saved): loaded with u_product recomputed from the step count, it continues as the uninterrupted run.
    /// </summary>
    [Test]
    public void HandBuiltTfKeras211File_Nadam_RecomputesUProductFromTheStepsAndContinuesAsUninterruptedTraining()
    {
        var config = new JsonObject { ["name"] = "Nadam", ["learning_rate"] = 0.02, ["beta_1"] = 0.9, ["beta_2"] = 0.999, ["epsilon"] = 1e-7 };
        var warnings = AssertHandBuiltFileContinues(() => new Nadam(learningRate: 0.02), config, legacyLayout: false, new[] { "m", "v" }, "Nadam");
        Assert.That(warnings, Has.One.Contains("u_product").And.Contain("8 steps"));
    }

    /// <summary>
    /// Legacy Nadam (tf_keras/src/optimizers/legacy/nadam.py: schedule_decay, written as "decay" = 0.004, in
    /// u_t = β1(1 - ½·0.96^(decay·t)), and a momentum_cache weight): another update than Keras 3's, refused when
    /// compiling, so the file loads uncompiled with a warning naming Nadam and why.
    /// </summary>
    [Test]
    public void HandBuiltLegacyTfKeras2File_Nadam_LoadsUncompiledWithAWarningNamingWhy()
    {
        var (x, y) = Data();
        using var source = Compiled(new Nadam(learningRate: 0.02));
        source.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        var trainable = source.TrainableWeights;
        var state = source.Optimizer!.ExportState(trainable);
        var group = new H5Group();
        var names = new List<string> { "Nadam/iter:0", "Nadam/momentum_cache:0" };
        PutCount(group, names[0], 4L);
        Parent(group, names[1])["momentum_cache:0"] = 0.5f;
        for (var s = 0; s < 2; s++)
        {
            for (var w = 0; w < trainable.Count; w++)
            {
                var name = $"Nadam/{Bare(trainable[w])}/{(s == 0 ? "m" : "v")}:0";
                names.Add(name);
                Put(group, name, state.Slots![w][s]);
            }
        }

        group.Attributes["weight_names"] = names.ToArray();
        var config = new JsonObject { ["name"] = "Nadam", ["learning_rate"] = 0.02, ["decay"] = 0.004, ["beta_1"] = 0.9, ["beta_2"] = 0.999, ["epsilon"] = 1e-7 };
        var path = WriteFile(source, config, group, "2.10.0");
        try
        {
            var warnings = Recording(() => Model.Load(path), out var loaded);
            using (loaded)
            {
                Assert.That(loaded.Optimizer, Is.Null);
                Assert.That(warnings, Has.Some.Contains("legacy (OptimizerV2) Nadam").And.Contain("0.96^(schedule_decay"));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Adagrad from a hand-built file (tf.keras 2.11+: "Adagrad/accumulator/{weight}"; legacy: "Adagrad/{weight}/accumulator"):
    /// one step from accumulator a and kernel w with gradient g = 2(w·x - y)x (mse on x = [1, 2], y = 0). tf.keras 2.11+
    /// (tf_keras/src/optimizers/adagrad.py) and Keras 3: w - lr g / √(a + g² + ε); legacy (ResourceApplyAdagradV2):
    /// w - lr g / (√(a + g²) + ε).
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void HandBuiltTfKeras2File_Adagrad_StepsWithTheUpdateOfTheKerasThatWroteIt(bool legacy)
    {
        const double rate = 0.1, epsilon = 0.5;
        var kernel = new[] { 0.5, 0.25 };
        var accumulator = new[] { 1.0, 2.0 };
        using var source = TinyModels.Linear(new float[,] { { 0.5f }, { 0.25f } });
        source.Compile(new Adagrad(learningRate: rate, epsilon: epsilon), "mse");
        var trainable = source.TrainableWeights;
        var weight = Bare(trainable[0]);
        var name = legacy ? $"Adagrad/{weight}/accumulator:0" : $"Adagrad/accumulator/{weight}:0";
        var group = new H5Group();
        var iterations = legacy ? "Adagrad/iter:0" : "iteration:0";
        PutCount(group, iterations, 3L);
        Put(group, name, new WeightArray(new[] { 2, 1 }, accumulator.Select(a => (float)a).ToArray()));
        group.Attributes["weight_names"] = new[] { iterations, name };
        var config = new JsonObject { ["name"] = "Adagrad", ["learning_rate"] = rate, ["initial_accumulator_value"] = 0.1, ["epsilon"] = epsilon };
        if (legacy)
        {
            config["decay"] = 0.0;
        }
        else
        {
            config["is_legacy_optimizer"] = false;
        }

        var path = WriteFile(source, config, group, legacy ? "2.10.0" : "2.15.0");
        try
        {
            using var loaded = Model.Load(path);
            Assert.That(((Adagrad)loaded.Optimizer!).Keras2Update, Is.EqualTo(legacy));
            Assert.That(loaded.Optimizer!.Iterations, Is.EqualTo(3));
            loaded.TrainOnBatch(new float[,] { { 1f, 2f } }, new float[,] { { 0f } });
            var prediction = kernel[0] + (2 * kernel[1]);
            var expected = new double[2];
            for (var i = 0; i < 2; i++)
            {
                var g = 2 * prediction * (i + 1);
                var a = accumulator[i] + (g * g);
                expected[i] = kernel[i] - (rate * g / (legacy ? Math.Sqrt(a) + epsilon : Math.Sqrt(a + epsilon)));
            }

            Assert.That(loaded.GetWeights()[0].Data.Select(v => (double)v), Is.EqualTo(expected).Within(1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void LegacyAdagrad_SavedInTfKeras2Form_WritesTheLegacyConfigAndLoadsBackAsLegacy()
    {
        var (x, y) = Data();
        using var model = Compiled(new Adagrad(learningRate: 0.05, epsilon: 0.1, keras2Update: true));
        model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        var path = Temp();
        try
        {
            model.Save(path, H5Format.TfKeras2);
            var config = JsonNode.Parse(Attribute(path, "training_config"))!["optimizer_config"]!["config"]!.AsObject();
            Assert.That(config.Select(kv => kv.Key), Is.EquivalentTo(new[] { "name", "learning_rate", "decay", "initial_accumulator_value", "epsilon" }),
                "legacy/adagrad.py get_config; without is_legacy_optimizer tf.keras 2.11-2.15 read it as the legacy optimizer");
            using var back = Model.Load(path);
            Assert.That(((Adagrad)back.Optimizer!).Keras2Update, Is.True);
            back.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            Assert.That(TinyModels.Flat(back), Is.EqualTo(TinyModels.Flat(model)).Within(1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void LegacyAdagradWithClipnorm_SavedInTfKeras2Form_Throws()
    {
        using var model = Compiled(new Adagrad(keras2Update: true) { ClipNorm = 1 });
        var path = Temp();
        var e = Assert.Throws<NotSupportedException>(() => model.Save(path, H5Format.TfKeras2))!;
        Assert.That(e.Message, Does.Contain("clipnorm").And.Contain("legacy"));
        Assert.That(File.Exists(path), Is.False);
    }

    /// <summary>
    /// tf.keras 2.11+'s clipping and weight decay compute as Keras 3's (optimizer.py _clip_gradients, _apply_weight_decay),
    /// so a 2.11+ file with them compiles with them; the legacy optimizers' are not compared and load uncompiled; EMA
    /// (the first step mixed into the average) loads uncompiled with its reason.
    /// </summary>
    [TestCase("clipnorm", 0.5, false, true)]
    [TestCase("weight_decay", 0.01, false, true)]
    [TestCase("clipnorm", 0.5, true, false)]
    [TestCase("use_ema", true, false, false)]
    public void TfKeras2File_BaseOptions_CompiledOnlyWhereTfKeras2ComputesAsKeras3(string key, object value, bool legacy, bool compiled)
    {
        var (x, y) = Data();
        using var source = Compiled(new Adamax(learningRate: 0.02));
        var config = new JsonObject { ["name"] = "Adamax", ["learning_rate"] = 0.02, [key] = value is bool flag ? JsonValue.Create(flag) : JsonValue.Create((double)value) };
        if (legacy)
        {
            config["decay"] = 0.0;
        }
        else
        {
            config["is_legacy_optimizer"] = false;
        }

        var group = new H5Group { ["iteration:0"] = 0L };
        group.Attributes["weight_names"] = new[] { "iteration:0" };
        var path = WriteFile(source, config, group, legacy ? "2.10.0" : "2.15.0");
        try
        {
            var warnings = Recording(() => Model.Load(path), out var loaded);
            using (loaded)
            {
                Assert.That(loaded.Optimizer is not null, Is.EqualTo(compiled), string.Join("\n", warnings));
                if (compiled)
                {
                    Assert.That(key == "clipnorm" ? loaded.Optimizer!.ClipNorm : loaded.Optimizer!.WeightDecay, Is.EqualTo(value));
                }
                else
                {
                    Assert.That(warnings, Has.Some.Contains(key));
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Trains a model with <paramref name="create"/>'s optimizer, writes its state under the tf.keras 2 names of
    /// <paramref name="slots"/> (2.11+ layout: iteration, then each weight's slots; legacy: Class/iter, then every first
    /// slot, then every second), loads, and checks that the state came back and training continues as the source's.
    /// </summary>
    private static List<string> AssertHandBuiltFileContinues(Func<Optimizer> create, JsonObject config, bool legacyLayout, string[] slots, string className)
    {
        var (x, y) = Data();
        using var source = Compiled(create());
        source.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
        var trainable = source.TrainableWeights;
        var state = source.Optimizer!.ExportState(trainable);
        var group = new H5Group();
        var names = new List<string>();
        if (legacyLayout)
        {
            names.Add($"{className}/iter:0");
            PutCount(group, names[^1], state.Iterations);
            for (var s = 0; s < slots.Length; s++)
            {
                for (var w = 0; w < trainable.Count; w++)
                {
                    names.Add($"{className}/{Bare(trainable[w])}/{slots[s]}:0");
                    Put(group, names[^1], state.Slots![w][s]);
                }
            }

            config["decay"] = 0.0;
        }
        else
        {
            names.Add("iteration:0");
            PutCount(group, names[^1], state.Iterations);
            for (var w = 0; w < trainable.Count; w++)
            {
                for (var s = 0; s < slots.Length; s++)
                {
                    names.Add($"{className}/{slots[s]}/{Bare(trainable[w])}:0");
                    Put(group, names[^1], state.Slots![w][s]);
                }
            }

            config["is_legacy_optimizer"] = false;
            config["jit_compile"] = true;
        }

        group.Attributes["weight_names"] = names.ToArray();
        var path = WriteFile(source, config, group, legacyLayout ? "2.10.0" : "2.15.0");
        try
        {
            var warnings = Recording(() => Model.Load(path), out var loaded);
            using (loaded)
            {
                Assert.That(loaded.Optimizer, Is.TypeOf(source.Optimizer.GetType()), string.Join("\n", warnings));
                Assert.That(loaded.Optimizer!.Iterations, Is.EqualTo(8));
                var back = loaded.Optimizer.ExportState(loaded.TrainableWeights);
                Assert.That(back.Slots!.SelectMany(s => s).SelectMany(w => w.Data), Is.EqualTo(state.Slots!.SelectMany(s => s).SelectMany(w => w.Data)));
                loaded.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
                source.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
                Assert.That(TinyModels.Flat(loaded), Is.EqualTo(TinyModels.Flat(source)).Within(1e-6));
            }

            return warnings;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A full-model file as tf.keras 2 writes it: the source's model config and weights, the given optimizer config and variables.</summary>
    private static string WriteFile(Model source, JsonObject optimizerConfig, H5Group optimizerWeights, string kerasVersion)
    {
        var path = Temp();
        var root = JsonNode.Parse(source.ToJson())!.AsObject();
        var modelConfig = TfKeras2Config.Model(root);
        var training = new JsonObject
        {
            ["loss"] = "mse",
            ["metrics"] = null,
            ["weighted_metrics"] = null,
            ["loss_weights"] = null,
            ["optimizer_config"] = new JsonObject { ["class_name"] = (string)optimizerConfig["name"]!, ["config"] = optimizerConfig },
        };
        Keras2WeightsH5.SaveFullModel(path, source.Layers, modelConfig.ToJsonString(), training.ToJsonString(), kerasVersion, () => optimizerWeights);
        return path;
    }

    /// <summary>A variable at its full name's path in the group, as h5py stores "Adamax/m/dense/kernel:0".</summary>
    private static void Put(H5Group group, string name, WeightArray value) => Parent(group, name)[name[(name.LastIndexOf('/') + 1)..]] = Keras2WeightsH5.Dataset(value);

    private static void PutCount(H5Group group, string name, long value) => Parent(group, name)[name[(name.LastIndexOf('/') + 1)..]] = value;

    private static H5Group Parent(H5Group group, string name) =>
        name.LastIndexOf('/') is var slash && slash < 0 ? group : Keras2WeightsH5.Nested(group, name[..slash]);

    /// <summary>The weight's name without tf.keras' ":0" suffix (it is appended to the whole variable name).</summary>
    private static string Bare(LayerWeight weight) => weight.FullName.EndsWith(":0", StringComparison.Ordinal) ? weight.FullName[..^2] : weight.FullName;

    private static (float[,] X, float[,] Y) Data()
    {
        var (x, labels) = TinyModels.Blobs(16);
        var y = new float[labels.Length, 1];
        for (var i = 0; i < labels.Length; i++)
        {
            y[i, 0] = labels[i];
        }

        return (x, y);
    }

    private static Model Compiled(Optimizer optimizer)
    {
        var model = TinyModels.Mlp();
        model.Compile(optimizer, "mse");
        return model;
    }

    private static List<string> Recording(Func<Model> load, out Model model)
    {
        var warnings = new List<string>();
        void Record(object? sender, string message) => warnings.Add(message);
        KerasStyle.Warnings.Raised += Record;
        try
        {
            model = load();
        }
        finally
        {
            KerasStyle.Warnings.Raised -= Record;
        }

        return warnings;
    }

    private static string Attribute(string path, string name)
    {
        using var file = H5File.OpenRead(path);
        return file.Attribute(name).Read<string>();
    }

    private static string Temp() => Path.Combine(Path.GetTempPath(), $"ks-tk2opt-{Guid.NewGuid():N}.h5");

    /// <summary>A user's optimizer, which tf.keras 2 does not have.</summary>
    private sealed class HalfStep() : Optimizer(0.5)
    {
        protected override void Update(TorchSharp.torch.Tensor variable, TorchSharp.torch.Tensor grad, TorchSharp.torch.Tensor[] state, long step) =>
            variable.sub_(grad.mul(KerasStyle.Engine.Scalars.Of(LearningRate)));
    }
}
