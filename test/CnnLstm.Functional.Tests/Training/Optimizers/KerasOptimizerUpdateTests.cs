using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Optimizers;

/// <summary>
/// Every optimizer update against Keras 3.16 (tools/keras-fixtures/numerics.py): Dense(3, tanh) > Dense(1) from the
/// same weights, mse, two epochs of two batches; the optimizer is read from the config Keras wrote (so each argument
/// is honoured), and every weight after training agrees within 1e-6 relative. Issue 20: RMSprop added epsilon outside
/// the square root (Keras 2) and refused momentum and centered; Adam refused amsgrad.
/// </summary>
public class KerasOptimizerUpdateTests
{
    private static readonly JsonObject Fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Training", "KerasFixtures", "numerics.json")))!["optimizers"]!.AsObject();

    [SetUp]
    public void Fresh() => Backend.ClearSession();

    private static IEnumerable<string> Cases() => Fixture["cases"]!.AsObject().Select(kv => kv.Key);

    [TestCaseSource(nameof(Cases))]
    public void Fit_TwoEpochs_WeightsAsKeras316(string name)
    {
        var keras = Fixture["cases"]![name]!;
        var (optimizer, _, _, _) = CompileConfig.Deserialize(new JsonObject
        {
            ["optimizer"] = new JsonObject { ["class_name"] = keras["class_name"]!.GetValue<string>(), ["config"] = keras["config"]!.DeepClone() },
            ["loss"] = "mse",
        });
        using var model = Build();
        model.Compile(optimizer, "mse");

        model.Fit(FixtureJson.ToFloat2(Fixture["x"]!.AsArray()), FixtureJson.ToFloat2(Fixture["y"]!.AsArray()), batchSize: 8, epochs: 2, verbose: 0, shuffle: false);

        var after = model.GetWeights();
        var expected = keras["weights_after"]!.AsArray();
        for (var w = 0; w < after.Count; w++)
        {
            var want = FixtureJson.Flatten(expected[w]!).ToArray();
            for (var i = 0; i < want.Length; i++)
            {
                Assert.That(after[w].Data[i], Is.EqualTo(want[i]).Within((1e-6 * Math.Abs(want[i])) + 1e-7), $"{name}: weight {w}[{i}]");
            }
        }

        optimizer.Dispose();
    }

    [Test]
    public void RMSprop_MomentumAndCentered_SaveAndLoadTheirSlotsInKerasOrder()
    {
        using var model = Build();
        model.Compile(new RMSprop(0.01, momentum: 0.5, centered: true), "mse");
        model.Fit(FixtureJson.ToFloat2(Fixture["x"]!.AsArray()), FixtureJson.ToFloat2(Fixture["y"]!.AsArray()), batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        var path = Path.Combine(Path.GetTempPath(), $"ks-rmsprop-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            using var loaded = Model.Load(path);
            var rmsprop = (RMSprop)loaded.Optimizer!;
            Assert.That((rmsprop.Momentum, rmsprop.Centered), Is.EqualTo((0.5, true)));
            var (saved, restored) = (model.Optimizer!.ExportState(model.TrainableWeights), rmsprop.ExportState(loaded.TrainableWeights));
            Assert.That(restored.InKerasOrder().Select(a => a.Data), Is.EqualTo(saved.InKerasOrder().Select(a => a.Data)));
            // Keras' order: every velocity, then every momentum, then every average gradient.
            Assert.That(OptimizerState.KerasIndex(weight: 1, slot: 1, weights: 4, interleaved: 1), Is.EqualTo(5));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Model Build() => OptimizerFixtureModel.Build(Fixture["weights"]!.AsArray(), 1);
}
