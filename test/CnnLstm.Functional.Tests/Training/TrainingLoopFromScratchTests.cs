using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Losses;
using KerasStyle.Training.Metrics;
using KerasStyle.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Training;

/// <summary>
/// docs/training.md's training loop written from scratch (<see cref="TrainingLoopFromScratch"/>), compiled and run: it
/// trains, one step of it is <c>TrainOnBatch</c>'s step, and it releases every tensor it makes.
/// </summary>
public class TrainingLoopFromScratchTests
{
    private const int Features = 4;
    private const int Classes = 3;

    private static long LiveOnThisThread => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(21);
    }

    [Test]
    public void DocExample_IsThisTestProjectsClass_Verbatim() =>
        DocExamples.AssertShownVerbatim("training.md", "Training/TrainingLoopFromScratch.cs");

    [Test]
    public void Train_ThreeClusters_LossFallsAndValidationAccuracyRises()
    {
        using var model = Classifier();
        using var optimizer = new Adam(learningRate: 0.01);
        var (x, y) = Clusters(60, seed: 1);
        var (xVal, yVal) = Clusters(30, seed: 2);
        using (x)
        using (y)
        using (xVal)
        using (yVal)
        {
            var history = TrainingLoopFromScratch.Train(model, optimizer, new CategoricalCrossentropy(fromLogits: true),
                new CategoricalAccuracy(), new CategoricalAccuracy(), x, y, xVal, yVal, epochs: 10, batchSize: 16);

            TestContext.Out.WriteLine(string.Join("\n", history.Select((h, e) => $"epoch {e}: loss {h.Loss:F4}, accuracy {h.Metric:F3}, val accuracy {h.ValMetric:F3}")));
            Assert.That(history, Has.Count.EqualTo(10));
            Assert.That(history[^1].Loss, Is.LessThan(history[0].Loss / 2), "the mean training loss of the last epoch against the first");
            Assert.That(history[^1].ValMetric, Is.GreaterThan(history[0].ValMetric).And.GreaterThanOrEqualTo(0.9), "validation accuracy on three well separated clusters");
            Assert.That(optimizer.Iterations, Is.EqualTo(10 * 4), "60 samples in batches of 16: 4 steps per epoch");
        }
    }

    [TestCase("adam")]
    [TestCase("sgd")]
    [TestCase("rmsprop")]
    public void OneStep_GivesTheWeightsOfTrainOnBatch(string optimizerName)
    {
        using var looped = Classifier();
        using var trained = Classifier();
        trained.SetWeights(looped.GetWeights());
        trained.Compile(optimizerName, new CategoricalCrossentropy(fromLogits: true));
        using Optimizer optimizer = optimizerName switch { "adam" => new Adam(), "sgd" => new SGD(), _ => new RMSprop() };
        var initial = looped.GetWeights();
        var (x, y) = Clusters(16, seed: 3);
        using (x)
        using (y)
        {
            trained.TrainOnBatch(x, y);
            // One epoch of one batch; the validation pass changes no weight.
            TrainingLoopFromScratch.Train(looped, optimizer, new CategoricalCrossentropy(fromLogits: true),
                new CategoricalAccuracy(), new CategoricalAccuracy(), x, y, x, y, epochs: 1, batchSize: 16);
        }

        Assert.That(optimizer.GetType(), Is.EqualTo(trained.Optimizer!.GetType()));
        Assert.That(optimizer.Iterations, Is.EqualTo(trained.Optimizer!.Iterations).And.EqualTo(1));
        var (expected, actual) = (trained.GetWeights(), looped.GetWeights());
        Assert.That(actual.Count, Is.EqualTo(6));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.That(actual[i].Data.ToArray(), Is.EqualTo(expected[i].Data.ToArray()), $"weight {i}, exactly: the same forward pass, loss, gradients and update");
            Assert.That(actual[i].Data.ToArray(), Is.Not.EqualTo(initial[i].Data.ToArray()), $"weight {i} moved");
        }
    }

    [Test]
    public void Train_ManyEpochs_KeepsLiveTensorsFlat()
    {
        using var model = Classifier();
        using var optimizer = new Adam();
        var (x, y) = Clusters(60, seed: 4);
        using (x)
        using (y)
        {
            void Work(int epochs) => TrainingLoopFromScratch.Train(model, optimizer, new CategoricalCrossentropy(fromLogits: true),
                new CategoricalAccuracy(), new CategoricalAccuracy(), x, y, x, y, epochs, batchSize: 16);

            // Warm-up: the first step makes the optimizer's slots (kept), the model's eager-call layer and the grads.
            Work(epochs: 2);
            Settle();
            var (live, total) = (LiveOnThisThread, Tensor.TotalCount);

            Work(epochs: 50);
            Settle();
            TestContext.Out.WriteLine($"live tensors {live} -> {LiveOnThisThread}; process tensors {total} -> {Tensor.TotalCount}");
            Assert.That(optimizer.Iterations, Is.EqualTo(52 * 4));
            Assert.That(LiveOnThisThread, Is.EqualTo(live), "tensors created and not disposed on this thread over 200 steps");
            Assert.That(Tensor.TotalCount, Is.LessThanOrEqualTo(total), "live tensors in the process");
        }
    }

    [Test]
    public void OneStep_OfAModelWithAnEmbedding_GivesTheWeightsOfTrainOnBatch()
    {
        // Token ids -> Embedding -> mean over steps -> logits: the loop must see the embeddings' gradient (dense, on the
        // variable, as Keras' model(x) gives it), not only the trainer's gradient by rows.
        Model Build()
        {
            var ids = new Input(shape: 5, dtype: DType.Int64);
            var vectors = new GlobalAveragePooling1D().Call(new Embedding(10, 4).Call(ids));
            return new Model(ids, new Dense(Classes).Call(vectors));
        }

        using var looped = Build();
        using var trained = Build();
        trained.SetWeights(looped.GetWeights());
        trained.Compile(new Adam(), new CategoricalCrossentropy(fromLogits: true));
        using var optimizer = new Adam();
        using (var x = tensor(Enumerable.Range(0, 40).Select(i => (long)(i * 7 % 10)).ToArray(), 8, 5))
        using (var y = tensor(Enumerable.Range(0, 8 * Classes).Select(i => i / Classes % Classes == i % Classes ? 1f : 0f).ToArray(), 8, Classes))
        {
            trained.TrainOnBatch(x, y);
            TrainingLoopFromScratch.Train(looped, optimizer, new CategoricalCrossentropy(fromLogits: true),
                new CategoricalAccuracy(), new CategoricalAccuracy(), x, y, x, y, epochs: 1, batchSize: 8);
        }

        var (expected, actual) = (trained.GetWeights(), looped.GetWeights());
        Assert.That(actual.Select(w => w.Data.ToArray()), Is.EqualTo(expected.Select(w => w.Data.ToArray())), "embeddings, kernel and bias");
    }

    [Test]
    public void TrainableWeights_FollowTrainable_AsKeras()
    {
        using var model = Classifier();
        Assert.That(model.TrainableWeights.Select(w => w.FullName), Is.EqualTo(model.Layers.SelectMany(l => l.Weights).Select(w => w.FullName)));
        Assert.That(model.NonTrainableWeights, Is.Empty);

        var hidden = model.Layers[1];
        hidden.Trainable = false;
        Assert.That(hidden.TrainableWeights, Is.Empty);
        Assert.That(hidden.NonTrainableWeights, Is.EqualTo(hidden.Weights));
        Assert.That(model.TrainableWeights, Has.Count.EqualTo(4), "the other two Dense layers' kernels and biases");
        Assert.That(model.NonTrainableWeights, Is.EqualTo(hidden.Weights));
    }

    /// <summary>The guide's model, smaller: two relu Dense layers and a Dense of logits.</summary>
    private static Model Classifier()
    {
        var inputs = new Input(shape: Features, name: "features");
        var x1 = new Dense(16, activation: "relu").Call(inputs);
        var x2 = new Dense(16, activation: "relu").Call(x1);
        return new Model(inputs, new Dense(Classes, name: "predictions").Call(x2));
    }

    /// <summary>Three clusters around distinct centres, one-hot targets; the class of sample i is i mod 3.</summary>
    private static (Tensor X, Tensor Y) Clusters(int samples, int seed)
    {
        var random = new Random(seed);
        var x = new float[samples * Features];
        var y = new float[samples * Classes];
        for (var i = 0; i < samples; i++)
        {
            var label = i % Classes;
            y[(i * Classes) + label] = 1;
            for (var f = 0; f < Features; f++)
            {
                x[(i * Features) + f] = (f % Classes == label ? 2f : -1f) + (float)(random.NextDouble() - 0.5);
            }
        }

        return (tensor(x, samples, Features), tensor(y, samples, Classes));
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
