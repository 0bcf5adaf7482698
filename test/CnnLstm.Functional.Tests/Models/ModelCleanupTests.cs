using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Models;

/// <summary>Smaller guarantees: who disposes the optimizer, and what errors name.</summary>
public class ModelCleanupTests
{
    [SetUp]
    public void Seed() => Backend.ClearSession();

    [Test]
    public void Dispose_ReleasesAnOptimizerTheModelCreated_NotOneTheCallerPassed()
    {
        var (x, y) = ModelFitTests.SineWindows(8);
        var ownLive = LiveTensorsAfter(optimizer: null, x, y);
        var callerLive = LiveTensorsAfter(optimizer: new Adam(), x, y);
        // Adam keeps two slots per weight: the caller's optimizer still holds them after the model is gone.
        Assert.That(callerLive - ownLive, Is.EqualTo(2 * 7));
    }

    [Test]
    public void Fit_SparseLossWithFractionalClassIds_ThrowsBeforeTraining()
    {
        var input = new Input(new[] { 2 });
        using var model = new Model(input, new Dense(3, activation: "softmax").Call(input));
        model.Compile("sgd", "sparse_categorical_crossentropy");
        var before = model.GetWeights().SelectMany(w => w.Data).ToArray();
        var e = Assert.Throws<ArgumentException>(() => model.Fit(new float[,] { { 1, 2 }, { 3, 4 } }, new[] { 0f, 1.5f }, verbose: 0));
        Assert.That(e!.Message, Does.Contain("whole numbers").And.Contain(model.Outputs[0].Layer.Name));
        Assert.That(model.GetWeights().SelectMany(w => w.Data), Is.EqualTo(before));
    }

    [Test]
    public void Predict_WrongArrayType_NamesItAsCSharpSpellsIt()
    {
        var input = new Input(new[] { 3 }, DType.Int64);
        using var model = new Model(input, new Embedding(10, 2).Call(input));
        var e = Assert.Throws<ArgumentException>(() => model.Predict(new float[1, 3]));
        Assert.That(e!.Message, Does.Contain("float[,]").And.Not.Contain("Single"));
    }

    private static long LiveTensorsAfter(Optimizer? optimizer, float[,,] x, float[] y)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var start = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var model = CnnLstmModels.Regression())
        {
            if (optimizer is null)
            {
                model.Compile("adam", "mse");
            }
            else
            {
                model.Compile(optimizer, "mse");
            }

            model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var live = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount - start;
        optimizer?.Dispose();
        return live;
    }
}
