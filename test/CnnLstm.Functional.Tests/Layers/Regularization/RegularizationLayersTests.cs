using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using TorchSharp;

namespace KerasStyle.Tests.Layers.Regularization;

/// <summary>
/// GaussianDropout, AlphaDropout, SpatialDropout2D/3D, Identity and ActivityRegularization in training and inference
/// (keras/src/layers/regularization/*_test.py): inference is the identity; training draws follow Keras' formulas
/// (statistics on large inputs, as Keras' own tests check them), shapes and argument checks as Keras.
/// </summary>
public class RegularizationLayersTests
{
    private static float[] Run(Layer layer, torch.Tensor x, bool training)
    {
        using var scope = torch.NewDisposeScope();
        return layer.Invoke(x, training: training).data<float>().ToArray();
    }

    [Test]
    public void Inference_EveryDropoutLayer_IsTheIdentity()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 3, 4, 5);
        var expected = x.data<float>().ToArray();
        foreach (var layer in new Layer[] { new GaussianDropout(0.5), new AlphaDropout(0.5), new SpatialDropout2D(0.5), new SpatialDropout2D(0.5, "channels_first"), new Identity(), new ActivityRegularization(0.1, 0.1) })
        {
            Assert.That(Run(layer, x, training: false), Is.EqualTo(expected), layer.Name);
            layer.Dispose();
        }

        using var spatial3d = new SpatialDropout3D(0.5);
        var v = torch.randn(new long[] { 2, 2, 3, 4, 5 });
        Assert.That(Run(spatial3d, v, training: false), Is.EqualTo(v.data<float>().ToArray()));
    }

    [Test]
    public void Training_GaussianDropout_MultipliesByNoiseOfMeanOneAndKerasDeviation()
    {
        using var layer = new GaussianDropout(0.3);
        var y = Run(layer, torch.ones(200_000), training: true);
        var mean = y.Average();
        var std = Math.Sqrt(y.Select(v => (v - mean) * (v - mean)).Average());
        Assert.That(mean, Is.EqualTo(1.0).Within(0.01));
        Assert.That(std, Is.EqualTo(Math.Sqrt(0.3 / 0.7)).Within(0.01));
    }

    [Test]
    public void Training_AlphaDropout_KeepsMeanZeroAndVarianceOneOfStandardInputs_DroppedEntriesTakeOneValue()
    {
        using var layer = new AlphaDropout(0.2);
        using var scope = torch.NewDisposeScope();
        var y = Run(layer, torch.randn(200_000), training: true);
        var mean = y.Average();
        Assert.That(mean, Is.EqualTo(0).Within(0.01));
        Assert.That(y.Select(v => (v - mean) * (v - mean)).Average(), Is.EqualTo(1).Within(0.02));
        // Dropped entries all become a × α' + b.
        const double AlphaP = -1.6732632423543772 * 1.0507009873554805;
        var a = Math.Pow(0.8 * (1 + (0.2 * AlphaP * AlphaP)), -0.5);
        var dropped = (float)((a * AlphaP) + (-a * AlphaP * 0.2));
        Assert.That(y.Count(v => Math.Abs(v - dropped) < 1e-5) / 200_000.0, Is.EqualTo(0.2).Within(0.01));
    }

    [Test]
    public void Training_AlphaDropoutNoiseShape_SharesOneDrawAlongTheAxesOfSizeOne()
    {
        using var layer = new AlphaDropout(0.5, new int?[] { null, 1, null });
        var y = Run(layer, torch.zeros(64, 7, 3), training: true);
        for (var b = 0; b < 64; b++)
        {
            for (var f = 0; f < 3; f++)
            {
                var steps = Enumerable.Range(0, 7).Select(t => y[(b * 21) + (t * 3) + f]).ToArray();
                Assert.That(steps.Distinct().Count(), Is.EqualTo(1), $"sample {b}, feature {f}");
            }
        }
    }

    [TestCase("channels_last")]
    [TestCase("channels_first")]
    public void Training_SpatialDropout2D_DropsWholeChannels_AndScalesTheKeptOnes(string format)
    {
        using var layer = new SpatialDropout2D(0.5, format);
        var y = Run(layer, torch.ones(32, 4, 5, 6), training: true);
        var channels = format == "channels_last" ? 6 : 4;
        for (var b = 0; b < 32; b++)
        {
            for (var c = 0; c < channels; c++)
            {
                var values = Enumerable.Range(0, 120).Where(i => (format == "channels_last" ? i % 6 : i / 30) == c).Select(i => y[(b * 120) + i]).Distinct().ToArray();
                Assert.That(values, Has.Length.EqualTo(1), $"sample {b}, channel {c}");
                Assert.That(values[0], Is.EqualTo(0f).Or.EqualTo(2f), $"sample {b}, channel {c}");
            }
        }
    }

    [Test]
    public void Training_SpatialDropout3D_DropsWholeChannels()
    {
        using var layer = new SpatialDropout3D(0.5);
        var y = Run(layer, torch.ones(new long[] { 16, 2, 3, 4, 5 }), training: true);
        for (var b = 0; b < 16; b++)
        {
            for (var c = 0; c < 5; c++)
            {
                Assert.That(Enumerable.Range(0, 24).Select(p => y[(b * 120) + (p * 5) + c]).Distinct().Count(), Is.EqualTo(1));
            }
        }
    }

    [Test]
    public void Arguments_OutOfRange_AreRefusedBeforeAnyState_AndWrongRanksNameTheLayer()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GaussianDropout(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AlphaDropout(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AlphaDropout(0.1, new int?[] { null, 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SpatialDropout2D(1.0));
        Assert.Throws<ArgumentException>(() => _ = new SpatialDropout3D(0.1, "channels_middle"));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ActivityRegularization(-1));
        var x = new Input((4, 6), name: "x");
        var error = Assert.Throws<LayerInputException>(() => new SpatialDropout2D(0.1, name: "sd").Call(x));
        Assert.That(error!.Message, Does.Contain("SpatialDropout2D 'sd'").And.Contain("(None, 4, 6)"));
        error = Assert.Throws<LayerInputException>(() => new AlphaDropout(0.1, new int?[] { null, 3, 6 }, name: "ad").Call(x));
        Assert.That(error!.Message, Does.Contain("AlphaDropout 'ad'").And.Contain("(None, 4, 6)"));
        using var rateOne = new GaussianDropout(1.0);
        Assert.That(() => rateOne.Invoke(torch.ones(2, 3), training: true).Dispose(), Throws.InvalidOperationException.With.Message.Contains("rate 1"));
    }

    [Test]
    public void Identity_PassesIntegerIdsAndMasksOn()
    {
        var ids = new Input(new[] { 5 }, DType.Int64, name: "ids");
        var passed = new Identity(name: "id").Call(new Embedding(10, 3, maskZero: true).Call(ids));
        Assert.That(passed.HasMask, Is.True);
        var direct = new Identity(name: "id2").Call(ids);
        Assert.That(direct.DType, Is.EqualTo(DType.Int64));
        using var model = new Model(ids, new LSTM(2).Call(passed));
        Assert.That(model.SummaryText(), Does.Contain("id (Identity)"));
    }

    [Test]
    public void ActivityRegularization_Config_HasL1AndL2ButNoActivityRegularizer_AndLoadsBackWithItsPenalty()
    {
        var x = new Input(3, name: "x");
        using var model = new Model(x, new ActivityRegularization(0.5, 0.25, name: "ar").Call(x));
        var config = model.GetLayer("ar").GetConfig();
        Assert.That(config.ContainsKey("activity_regularizer"), Is.False);
        Assert.That(config["l1"]!.GetValue<double>(), Is.EqualTo(0.5));
        using var back = Model.FromJson(model.ToJson());
        var regularizer = (KerasStyle.Regularizers.L1L2)back.GetLayer("ar").ActivityRegularizer!;
        Assert.That((regularizer.L1Factor, regularizer.L2Factor), Is.EqualTo((0.5, 0.25)));
    }
}
