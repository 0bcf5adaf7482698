using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Layers.Recurrent;

/// <summary>
/// Recurrent dropout as Keras applies it: one mask per sequence, reused at every step, scaled by 1 / (1 - rate), only
/// in training. Keras' own masks come from its seed generator, which this library does not reproduce, so Keras is
/// checked in inference (LayerFamilyFixtureTests: models with dropout predict as Keras) and the mask rule here.
/// </summary>
public class RecurrentDropoutTests
{
    [Test]
    public void Dropout_OneMaskPerSequence_SameFeaturesDroppedAtEveryStep()
    {
        // A linear SimpleRNN with an identity kernel and no recurrence outputs its (dropped) input at every step.
        Utils.SetRandomSeed(3);
        var x = new Input(shape: (6, 8), name: "x");
        var rnn = new SimpleRNN(8, activation: "linear", useBias: false, returnSequences: true, name: "rnn", dropout: 0.5);
        using var model = new Model(x, rnn.Call(x));
        var identity = new float[64];
        for (var i = 0; i < 8; i++)
        {
            identity[(i * 8) + i] = 1;
        }

        rnn.SetWeights(new[] { new WeightArray(new[] { 8, 8 }, identity), new WeightArray(new[] { 8, 8 }, new float[64]) });
        var input = TorchSharp.torch.ones(4, 6, 8);
        using var output = rnn.Invoke(input, training: true);
        var values = output.data<float>().ToArray();
        for (var sample = 0; sample < 4; sample++)
        {
            for (var feature = 0; feature < 8; feature++)
            {
                var perStep = Enumerable.Range(0, 6).Select(t => values[(sample * 48) + (t * 8) + feature]).Distinct().ToArray();
                Assert.That(perStep, Has.Length.EqualTo(1), $"sample {sample}, feature {feature}: one mask for the whole sequence");
                Assert.That(perStep[0], Is.EqualTo(0f).Or.EqualTo(2f), "kept values scaled by 1 / (1 - 0.5)");
            }
        }

        Assert.That(values.Distinct(), Is.EquivalentTo(new[] { 0f, 2f }), "some features dropped, some kept");
        using var inference = rnn.Invoke(input, training: false);
        Assert.That(inference.data<float>().ToArray().Distinct(), Is.EqualTo(new[] { 1f }), "no dropout in inference");
    }

    [TestCase("LSTM")]
    [TestCase("GRU")]
    [TestCase("SimpleRNN")]
    public void RecurrentDropout_ChangesTrainingOnly_AndSavesItsRates(string kind)
    {
        Utils.SetRandomSeed(5);
        var x = new Input(shape: (5, 3), name: "x");
        Layer layer = kind switch
        {
            "LSTM" => new LSTM(4, dropout: 0.2, recurrentDropout: 0.5),
            "GRU" => new GRU(4, dropout: 0.2, recurrentDropout: 0.5),
            _ => new SimpleRNN(4, dropout: 0.2, recurrentDropout: 0.5),
        };
        using var model = new Model(x, layer.Call(x));
        using var input = TorchSharp.torch.rand(3, 5, 3);
        using var first = layer.Invoke(input, training: false);
        using var second = layer.Invoke(input, training: false);
        using var trained = layer.Invoke(input, training: true);
        Assert.That(first.data<float>().ToArray(), Is.EqualTo(second.data<float>().ToArray()));
        Assert.That(trained.data<float>().ToArray(), Is.Not.EqualTo(first.data<float>().ToArray()));
        var config = layer.GetConfig();
        Assert.That((config["dropout"]!.GetValue<double>(), config["recurrent_dropout"]!.GetValue<double>()), Is.EqualTo((0.2, 0.5)));
    }

    [Test]
    public void Rate_OutsideZeroToOne_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LSTM(4, dropout: 1.0))!;
        Assert.That(e.Message, Does.Contain("LSTM: dropout must be in [0, 1)"));
    }
}
