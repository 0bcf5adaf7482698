using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

public class ModelEvaluatePredictTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(19);
    }

    [Test]
    public void Evaluate_ReturnsLossThenMetricsByName_InInferenceMode()
    {
        using var model = DropoutModel();
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy", "mse" });
        var (x, y) = TinyModels.Blobs(10);
        var first = model.Evaluate(x, y);
        Assert.That(first.Keys, Is.EqualTo(new[] { "loss", "accuracy", "mse" }));
        Assert.That(model.Evaluate(x, y), Is.EqualTo(first), "dropout is off, so evaluation is deterministic");
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(64)]
    public void Evaluate_DoesNotDependOnBatchSize(int batchSize)
    {
        using var model = DropoutModel();
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        var (x, y) = TinyModels.Blobs(10);
        var whole = model.Evaluate(x, y, batchSize: 10);
        var batched = model.Evaluate(x, y, batchSize: batchSize);
        Assert.That(batched["loss"], Is.EqualTo(whole["loss"]).Within(1e-6));
        Assert.That(batched["accuracy"], Is.EqualTo(whole["accuracy"]).Within(1e-6));
    }

    [Test]
    public void Predict_DropoutOff_IsDeterministicAndEqualsTheLayersWithoutDropout()
    {
        using var model = DropoutModel();
        var x = new float[,] { { 0.5f, -1f }, { 2f, 0.25f }, { -0.3f, 0.8f } };
        var first = (float[,])model.Predict(x);
        Assert.That(model.Predict(x), Is.EqualTo(first));
        var w = model.GetWeights();
        for (var i = 0; i < 3; i++)
        {
            // dense_1 (2 -> 4, tanh), then dense_2 (4 -> 1, sigmoid); dropout would scale by 1 / (1 - rate) if it were on.
            var output = (double)w[3].Data[0];
            for (var u = 0; u < 4; u++)
            {
                var hidden = Math.Tanh((x[i, 0] * w[0].Data[u]) + (x[i, 1] * w[0].Data[4 + u]) + w[1].Data[u]);
                output += hidden * w[2].Data[u];
            }

            Assert.That(first[i, 0], Is.EqualTo(1 / (1 + Math.Exp(-output))).Within(1e-6));
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(5)]
    public void Predict_InBatches_GivesTheSameRowsInOrder(int batchSize)
    {
        using var model = DropoutModel();
        var (x, _) = TinyModels.Blobs(5);
        Assert.That(model.Predict(x, batchSize: batchSize), Is.EqualTo(model.Predict(x, batchSize: 32)).Within(1e-6));
    }

    [Test]
    public void Predict_AfterTrainingWithDropout_IsStillDeterministic()
    {
        using var model = DropoutModel();
        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(20);
        model.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0);
        Assert.That(model.Predict(x), Is.EqualTo(model.Predict(x)));
    }

    [Test]
    public void PredictTensors_OneBatchOfAModelReturningItsInput_GivesANewTensorTheCallerCanDispose()
    {
        var input = new Input(new[] { 3 });
        using var model = new Model(input, input);
        using var x = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
        var outputs = model.PredictTensors(new[] { x });
        Assert.That(outputs[0], Is.Not.SameAs(x));
        outputs.ForEach(t => t.Dispose());
        Assert.That(x.data<float>().ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }), "the input is still the caller's and alive");
    }

    [Test]
    public void PredictTensors_MatchesPredictOnArrays()
    {
        using var model = DropoutModel();
        var (x, _) = TinyModels.Blobs(4);
        using var xt = tensor(x.Cast<float>().ToArray(), new long[] { 4, 2 });
        var outputs = model.PredictTensors(new[] { xt }, batchSize: 3);
        try
        {
            Assert.That(outputs[0].shape, Is.EqualTo(new long[] { 4, 1 }));
            Assert.That(outputs[0].data<float>().ToArray(), Is.EqualTo(((float[,])model.Predict(x, batchSize: 3)).Cast<float>().ToArray()));
        }
        finally
        {
            outputs.ForEach(t => t.Dispose());
        }
    }

    private static Model DropoutModel()
    {
        var input = new Input(new[] { 2 });
        var h = new Dropout(0.5).Call(new Dense(4, activation: "tanh").Call(input));
        return new Model(input, new Dense(1, activation: "sigmoid").Call(h));
    }
}
