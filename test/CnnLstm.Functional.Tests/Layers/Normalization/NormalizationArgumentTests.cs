using KerasStyle.Layers;
using KerasStyle.Models;
using TorchSharp;

namespace KerasStyle.Tests.Layers.Normalization;

/// <summary>
/// Argument and input checks of GroupNormalization, LayerNormalization, UnitNormalization and RMSNormalization, and
/// the cases of Keras' own tests (keras/src/layers/normalization/*_test.py) that assert numbers.
/// </summary>
public class NormalizationArgumentTests
{
    [Test]
    public void GroupNormalization_GroupsThatDoNotDivideOrExceedTheChannels_AreRefusedNamingTheShape()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GroupNormalization(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GroupNormalization(-2));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GroupNormalization(2, axis: 0));
        var x = new Input((4, 6), name: "x");
        var error = Assert.Throws<LayerInputException>(() => new GroupNormalization(4, name: "gn").Call(x));
        Assert.That(error!.Message, Does.Contain("GroupNormalization 'gn'").And.Contain("(None, 4, 6)").And.Contain("(4)").And.Contain("(6)"));
        error = Assert.Throws<LayerInputException>(() => new GroupNormalization(7, name: "gn2").Call(x));
        Assert.That(error!.Message, Does.Contain("cannot be more than"));
    }

    [Test]
    public void GroupNormalization_OneGroupPerChannel_IsInstanceNormalisation_AsKerasTest()
    {
        // keras/src/layers/normalization/group_normalization_test.py, test_correctness_instance_norm: groups -1 on
        // (2, 4, 2) inputs of values 0..15 normalises each channel of each sample over the steps.
        using var layer = new GroupNormalization(-1, epsilon: 1e-3);
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(16, dtype: torch.float32).reshape(2, 4, 2);
        var y = layer.Invoke(x);
        var xc = x.data<float>().ToArray();
        var yc = y.data<float>().ToArray();
        for (var b = 0; b < 2; b++)
        {
            for (var c = 0; c < 2; c++)
            {
                var values = Enumerable.Range(0, 4).Select(t => (double)xc[(b * 8) + (t * 2) + c]).ToArray();
                var mean = values.Average();
                var variance = values.Select(v => (v - mean) * (v - mean)).Average();
                for (var t = 0; t < 4; t++)
                {
                    Assert.That(yc[(b * 8) + (t * 2) + c], Is.EqualTo((values[t] - mean) / Math.Sqrt(variance + 1e-3)).Within(1e-5));
                }
            }
        }

        Assert.That(layer.Groups, Is.EqualTo(2), "groups -1 becomes the channel count when built, as Keras");
    }

    [Test]
    public void LayerNormalization_BadAxes_AreRefused_AndTheBuiltAxisListIsResolvedAndSorted()
    {
        Assert.Throws<ArgumentException>(() => _ = new LayerNormalization(axis: new[] { 1, 1 }));
        Assert.Throws<ArgumentException>(() => _ = new LayerNormalization(axis: System.Array.Empty<int>()));
        var x = new Input((3, 4, 5), name: "x");
        var error = Assert.Throws<LayerInputException>(() => new LayerNormalization(axis: new[] { 0 }, name: "ln0").Call(x));
        Assert.That(error!.Message, Does.Contain("LayerNormalization 'ln0'").And.Contain("(None, 3, 4, 5)"));
        Assert.Throws<LayerInputException>(() => new LayerNormalization(axis: new[] { 4 }, name: "ln4").Call(x));
        var layer = new LayerNormalization(axis: new[] { -1, 1 }, name: "ln");
        using var model = new Model(x, layer.Call(x));
        Assert.That(layer.Axis, Is.EqualTo(new[] { 1, 3 }));
        Assert.That(layer.GetConfig()["axis"]!.ToJsonString(), Is.EqualTo("[1,3]"));
        Assert.That(layer.Weights.Select(w => w.Shape), Is.EqualTo(new[] { new[] { 3, 5 }, new[] { 3, 5 } }));
    }

    [Test]
    public void LayerNormalization_RmsScaling_HasGammaOnly_ScalesByTheVariance_AndWarnsAsKeras()
    {
        var warnings = new List<string>();
        void Collect(object? sender, string message) => warnings.Add(message);
        Warnings.Raised += Collect;
        try
        {
            using var layer = new LayerNormalization(rmsScaling: true, name: "ln_rms");
            Assert.That(warnings.Single(), Does.Contain("ln_rms").And.Contain("RMSNormalization"));
            using var scope = torch.NewDisposeScope();
            var x = torch.tensor(new float[] { 1, 2, 3, 6 }).reshape(1, 4);
            var y = layer.Invoke(x).data<float>().ToArray();
            Assert.That(layer.Weights.Select(w => w.Name), Is.EqualTo(new[] { "gamma" }));
            // mean 3, variance 3.5: x / sqrt(3.5 + 1e-3), the mean not subtracted.
            Assert.That(y, Is.EqualTo(new[] { 1, 2, 3, 6 }.Select(v => (float)(v / Math.Sqrt(3.501)))).Within(1e-6));
        }
        finally
        {
            Warnings.Raised -= Collect;
        }
    }

    [Test]
    public void RMSNormalization_AxesThatAreNotTheLast_AreRefusedAsKerasCannotApplyThem_AndItsNumbersAreKerasTest()
    {
        var x = new Input((3, 4), name: "x");
        var error = Assert.Throws<LayerInputException>(() => new RMSNormalization(new[] { 1 }, name: "rms1").Call(x));
        Assert.That(error!.Message, Does.Contain("RMSNormalization 'rms1'").And.Contain("(None, 3, 4)"));
        Assert.Throws<LayerInputException>(() => new RMSNormalization(new[] { -1, 1 }, name: "rms_mixed").Call(x));
        // keras/src/layers/normalization/rms_normalization_test.py, test_correctness: x × rsqrt(mean(x²) + eps).
        using var layer = new RMSNormalization(epsilon: 1e-6);
        using var scope = torch.NewDisposeScope();
        var input = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }).reshape(2, 4);
        var y = layer.Invoke(input).data<float>().ToArray();
        var rows = new[] { new double[] { 1, 2, 3, 4 }, new double[] { 5, 6, 7, 8 } };
        var expected = rows.SelectMany(r => r.Select(v => (float)(v / Math.Sqrt(r.Select(q => q * q).Average() + 1e-6))));
        Assert.That(y, Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void UnitNormalization_GivesUnitNorms_AndAZeroVectorStaysZero()
    {
        // keras/src/layers/normalization/unit_normalization_test.py, test_correctness: norms of 1 over the axis.
        using var layer = new UnitNormalization(new[] { 1, 2 });
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(3, 4, 2);
        x[0] = torch.zeros(4, 2);
        var y = layer.Invoke(x);
        var norms = y.square().sum(new long[] { 1, 2 }).sqrt().data<float>().ToArray();
        Assert.That(norms, Is.EqualTo(new[] { 0f, 1f, 1f }).Within(1e-6));
        var error = Assert.Throws<LayerInputException>(() => new UnitNormalization(3, name: "un").Call(new Input((4, 2), name: "x")));
        Assert.That(error!.Message, Does.Contain("UnitNormalization 'un'").And.Contain("(None, 4, 2)"));
    }
}
