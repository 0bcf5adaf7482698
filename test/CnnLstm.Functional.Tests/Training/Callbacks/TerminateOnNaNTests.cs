using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Callbacks;

public class TerminateOnNaNTests
{
    [SetUp]
    public void Reset() => Backend.ClearSession();

    [Test]
    public void DivergingLoss_StopsTrainingAtTheFirstNonFiniteBatch()
    {
        // w -= lr * 200 w multiplies the single weight by about -2e5 per step, so the loss overflows float32 in a few steps.
        using var model = TinyModels.Linear(new float[,] { { 1f } });
        model.Compile(new SGD(learningRate: 1000), "mse");
        var terminate = new TerminateOnNaN();
        var recorder = new RecordingCallback();
        using var console = new ConsoleCapture();
        var history = model.Fit(new float[,] { { 10f } }, new float[] { 0f }, epochs: 100, verbose: 0, callbacks: new ICallback[] { terminate, recorder });
        Assert.That(terminate.Terminated, Is.True);
        Assert.That(history.Epoch, Has.Count.LessThan(20));
        Assert.That(double.IsFinite(history["loss"][^1]), Is.False);
        Assert.That(history["loss"].Take(history.Epoch.Count - 1).All(double.IsFinite), Is.True);
        Assert.That(console.Text, Does.Contain("Batch 0: Invalid loss, terminating training"));
    }

    [Test]
    public void FiniteLoss_DoesNotStop()
    {
        using var model = TinyModels.Linear(new float[,] { { 1f } });
        model.Compile(new SGD(learningRate: 0.001), "mse");
        var terminate = new TerminateOnNaN();
        var history = model.Fit(new float[,] { { 1f } }, new float[] { 0f }, epochs: 5, verbose: 0, callbacks: new[] { terminate });
        Assert.That(terminate.Terminated, Is.False);
        Assert.That(history.Epoch, Has.Count.EqualTo(5));
    }
}
