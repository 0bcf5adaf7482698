using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>Trains the tiny MLP on separable blobs with SGD, one batch per epoch, so every epoch changes the weights.</summary>
internal static class CallbackTesting
{
    public static History Fit(Model model, int epochs, params ICallback[] callbacks)
    {
        var (x, y) = TinyModels.Blobs(16);
        var (vx, vy) = TinyModels.Blobs(6, seed: 4);
        return model.Fit(x, y, batchSize: 16, epochs: epochs, verbose: 0, validationData: (vx, vy), callbacks: callbacks);
    }

    public static Model CompiledMlp(double learningRate = 0.1)
    {
        var model = TinyModels.Mlp();
        model.Compile(new SGD(learningRate: learningRate), "binary_crossentropy", new[] { "accuracy" });
        return model;
    }
}
