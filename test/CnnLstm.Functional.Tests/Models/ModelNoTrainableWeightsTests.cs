using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Saving;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Models;

/// <summary>
/// Training a model without trainable weights (issue 20, item 3): Keras 3.16's train_step computes the loss and
/// metrics, warns "The model does not have any trainable weights." and skips backward and the optimizer, whose
/// iterations stay. Reference values: tools/keras-fixtures/no_trainable_weights.py; within 1e-5, as BatchNormalization
/// over batches of two divides by a small variance.
/// </summary>
public class ModelNoTrainableWeightsTests
{
    private static readonly JsonObject Cases = JsonNode.Parse(File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Models", "KerasFixtures", "no-trainable-weights.json")))!["cases"]!.AsObject();

    private readonly List<string> warnings = new();

    [SetUp]
    public void Listen()
    {
        Backend.ClearSession();
        warnings.Clear();
        Warnings.Raised += Record;
    }

    [TearDown]
    public void StopListening() => Warnings.Raised -= Record;

    [TestCase("masking")]
    [TestCase("max_pooling1d")]
    [TestCase("global_average_pooling1d")]
    [TestCase("reshape_flatten")]
    [TestCase("add")]
    [TestCase("layer_normalization")]
    [TestCase("batch_normalization")]
    [TestCase("frozen")]
    [TestCase("partly_frozen")]
    public void FitEvaluateTrainOnBatch_LogAndUpdateAsKeras316(string name)
    {
        var c = Cases[name]!;
        using var model = Build(name);
        model.SetWeights(c["initial_weights"]!.AsArray().Select(w => WeightArray.FromArray(FixtureJson.ToArray(w!.AsArray()))).ToArray());
        model.Compile(new SGD(learningRate: 0.1), "mse", new[] { "mae" });
        var x = c["x"]!.AsArray().Select(a => FixtureJson.ToArray(a!.AsArray())).ToArray();
        var y = FixtureJson.ToArray(c["y"]!.AsArray());

        var history = model.Fit(x, y, batchSize: c["batch"]!.GetValue<int>(), epochs: c["epochs"]!.GetValue<int>(), verbose: 0, shuffle: false);
        Assert.That(model.Optimizer!.Iterations, Is.EqualTo(c["fit_iterations"]!.GetValue<long>()), "iterations after Fit");
        var warnedInFit = warnings.Count(w => w.Contains("does not have any trainable weights"));
        Assert.That(warnedInFit, Is.EqualTo(c["warned"]!.GetValue<bool>() ? 1 : 0), "one warning per Fit call, when Keras warns");
        var evaluated = model.Evaluate(x, y);
        var trained = model.TrainOnBatch(x, y);

        foreach (var (key, values) in c["history"]!.AsObject())
        {
            Assert.That(history.Values[key], Is.EqualTo(values!.AsArray().Select(v => v!.GetValue<double>())).Within(1e-5), $"Fit {key}");
        }

        foreach (var (result, expected) in new[] { (evaluated, "evaluate"), (trained, "train_on_batch") })
        {
            foreach (var (key, value) in c[expected]!.AsObject())
            {
                Assert.That(result[key], Is.EqualTo(value!.GetValue<double>()).Within(1e-5), $"{expected} {key}");
            }
        }

        Assert.That(model.Optimizer.Iterations, Is.EqualTo(c["iterations"]!.GetValue<long>()), "iterations after TrainOnBatch");
        Assert.That(warnings.Count(w => w.Contains("does not have any trainable weights")), Is.EqualTo(c["warned"]!.GetValue<bool>() ? 2 : 0), "TrainOnBatch warns too");
        var weights = model.GetWeights();
        var kerasWeights = c["weights"]!.AsArray();
        Assert.That(weights, Has.Count.EqualTo(kerasWeights.Count));
        for (var i = 0; i < weights.Count; i++)
        {
            Assert.That(weights[i].Data, Is.EqualTo(FixtureJson.Flatten(kerasWeights[i]!).Select(v => (float)v)).Within(1e-5), $"weight {i}");
        }
    }

    private static Model Build(string name)
    {
        Model One(Layer layer, params int[] shape)
        {
            var input = new Input(shape);
            return new Model(input, layer.Call(input));
        }

        switch (name)
        {
            case "masking":
                return One(new Masking(0.0), 2, 2);
            case "max_pooling1d":
                return One(new MaxPooling1D(2), 4, 2);
            case "global_average_pooling1d":
                return One(new GlobalAveragePooling1D(), 3, 2);
            case "reshape_flatten":
            {
                var input = new Input(new[] { 2, 3 });
                return new Model(input, new Flatten().Call(new Reshape(new[] { 3, 2 }).Call(input)));
            }

            case "add":
            {
                var (a, b) = (new Input(new[] { 3 }), new Input(new[] { 3 }));
                return new Model(new[] { a, b }, new Add().Call(a, b));
            }

            case "layer_normalization":
                return One(new LayerNormalization(center: false, scale: false), 4);
            case "batch_normalization":
                return One(new BatchNormalization(center: false, scale: false), 3);
            case "frozen":
                return One(new Dense(2) { Trainable = false }, 3);
            default:
            {
                var input = new Input(new[] { 3 });
                var first = new Dense(3, activation: "tanh") { Trainable = false };
                return new Model(input, new Dense(1).Call(first.Call(input)));
            }
        }
    }

    private void Record(object? sender, string message) => warnings.Add(message);
}
