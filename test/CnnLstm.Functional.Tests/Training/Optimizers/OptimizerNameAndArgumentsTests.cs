using System.Text.Json.Nodes;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Training.Optimizers;
using PureHDF;

namespace KerasStyle.Tests.Training.Optimizers;

/// <summary>
/// Issue 25's optimizer mismatches with Keras 3.16: the <c>name</c> argument (keras/src/optimizers/base_optimizer.py:
/// <c>auto_name</c> of the class when none is given, numbered per class; written by <c>get_config</c> and given back by
/// <c>from_config</c>), <c>jit_compile</c> (refused in Keras 3 configs as Keras 3.16's from_config refuses it,
/// read without effect in tf.keras 2.11+ configs, which always carry it), and SGD's momentum range [0, 1]
/// (keras/src/optimizers/sgd.py). Expected names checked with Keras 3.16: <c>keras.optimizers.Adam().name</c> twice
/// gives <c>adam</c>, then <c>adam_1</c>; RMSprop's is <c>rm_sprop</c>, AdamW's <c>adam_w</c>.
/// </summary>
public class OptimizerNameAndArgumentsTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    private static IEnumerable<TestCaseData> DefaultNames()
    {
        yield return new TestCaseData((Func<Optimizer>)(() => new Adam()), "adam").SetName("DefaultName_Adam_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new SGD()), "sgd").SetName("DefaultName_SGD_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new RMSprop()), "rm_sprop").SetName("DefaultName_RMSprop_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new AdamW()), "adam_w").SetName("DefaultName_AdamW_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new Nadam()), "nadam").SetName("DefaultName_Nadam_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adamax()), "adamax").SetName("DefaultName_Adamax_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adagrad()), "adagrad").SetName("DefaultName_Adagrad_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new Adadelta()), "adadelta").SetName("DefaultName_Adadelta_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new Lion()), "lion").SetName("DefaultName_Lion_IsKeras316s");
        yield return new TestCaseData((Func<Optimizer>)(() => new Ftrl()), "ftrl").SetName("DefaultName_Ftrl_IsKeras316s");
    }

    [TestCaseSource(nameof(DefaultNames))]
    public void DefaultName_IsTheSnakeCaseClassName_ThenNumbered(Func<Optimizer> create, string expected)
    {
        using var first = create();
        using var second = create();
        Assert.That((first.Name, second.Name), Is.EqualTo((expected, expected + "_1")));
        Assert.That(first.GetConfig()["name"]!.GetValue<string>(), Is.EqualTo(expected));
    }

    [Test]
    public void CompileByName_NumbersTheSecondOptimizer_AsKeras()
    {
        // Keras 3.16: compile(optimizer="adam") twice gives adam, then adam_1 (optimizers.get makes Adam()).
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        model.Compile("adam", "mse");
        var first = model.Optimizer!.Name;
        model.Compile("adam", "mse");
        Assert.That((first, model.Optimizer!.Name), Is.EqualTo(("adam", "adam_1")));
    }

    [Test]
    public void GivenName_IsKept_WrittenInTheConfig_AndTakesNoNumber()
    {
        using var named = new Adam(learningRate: 0.01, name: "my_adam");
        using var unnamed = new Adam();
        Assert.That((named.Name, unnamed.Name), Is.EqualTo(("my_adam", "adam")));
        Assert.That(named.GetConfig()["name"]!.GetValue<string>(), Is.EqualTo("my_adam"));
    }

    [Test]
    public void Name_EveryOptimizerTakesIt()
    {
        Optimizer[] optimizers =
        {
            new Adam(name: "a"), new SGD(name: "a"), new RMSprop(name: "a"), new AdamW(name: "a"), new Nadam(name: "a"),
            new Adamax(name: "a"), new Adagrad(name: "a"), new Adadelta(name: "a"), new Lion(name: "a"), new Ftrl(name: "a"),
        };
        Assert.That(optimizers.Select(o => o.Name), Is.All.EqualTo("a"));
        foreach (var optimizer in optimizers)
        {
            optimizer.Dispose();
        }
    }

    [Test]
    public void Name_WithSlash_IsRefusedAsKeras()
    {
        // Keras 3.16: "Argument `name` must be a string and cannot contain character `/`."
        var e = Assert.Throws<ArgumentException>(() => new Adam(name: "a/b"));
        Assert.That(e!.Message, Does.Contain("cannot contain character `/`"));
    }

    [Test]
    public void Keras3Config_Name_IsGivenBack()
    {
        var optimizer = Read(new JsonObject { ["name"] = "my_sgd", ["learning_rate"] = 0.1, ["momentum"] = 0.5 }, "SGD");
        Assert.That(optimizer.Name, Is.EqualTo("my_sgd"));
        Assert.That(optimizer.GetConfig()["name"]!.GetValue<string>(), Is.EqualTo("my_sgd"));
    }

    [Test]
    public void Keras3Config_NullName_GetsANewName()
    {
        var optimizer = Read(new JsonObject { ["name"] = null, ["learning_rate"] = 0.1 }, "Adam");
        Assert.That(optimizer.Name, Is.EqualTo("adam"));
    }

    [Test]
    public void KerasFile_KeepsTheName()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        model.Compile(new Adam(learningRate: 0.01, name: "my_adam"), "mse");
        var path = Temp(".keras");
        try
        {
            model.Save(path);
            using var loaded = Model.Load(path);
            Assert.That(loaded.Optimizer!.Name, Is.EqualTo("my_adam"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Keras3H5_TrainingConfigAndVariables_CarryTheName_AndLoadBack()
    {
        using var model = TinyModels.Linear(TinyModels.Identity(2));
        model.Compile(new SGD(learningRate: 0.01, momentum: 0.5, name: "my_sgd"), "mse");
        model.TrainOnBatch(new float[,] { { 1, 2 } }, new float[,] { { 0, 1 } });
        var path = Temp(".h5");
        try
        {
            model.Save(path);
            using (var file = H5File.OpenRead(path))
            {
                var training = JsonNode.Parse(file.Attribute("training_config").Read<string>())!;
                Assert.That(training["optimizer_config"]!["config"]!["name"]!.GetValue<string>(), Is.EqualTo("my_sgd"));
                // Keras 3.16 writes the variables under the optimizer's name ('rm_sprop/iteration' for a default RMSprop).
                Assert.That(file.Group("optimizer_weights").Attribute("weight_names").Read<string[]>()[0], Is.EqualTo("my_sgd/iteration"));
            }

            using var loaded = Model.Load(path);
            Assert.That(loaded.Optimizer!.Name, Is.EqualTo("my_sgd"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void TfKeras2Config_ClassNameAsName_JitCompile_IsLegacyFalse_AreRead()
    {
        // tf.keras 2.11+ writes name = the class name and jit_compile (XLA or not: the same numbers) in every config.
        var config = new JsonObject
        {
            ["name"] = "Adam", ["learning_rate"] = 0.01, ["jit_compile"] = true, ["is_legacy_optimizer"] = false,
            ["beta_1"] = 0.9, ["beta_2"] = 0.999, ["epsilon"] = 1e-7, ["amsgrad"] = false,
        };
        var optimizer = Read(config, "Adam", writtenByKeras2: true);
        Assert.That((optimizer.Name, optimizer.LearningRate), Is.EqualTo(("Adam", 0.01)));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Keras3Config_JitCompile_IsRefusedAsKeras316(bool value)
    {
        // Keras 3.16: Adam.from_config({..., 'jit_compile': True}) raises ValueError "Argument(s) not recognized".
        var config = new JsonObject { ["name"] = "adam", ["learning_rate"] = 0.01, ["jit_compile"] = value };
        var e = Assert.Throws<FormatException>(() => Read(config, "Adam"));
        Assert.That(e!.Message, Does.Contain("'jit_compile'").And.Contain("not recognized"));
    }

    [Test]
    public void SaveTfKeras2_WritesTfKeras2sDefaultName_OrTheGivenOne()
    {
        foreach (var (optimizer, expected) in new (Optimizer, string)[] { (new Adam(), "Adam"), (new Adam(name: "mine"), "mine") })
        {
            using var model = TinyModels.Linear(TinyModels.Identity(2));
            model.Compile(optimizer, "mse");
            var path = Temp(".h5");
            try
            {
                model.Save(path, H5Format.TfKeras2);
                using (var file = H5File.OpenRead(path))
                {
                    var training = JsonNode.Parse(file.Attribute("training_config").Read<string>())!;
                    Assert.That(training["optimizer_config"]!["config"]!["name"]!.GetValue<string>(), Is.EqualTo(expected));
                }

                using var loaded = Model.Load(path);
                Assert.That(loaded.Optimizer!.Name, Is.EqualTo(expected));
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [Test]
    public void SGD_MomentumOne_IsAccepted_AndKeepsTheWholeVelocity()
    {
        // Keras 3.16 accepts momentum 1.0 (its check: a float, neither below 0 nor above 1): v = v - lr g; p += v.
        using var sgd = new SGD(learningRate: 0.1, momentum: 1.0);
        var w = OptimizerProblem.Start;
        var v = new double[2];
        var expected = new List<double[]>();
        for (var t = 0; t < 3; t++)
        {
            var g = OptimizerProblem.Gradient(w);
            v = new[] { v[0] - (0.1 * g[0]), v[1] - (0.1 * g[1]) };
            w = new[] { w[0] + v[0], w[1] + v[1] };
            expected.Add(w);
        }

        OptimizerProblem.AssertSteps(OptimizerProblem.Train(sgd, 3), expected);
    }

    [TestCase(1.0000001)]
    [TestCase(-1e-9)]
    [TestCase(double.PositiveInfinity)]
    public void SGD_MomentumOutsideZeroToOne_IsRefused(double momentum)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(momentum: momentum));
        Assert.That(e!.Message, Does.Contain("[0, 1]"));
    }

    [Test]
    public void SGD_Config_WritesMomentumAsAPythonFloat()
    {
        // Keras 3's SGD refuses an integer momentum, so 0 and 1 are written 0.0 and 1.0 for Keras to read the file.
        using var zero = new SGD();
        using var one = new SGD(momentum: 1.0);
        Assert.That((zero.GetConfig()["momentum"]!.ToJsonString(), one.GetConfig()["momentum"]!.ToJsonString()), Is.EqualTo(("0.0", "1.0")));
    }

    [Test]
    public void SGD_Keras3Config_IntegerMomentum_IsRefusedAsKeras()
    {
        var config = JsonNode.Parse("""{"name": "sgd", "learning_rate": 0.01, "momentum": 1}""")!.AsObject();
        var e = Assert.Throws<ArgumentException>(() => Read(config, "SGD"));
        Assert.That(e!.Message, Does.Contain("must be a float between [0, 1]"));
        Assert.That(((SGD)Read(JsonNode.Parse("""{"momentum": 1.0}""")!.AsObject(), "SGD")).Momentum, Is.EqualTo(1.0));
    }

    [Test]
    public void SGD_TfKeras2Config_IntegerMomentum_IsRead()
    {
        // tf.keras 2's SGD accepts ints and writes the value given.
        var sgd = (SGD)Read(JsonNode.Parse("""{"name": "SGD", "learning_rate": 0.01, "momentum": 1, "jit_compile": false, "is_legacy_optimizer": false}""")!.AsObject(), "SGD", writtenByKeras2: true);
        Assert.That(sgd.Momentum, Is.EqualTo(1.0));
    }

    private static Optimizer Read(JsonObject config, string className, bool writtenByKeras2 = false)
    {
        var compile = new JsonObject { ["optimizer"] = new JsonObject { ["module"] = "keras.optimizers", ["class_name"] = className, ["config"] = config }, ["loss"] = "mse" };
        return CompileConfig.Deserialize(compile, writtenByKeras2: writtenByKeras2).Optimizer;
    }

    private static string Temp(string extension) => Path.Combine(Path.GetTempPath(), $"ks-optname-{Guid.NewGuid():N}{extension}");
}
