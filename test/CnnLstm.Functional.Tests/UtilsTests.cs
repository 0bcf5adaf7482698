using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Tests.Training;

namespace KerasStyle.Tests;

public class UtilsTests
{
    [Test]
    public void SetRandomSeed_FixesInitialWeights()
    {
        Assert.That(Run(7).Initial, Is.EqualTo(Run(7).Initial));
        Assert.That(Run(7).Initial, Is.Not.EqualTo(Run(8).Initial));
    }

    [Test]
    public void SetRandomSeed_FixesShuffling()
    {
        Assert.That(Run(7).BatchLosses, Is.EqualTo(Run(7).BatchLosses));
    }

    [Test]
    public void SetRandomSeed_FixesDropoutMasks_SoTrainingIsReproducible()
    {
        var first = Run(7);
        var second = Run(7);
        Assert.That(second.Trained, Is.EqualTo(first.Trained));
        Assert.That(second.Predictions, Is.EqualTo(first.Predictions));
    }

    [Test]
    public void DifferentSeeds_ShuffleDifferently()
    {
        // Same initial weights (set explicitly), different seeds before Fit: only shuffling and dropout differ.
        Assert.That(Run(7, fixedWeights: true, fitSeed: 1).BatchLosses, Is.Not.EqualTo(Run(7, fixedWeights: true, fitSeed: 2).BatchLosses));
    }

    private static (float[] Initial, float[] Trained, List<double> BatchLosses, Array Predictions) Run(int seed, bool fixedWeights = false, int? fitSeed = null)
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(seed);
        var input = new Input(new[] { 2 });
        var h = new Dropout(0.5).Call(new Dense(6, activation: "tanh").Call(input));
        using var model = new Model(input, new Dense(1, activation: "sigmoid").Call(h));
        if (fixedWeights)
        {
            model.SetWeights(model.GetWeights().Select(w => new WeightArray(w.Shape.ToArray(), w.Data.Select((_, i) => 0.1f * ((i % 5) - 2)).ToArray())).ToArray());
        }

        var initial = TinyModels.Flat(model);
        if (fitSeed is int s)
        {
            Utils.SetRandomSeed(s);
        }

        model.Compile("adam", "binary_crossentropy");
        var (x, y) = TinyModels.Blobs(24);
        var recorder = new RecordingCallback();
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, callbacks: new[] { recorder });
        return (initial, TinyModels.Flat(model), recorder.BatchLosses, model.Predict(x));
    }
}
