using System.Text.Json.Nodes;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Losses;

/// <summary>
/// Compiled models with the losses' tricky arguments against Keras 3.16 (KerasFixtures/loss_arguments.json "models"):
/// a Dense over a (3, 2) sequence (behind a Masking layer where the case says so), trained 3 SGD steps on one batch
/// of 4 and evaluated: sparse categorical cross-entropy with <c>ignore_class</c> on a sequence output, mse with
/// (samples, steps) sample weights on a masked and an unmasked sequence output, and the <c>sum</c> reduction.
/// </summary>
public class LossArgumentsTrainingTests
{
    private static IEnumerable<string> Models() => LossArgumentsKerasTests.Fixture["models"]!.AsObject().Select(p => p.Key);

    [SetUp]
    public void Reset() => Backend.ClearSession();

    [TestCaseSource(nameof(Models))]
    public void FitAndEvaluate_WithTheLossArgument_GiveKerasLossesAndWeights(string name)
    {
        var keras = LossArgumentsKerasTests.Fixture["models"]![name]!;
        var input = new Input(new[] { 3, 2 });
        var h = keras["masking"]!.GetValue<bool>() ? new Masking(0.0).Call(input) : input;
        var dense = new Dense(3, keras["activation"]?.GetValue<string>());
        using var model = new Model(input, dense.Call(h));
        model.SetWeights(new[] { WeightArray.FromArray(FixtureJson.ToArray(keras["kernel"]!.AsArray())), WeightArray.FromArray(FixtureJson.ToArray(keras["bias"]!.AsArray())) });
        var loss = keras["loss"] is JsonObject serialized
            ? LossNames.FromConfig(serialized["class_name"]!.GetValue<string>(), serialized["config"]!.AsObject().DeepClone().AsObject())
            : LossNames.Create(keras["loss"]!.GetValue<string>());
        model.Compile(new SGD(0.05), loss);
        var x = FixtureJson.ToArray(keras["x"]!.AsArray());
        Array y = name.StartsWith("sparse", StringComparison.Ordinal) ? FixtureJson.ToLong2(keras["y"]!.AsArray()) : FixtureJson.ToArray(keras["y"]!.AsArray());
        var weights = keras["sample_weight"] is JsonArray w ? FixtureJson.ToArray(w) : null;

        var history = model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, shuffle: false, sampleWeight: weights);

        Assert.That(history["loss"], Is.EqualTo(keras["losses"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).Within(1e-5), "the loss of each step (Keras' train_on_batch)");
        Assert.That(model.Evaluate(x, y, batchSize: 4, sampleWeight: weights)["loss"], Is.EqualTo(keras["evaluate"]!.GetValue<double>()).Within(1e-5), "evaluate");
        var after = keras["weights_after"]!.AsArray();
        var actual = model.GetWeights();
        for (var i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].Data, Is.EqualTo(FixtureJson.Flatten(after[i]!).Select(v => (float)v).ToArray()).Within(1e-5), $"weight {i}");
        }
    }

    [Test]
    public void Fit_RankTwoWeightsThatTheMaskDoesNotBroadcastTo_IsRefusedAsKeras()
    {
        // Keras 3.16: (samples, 1) weights under a (samples, steps) mask fail in apply_mask's in-place product.
        var input = new Input(new[] { 3, 2 });
        using var model = new Model(input, new Dense(3).Call(new Masking(0.0).Call(input)));
        model.Compile(new SGD(0.05), "mse");
        var x = new float[4, 3, 2];
        x[0, 0, 0] = 1;
        var y = new float[4, 3, 3];
        var before = model.GetWeights().Select(w => w.Data.ToArray()).ToArray();

        Assert.That(() => model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, sampleWeight: new float[4, 1]),
            Throws.ArgumentException.With.Message.Contains("mask").And.Message.Contains("(4, 1)"));
        Assert.That(model.GetWeights().Select(w => w.Data.ToArray()), Is.EqualTo(before), "no step was taken");
        Assert.That(() => model.Evaluate(x, y, sampleWeight: new float[4, 5]), Throws.ArgumentException.With.Message.Contains("sampleWeight"));
        Assert.That(() => model.Evaluate(x, y, sampleWeight: new float[3, 3]), Throws.ArgumentException.With.Message.Contains("4 samples"));
    }
}
