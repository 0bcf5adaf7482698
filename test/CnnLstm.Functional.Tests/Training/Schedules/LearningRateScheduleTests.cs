using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Optimizers;
using KerasStyle.Training.Schedules;
using Parameter = TorchSharp.Modules.Parameter;
using Adam = KerasStyle.Training.Optimizers.Adam;
using SGD = KerasStyle.Training.Optimizers.SGD;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training.Schedules;

/// <summary>
/// The learning-rate schedules against Keras 3.16 (KerasFixtures/schedules.json and schedules.keras, written by
/// tools/keras-fixtures/schedules.py): values at steps 0..20, configs both ways, Adam and SGD driven by one, a saved
/// model, and the learning-rate callbacks on an optimizer built on a schedule.
/// </summary>
public class LearningRateScheduleTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures");

    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "schedules.json")))!.AsObject();

    private const string NotSettable = "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` constructor argument, hence its learning rate is not settable. If you need the learning rate to be settable, you should instantiate the optimizer with a float `learning_rate` argument.";

    private static IEnumerable<string> Cases() => Fixture["schedules"]!.AsObject().Select(kv => kv.Key);

    private static double[] Doubles(JsonNode node) => node.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    [TestCaseSource(nameof(Cases))]
    public void Deserialize_KerasSerializedSchedule_GivesKerasValuesAtSteps0To20AndWritesKerasConfigBack(string name)
    {
        var keras = Fixture["schedules"]![name]!;
        var schedule = LearningRateSchedule.Deserialize(keras["serialized"]!);

        var values = Fixture["steps"]!.AsArray().Select(s => schedule.Call(s!.GetValue<long>())).ToArray();

        Assert.That(values, Is.EqualTo(Doubles(keras["values"]!)).Within(1e-7));
        Assert.That(JsonNode.DeepEquals(schedule.GetConfig(), keras["config"]), Is.True, schedule.GetConfig().ToJsonString());
        Assert.That(JsonNode.DeepEquals(schedule.Serialize(), keras["serialized"]), Is.True, schedule.Serialize().ToJsonString());
    }

    [Test]
    public void Constructors_WithKerasArguments_GiveKerasValues()
    {
        var built = new Dictionary<string, LearningRateSchedule>
        {
            ["exponential_staircase"] = new ExponentialDecay(0.1, 3, 0.96, staircase: true),
            ["piecewise"] = new PiecewiseConstantDecay(new double[] { 2, 5 }, new[] { 1.0, 0.5, 0.1 }),
            ["polynomial_cycle"] = new PolynomialDecay(0.1, 3, endLearningRate: 0.001, power: 2.0, cycle: true),
            ["inverse_time_staircase"] = new InverseTimeDecay(0.1, 2, 0.5, staircase: true),
            ["cosine_warmup"] = new CosineDecay(0.0, 5, alpha: 0.2, warmupTarget: 0.2, warmupSteps: 3),
            ["cosine_restarts_geo"] = new CosineDecayRestarts(0.1, 2, tMul: 1.5, mMul: 0.8, alpha: 0.05),
        };
        foreach (var (name, schedule) in built)
        {
            var values = Enumerable.Range(0, 21).Select(s => schedule.Call(s)).ToArray();
            Assert.That(values, Is.EqualTo(Doubles(Fixture["schedules"]![name]!["values"]!)).Within(1e-7), name);
            Assert.That(JsonNode.DeepEquals(schedule.GetConfig(), Fixture["schedules"]![name]!["config"]), Is.True, name);
        }
    }

    [Test]
    public void Constructors_BadLengths_ThrowKerasMessages()
    {
        var bad = Fixture["bad"]!;
        Assert.That(() => new ExponentialDecay(0.1, 0, 0.5), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(bad["ExponentialDecay(0.1, 0, 0.5)"]!["message"]!.GetValue<string>()));
        Assert.That(() => new PolynomialDecay(0.1, -1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(bad["PolynomialDecay(0.1, -1)"]!["message"]!.GetValue<string>()));
        Assert.That(() => new CosineDecay(0.1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(bad["CosineDecay(0.1, 0)"]!["message"]!.GetValue<string>()));
        Assert.That(() => new CosineDecayRestarts(0.1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(bad["CosineDecayRestarts(0.1, 0)"]!["message"]!.GetValue<string>()));
        Assert.That(() => new InverseTimeDecay(0.1, 0, 0.5), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.StartsWith(bad["InverseTimeDecay(0.1, 0, 0.5)"]!["message"]!.GetValue<string>()));
        Assert.That(() => new PiecewiseConstantDecay(new double[] { 1, 2 }, new[] { 0.1, 0.2 }), Throws.ArgumentException.With.Message.StartsWith(bad["PiecewiseConstantDecay([1, 2], [0.1, 0.2])"]!["message"]!.GetValue<string>()));
        Assert.That(() => new PiecewiseConstantDecay(Array.Empty<double>(), new[] { 0.1 }), Throws.ArgumentException.With.Message.Contains("boundaries is empty"));
    }

    [Test]
    public void Deserialize_TfKeras2Form_WithNullNameAndNoModule_ReadsAsKeras()
    {
        // tf.keras 2's serialize_keras_object writes class_name and config only, and the schedules' name defaults to None.
        var exponential = LearningRateSchedule.Deserialize(JsonNode.Parse("""{"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5, "staircase": false, "name": null}}""")!);
        Assert.That(Enumerable.Range(0, 21).Select(s => exponential.Call(s)), Is.EqualTo(Doubles(Fixture["schedules"]!["exponential"]!["values"]!)).Within(1e-7));
        Assert.That(((ExponentialDecay)exponential).Name, Is.EqualTo("ExponentialDecay"));

        // tf.keras 2.10's CosineDecay has no warmup keys.
        var cosine = LearningRateSchedule.Deserialize(JsonNode.Parse("""{"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 6, "alpha": 0.1, "name": null}}""")!);
        Assert.That(Enumerable.Range(0, 21).Select(s => cosine.Call(s)), Is.EqualTo(Doubles(Fixture["schedules"]!["cosine_alpha"]!["values"]!)).Within(1e-7));
    }

    [Test]
    public void Deserialize_UnknownKeyOrClass_IsRefused()
    {
        Assert.That(() => LearningRateSchedule.Deserialize(JsonNode.Parse("""{"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5, "cycle": true}}""")!),
            Throws.InstanceOf<FormatException>().With.Message.Contains("'cycle'"));
        Assert.That(() => LearningRateSchedule.Deserialize(JsonNode.Parse("""{"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_rate": 0.5}}""")!),
            Throws.InstanceOf<FormatException>().With.Message.Contains("'decay_steps' is required"));
        Assert.That(() => LearningRateSchedule.Deserialize(JsonNode.Parse("""{"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.5}}""")!),
            Throws.InstanceOf<FormatException>().With.Message.Contains("must be > 0"));
        Assert.That(() => LearningRateSchedule.Deserialize(JsonNode.Parse("""{"class_name": "OneCycle", "config": {}}""")!),
            Throws.InstanceOf<NotSupportedException>().With.Message.Contains("OneCycle"));
    }

    [Test]
    public void ApplyGradients_AdamWithSchedule_EvaluatesItAtIterationsBeforeEachUpdateAsKeras()
    {
        var keras = Fixture["adam"]!;
        using var scope = NewDisposeScope();
        using var adam = new Adam(new ExponentialDecay(0.1, 2, 0.5, staircase: true));
        var variable = new Parameter(tensor(Doubles(keras["initial"]!).Select(v => (float)v).ToArray()));
        Assert.That(adam.LearningRate, Is.EqualTo(keras["learning_rate_before"]!.GetValue<double>()).Within(1e-7));
        var gradients = keras["gradients"]!.AsArray();
        for (var i = 0; i < gradients.Count; i++)
        {
            adam.ApplyGradients(new[] { ((Tensor?)tensor(Doubles(gradients[i]!).Select(v => (float)v).ToArray()), variable) });
            Assert.That(variable.data<float>().ToArray(), Is.EqualTo(Doubles(keras["weights"]![i]!)).Within(1e-6), $"weights after step {i + 1}");
            Assert.That(adam.LearningRate, Is.EqualTo(keras["learning_rate"]![i]!.GetValue<double>()).Within(1e-7), $"learning_rate after step {i + 1}");
        }

        Assert.That(JsonNode.DeepEquals(adam.GetConfig()["learning_rate"], keras["config"]!["learning_rate"]), Is.True, adam.GetConfig().ToJsonString());
    }

    [Test]
    public void LearningRate_SetWithSchedule_ThrowsKerasMessage_AndScheduleSetterReplacesARate()
    {
        using var scheduled = new SGD(new ExponentialDecay(0.1, 3, 0.5));
        Assert.That(() => scheduled.LearningRate = 0.5, Throws.InvalidOperationException.With.Message.EqualTo(Fixture["setter_error"]!["message"]!.GetValue<string>()));
        Assert.That(() => scheduled.Schedule = null, Throws.ArgumentNullException);

        using var plain = new SGD(0.3);
        Assert.That(plain.Schedule, Is.Null);
        plain.Schedule = new PiecewiseConstantDecay(new double[] { 0 }, new[] { 0.2, 0.1 });
        Assert.That(plain.LearningRate, Is.EqualTo(0.2).Within(1e-7));
        Assert.That(plain.GetConfig()["learning_rate"]!["class_name"]!.GetValue<string>(), Is.EqualTo("PiecewiseConstantDecay"));
    }

    private static Model Dense()
    {
        var input = new Input(4);
        return new Model(input, new Dense(2, name: "dense").Call(input), "scheduled");
    }

    [Test]
    public void Fit_SgdWithPolynomialDecay_GivesKerasWeightsLossAndConfig()
    {
        var keras = Fixture["model"]!;
        var x = FixtureJson.ToFloat2(keras["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(keras["y"]!.AsArray());
        using var model = Dense();
        model.SetWeights(keras["initial_weights"]!.AsArray().Select(w => WeightArray.FromArray(FixtureJson.ToArray(w!.AsArray()))).ToArray());
        model.Compile(new SGD(new PolynomialDecay(0.1, 5, endLearningRate: 0.01), momentum: 0.5), "mse");

        var history = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);

        Assert.That(history["loss"], Is.EqualTo(Doubles(keras["loss"]!)).Within(1e-5));
        Assert.That(history.Values.Keys, Is.EquivalentTo(keras["history_keys"]!.AsArray().Select(k => k!.GetValue<string>())), "Keras logs no learning_rate without a learning-rate callback");
        var weights = model.GetWeights();
        for (var i = 0; i < weights.Count; i++)
        {
            Assert.That(weights[i].Data, Is.EqualTo(FixtureJson.Flatten(keras["weights"]![i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i}");
        }

        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(keras["iterations"]!.GetValue<long>()));
        Assert.That(model.Optimizer.LearningRate, Is.EqualTo(keras["learning_rate"]!.GetValue<double>()).Within(1e-7));
        Assert.That(JsonNode.DeepEquals(model.Optimizer.GetConfig()["learning_rate"], keras["optimizer_config"]!["learning_rate"]), Is.True);
    }

    [Test]
    public void Load_KerasFileWithSchedule_RestoresScheduleAndState_AndSavesItBackInKerasForm()
    {
        var keras = Fixture["model"]!;
        var x = FixtureJson.ToFloat2(keras["x"]!.AsArray());
        using var model = Model.Load(Path.Combine(Folder, "schedules.keras"));

        Assert.That(model.Optimizer!.Schedule, Is.InstanceOf<PolynomialDecay>());
        Assert.That(model.Optimizer.Iterations, Is.EqualTo(keras["iterations"]!.GetValue<long>()), "iterations read from optimizer/vars/0, slots from 1 on");
        Assert.That(model.Optimizer.LearningRate, Is.EqualTo(keras["loaded_learning_rate"]!.GetValue<double>()).Within(1e-7));
        FixtureJson.AssertClose((float[,])model.Predict(x), keras["predictions"]!.AsArray(), "predictions");

        var path = Path.Combine(Path.GetTempPath(), $"schedules-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var compile = JsonNode.Parse(KerasArchiveConfig(path))!["compile_config"]!["optimizer"]!["config"]!["learning_rate"];
            Assert.That(JsonNode.DeepEquals(compile, keras["compile_config"]!["optimizer"]!["config"]!["learning_rate"]), Is.True, compile?.ToJsonString());
            using var reloaded = Model.Load(path);
            Assert.That(reloaded.Optimizer!.Iterations, Is.EqualTo(keras["iterations"]!.GetValue<long>()));
            Assert.That(reloaded.Optimizer.Schedule, Is.InstanceOf<PolynomialDecay>());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase(".keras", H5Format.Keras3)]
    [TestCase(".h5", H5Format.Keras3)]
    [TestCase(".h5", H5Format.TfKeras2)]
    public void SaveLoad_TrainedWithSchedule_KeepsIterationsSlotsAndSchedule(string extension, H5Format format)
    {
        var keras = Fixture["model"]!;
        var x = FixtureJson.ToFloat2(keras["x"]!.AsArray());
        var y = FixtureJson.ToFloat2(keras["y"]!.AsArray());
        var path = Path.Combine(Path.GetTempPath(), $"schedules-{Guid.NewGuid():N}{extension}");
        try
        {
            using var model = Dense();
            model.SetWeights(keras["initial_weights"]!.AsArray().Select(w => WeightArray.FromArray(FixtureJson.ToArray(w!.AsArray()))).ToArray());
            model.Compile(new SGD(new PolynomialDecay(0.1, 5, endLearningRate: 0.01), momentum: 0.5), "mse");
            model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            model.Save(path, format);
            using var loaded = Model.Load(path);
            Assert.That(loaded.Optimizer!.Schedule, Is.InstanceOf<PolynomialDecay>());
            Assert.That(loaded.Optimizer.Iterations, Is.EqualTo(3));

            // The second epoch continues from the saved momentum and step count: Keras' weights after two epochs.
            model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            loaded.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
            var (expected, actual) = (model.GetWeights(), loaded.GetWeights());
            for (var i = 0; i < actual.Count; i++)
            {
                Assert.That(actual[i].Data, Is.EqualTo(expected[i].Data).Within(1e-6), $"weight {i}");
                Assert.That(actual[i].Data, Is.EqualTo(FixtureJson.Flatten(keras["weights"]![i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i} (Keras)");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string KerasArchiveConfig(string path)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry("config.json")!.Open());
        return reader.ReadToEnd();
    }

    [TestCase("scheduler")]
    [TestCase("plateau")]
    public void Fit_LearningRateCallbackSettingAScheduledRate_ThrowsAsKeras(string which)
    {
        var keras = Fixture["model"]!;
        using var model = Dense();
        model.Compile(new SGD(new ExponentialDecay(0.1, 3, 0.5)), "mse");
        ICallback callback = which == "scheduler"
            ? new LearningRateScheduler((epoch, lr) => lr * 0.5)
            : new ReduceLROnPlateau(monitor: "loss", patience: 0, minDelta: 10.0);

        Assert.That(() => model.Fit(FixtureJson.ToFloat2(keras["x"]!.AsArray()), FixtureJson.ToFloat2(keras["y"]!.AsArray()), batchSize: 4, epochs: 3, verbose: 0, shuffle: false, callbacks: new[] { callback }),
            Throws.InvalidOperationException.With.Message.EqualTo(Fixture["callbacks"]![which]!["message"]!.GetValue<string>()));
    }

    [Test]
    public void Fit_ReduceLROnPlateauThatNeverReduces_LogsTheScheduledRateAsKeras()
    {
        var keras = Fixture["model"]!;
        using var model = Dense();
        model.Compile(new SGD(new ExponentialDecay(0.1, 3, 0.5)), "mse");

        var history = model.Fit(FixtureJson.ToFloat2(keras["x"]!.AsArray()), FixtureJson.ToFloat2(keras["y"]!.AsArray()), batchSize: 4, epochs: 3, verbose: 0, shuffle: false,
            callbacks: new ICallback[] { new ReduceLROnPlateau(monitor: "loss", patience: 100) });

        Assert.That(history["learning_rate"], Is.EqualTo(Doubles(Fixture["callbacks"]!["plateau_never"]!["history"]!["learning_rate"]!)).Within(1e-7));
    }

    private sealed class HalvingSchedule : LearningRateSchedule
    {
        public HalvingSchedule(double initial) => Initial = initial;

        public double Initial { get; }

        public override double Call(long step) => Initial / (step + 1);

        public override JsonObject GetConfig() => new() { ["initial"] = Initial };
    }

    private sealed class Unsaveable : LearningRateSchedule
    {
        public override double Call(long step) => 0.1;
    }

    [Test]
    public void UserSchedule_Subclassed_TrainsAndSavesByClassName_AndLoadsOnceRegistered()
    {
        Assert.That(() => new Unsaveable().GetConfig(), Throws.InstanceOf<NotImplementedException>().With.Message.Contains("must override `GetConfig()`"));
        Assert.That(() => CustomObjects.Register("ExponentialDecay", (LayerConfig c) => (LearningRateSchedule)new HalvingSchedule(1)), Throws.ArgumentException);
        var keras = Fixture["model"]!;
        var path = Path.Combine(Path.GetTempPath(), $"user-schedule-{Guid.NewGuid():N}.keras");
        try
        {
            using (var model = Dense())
            {
                model.Compile(new SGD(new HalvingSchedule(0.2)), "mse");
                model.Fit(FixtureJson.ToFloat2(keras["x"]!.AsArray()), FixtureJson.ToFloat2(keras["y"]!.AsArray()), batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
                Assert.That(model.Optimizer!.LearningRate, Is.EqualTo(0.05));
                var serialized = model.Optimizer.GetConfig()["learning_rate"]!;
                Assert.That(serialized["registered_name"]!.GetValue<string>(), Is.EqualTo(nameof(HalvingSchedule)));
                Assert.That(serialized["module"], Is.Null);
                model.Save(path);
            }

            using (var unregistered = Model.Load(path))
            {
                Assert.That(unregistered.IsCompiled, Is.False, "an unknown schedule is an unrestorable compile config");
            }

            CustomObjects.Register(nameof(HalvingSchedule), c => new HalvingSchedule(c.GetDouble("initial", double.NaN)));
            using var loaded = Model.Load(path);
            Assert.That(loaded.Optimizer!.Schedule, Is.InstanceOf<HalvingSchedule>());
            Assert.That(loaded.Optimizer.LearningRate, Is.EqualTo(0.05));
        }
        finally
        {
            CustomObjects.Unregister(nameof(HalvingSchedule));
            File.Delete(path);
        }
    }
}
