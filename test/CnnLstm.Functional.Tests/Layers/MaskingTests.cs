using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Tools.KerasInterop;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// Masks (issue 13: there were none), against real Keras 3.16 (tools/keras-fixtures/masks.py): Embedding(maskZero)
/// and Masking feeding LSTMs over padded inputs, a mask kept by Dense up to a masked loss, and merged masks.
/// </summary>
public class MaskingTests
{
    private static readonly string Folder = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures");

    private static JsonObject Fixture => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "masks.json")))!.AsObject();

    [TestCase("masks.keras")]
    [TestCase("masks.h5")]
    public void Load_KerasMaskedModel_EveryOutputWithin1e5(string file)
    {
        using var model = Model.Load(Path.Combine(Folder, file));
        AssertOutputs(model, "predictions");
        Assert.That(model.CountParams(), Is.EqualTo(Fixture["params"]!.GetValue<long>()));
    }

    [Test]
    public void BuiltHere_WithAndWithoutMasks_GivesKerasBothResults_AndTheyDiffer()
    {
        using var keras = Model.Load(Path.Combine(Folder, "masks.keras"));
        using var masked = Build(masked: true);
        using var unmasked = Build(masked: false);
        masked.SetWeights(keras.GetWeights());
        unmasked.SetWeights(keras.GetWeights());
        AssertOutputs(masked, "predictions");
        AssertOutputs(unmasked, "predictions_without_masks");
        var a = (float[,])masked.Predict(Inputs())[0];
        var b = (float[,])unmasked.Predict(Inputs())[0];
        Assert.That(a, Is.Not.EqualTo(b).Within(1e-3), "padding changes the result exactly where Keras' does");
    }

    [Test]
    public void Save_MaskedModel_RoundTripsInEveryForm()
    {
        using var model = Model.Load(Path.Combine(Folder, "masks.keras"));
        ModelFiles.CheckEveryForm(model, back => AssertOutputs(back, "predictions"));
    }

    [TestCase(32, "evaluate_before")]
    [TestCase(8, "evaluate_before_batch8")]
    public void Evaluate_MaskedLossesAndMetrics_AreKerasMaskedMeans(int batchSize, string key)
    {
        // Keras: a masked output's loss is the mean over unmasked steps, averaged over batches by batch size; its
        // metrics keep masked totals and counts across batches (so batch size does not change them).
        using var model = Model.Load(Path.Combine(Folder, "masks.keras"));
        var scores = model.Evaluate(Inputs(), Targets(), batchSize: batchSize);
        var keras = Fixture[key]!.AsObject();
        Assert.That(scores.Keys, Is.EquivalentTo(keras.Select(kv => kv.Key)));
        foreach (var (name, value) in keras)
        {
            Assert.That(scores[name], Is.EqualTo(value!.GetValue<double>()).Within(1e-5), name);
        }
    }

    [Test]
    public void Fit_ThroughMasks_ThreeAdamSteps_WeightsMatchKerasWithin1e4()
    {
        var fixture = Fixture;
        using var model = Model.Load(Path.Combine(Folder, "masks.keras"));
        model.Fit(Inputs(), Targets(), batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        var order = fixture["weight_order"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        var mine = model.Layers.SelectMany(l => l.Weights).ToDictionary(w => w.Layer is LSTM ? $"{w.Layer.Name}/lstm_cell/{w.Name}" : $"{w.Layer.Name}/{w.Name}");
        Assert.That(mine.Keys, Is.EquivalentTo(order));
        foreach (var path in order)
        {
            Assert.That(mine[path].Get().Data, Is.EqualTo(FixtureJson.Flatten(fixture["weights_after"]![path]!).ToArray()).Within(1e-4), path);
        }
    }

    [Test]
    public void Call_ConvOnAMaskedTensor_WarnsThatTheMaskStops()
    {
        var tokens = new Input(shape: 6, dtype: DType.Int32, name: "tokens");
        var e = new Embedding(20, 4, maskZero: true).Call(tokens);
        Assert.That(e.HasMask, Is.True);
        var warnings = new List<string>();
        void Record(object? sender, string message) => warnings.Add(message);
        Warnings.Raised += Record;
        try
        {
            var conv = new Conv1D(2, 2, name: "conv").Call(e);
            Assert.That(conv.HasMask, Is.False);
        }
        finally
        {
            Warnings.Raised -= Record;
        }

        Assert.That(warnings, Has.Some.Contains("Conv1D 'conv'").And.Some.Contains("does not support masking"));
    }

    [TestCase("binary_crossentropy", 24, "evaluate")]
    [TestCase("binary_crossentropy", 8, "evaluate_batch8")]
    [TestCase("categorical_crossentropy", 24, "evaluate")]
    [TestCase("categorical_crossentropy", 8, "evaluate_batch8")]
    [TestCase("sparse_categorical_crossentropy", 24, "evaluate")]
    [TestCase("sparse_categorical_crossentropy", 8, "evaluate_batch8")]
    public void Evaluate_MaskedCrossEntropyAndAccuracy_AreKeras(string loss, int batchSize, string key)
    {
        // The cross-entropies (from the logits of the sigmoid or softmax, as Keras) and accuracy over padded steps.
        var fixture = Fixture["masked_losses"]![loss]!;
        using var model = Model.Load(Path.Combine(Folder, $"masked-{loss}.keras"));
        Array y = loss.StartsWith("sparse", StringComparison.Ordinal) ? FixtureJson.ToInt2(fixture["y"]!.AsArray()) : FixtureJson.ToFloat3(fixture["y"]!.AsArray());
        var scores = model.Evaluate(FixtureJson.ToInt2(Fixture["inputs"]!["tokens"]!.AsArray()), y, batchSize: batchSize);
        foreach (var (name, value) in fixture[key]!.AsObject())
        {
            Assert.That(scores[name], Is.EqualTo(value!.GetValue<double>()).Within(1e-5), $"{loss} {name}");
        }
    }

    [Test]
    public void Predict_MaskIntoANestedModel_ReachesItsLstmAsInKeras()
    {
        // Keras' Functional.call puts the caller's mask on the nested model's inputs; its LSTM skips padded steps.
        using var model = Model.Load(Path.Combine(Folder, "masked-nested.keras"));
        var predicted = model.Predict<float[,]>(FixtureJson.ToInt2(Fixture["inputs"]!["tokens"]!.AsArray()));
        Assert.That(predicted.Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(Fixture["masked_nested"]!["predictions"]!)).Within(1e-5));
    }

    internal static Model Build(bool masked) => GraphModels.Masks(masked);

    private static Array[] Inputs()
    {
        var inputs = Fixture["inputs"]!;
        return new Array[] { FixtureJson.ToInt2(inputs["tokens"]!.AsArray()), FixtureJson.ToInt2(inputs["tokens2"]!.AsArray()), FixtureJson.ToFloat3(inputs["series"]!.AsArray()) };
    }

    private static Array[] Targets()
    {
        var y = Fixture["inputs"]!["y"]!.AsArray();
        return new Array[] { FixtureJson.ToFloat2(y[0]!.AsArray()), FixtureJson.ToFloat3(y[1]!.AsArray()), FixtureJson.ToFloat3(y[2]!.AsArray()) };
    }

    private static void AssertOutputs(Model model, string key)
    {
        var expected = Fixture[key]!.AsArray();
        var predicted = model.Predict(Inputs());
        for (var o = 0; o < expected.Count; o++)
        {
            Assert.That(predicted[o].Cast<float>().Select(v => (double)v), Is.EqualTo(FixtureJson.Flatten(expected[o]!)).Within(1e-5), $"{key}: output {o} ({model.Outputs[o].Layer.Name})");
        }
    }
}
