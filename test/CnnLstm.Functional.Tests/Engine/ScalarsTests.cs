using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// Engine/Scalars.cs gives the same numbers as the TorchSharp calls it replaces (which made temporary Scalars): the
/// activations that now call libtorch's kernels with cached Scalars, integer Scalars on integer tensors, the sign of 0.
/// </summary>
public class ScalarsTests
{
    private static Tensor Inputs()
    {
        // Both sides of softplus' threshold (20), of the shrink lambdas (±0.5), of sparse_plus' knees (±1), and 0, -0.
        var values = new[] { -30f, -21f, -5f, -1.5f, -1f, -0.75f, -0.5f, -0.25f, -0f, 0f, 0.25f, 0.5f, 0.75f, 1f, 1.5f, 5f, 19.9f, 20f, 20.1f, 30f };
        var random = new Random(7);
        return tensor(values.Concat(Enumerable.Range(0, 200).Select(_ => (float)((random.NextDouble() - 0.5) * 60))).ToArray());
    }

    [TestCase("softplus")]
    [TestCase("mish")]
    [TestCase("softsign")]
    [TestCase("soft_shrink")]
    [TestCase("hard_shrink")]
    [TestCase("elu")]
    [TestCase("celu")]
    [TestCase("leaky_relu")]
    [TestCase("hard_tanh")]
    [TestCase("squareplus")]
    [TestCase("sparse_plus")]
    [TestCase(Activations.Keras2HardSigmoid)]
    public void Activation_ForwardAndGradient_AreBitIdenticalToTorchSharpsOwnCall(string name)
    {
        Func<Tensor, Tensor> torchSharps = name switch
        {
            "softplus" => x => nn.functional.softplus(x),
            "mish" => x => nn.functional.mish(x),
            "softsign" => x => nn.functional.softsign(x),
            "soft_shrink" => x => nn.functional.softshrink(x, 0.5),
            "hard_shrink" => x => nn.functional.hardshrink(x, 0.5),
            "elu" => x => nn.functional.elu(x, 1.0),
            "celu" => x => nn.functional.celu(x, 1.0),
            "leaky_relu" => x => nn.functional.leaky_relu(x, 0.2),
            // Keras 3 (torch backend) calls torch's hardtanh: clamp's values, gradient 1 only strictly inside (-1, 1)
            // (checked against Keras in ActivationsTests). TorchSharp 0.107's own nn.functional.hardtanh returns -30
            // at -30, so the reference is written out with TorchSharp's operators.
            "hard_tanh" => x => where((x > -1.0) & (x < 1.0), x, x.clamp(-1.0, 1.0).detach()),
            "squareplus" => x => (x + (x.square() + 4).sqrt()) / 2,
            "sparse_plus" => x => where(x <= -1, zeros_like(x), where(x >= 1, x, (x + 1).square() / 4)),
            _ => x => (x * 0.2 + 0.5).clamp(0.0, 1.0),
        };
        using var scope = NewDisposeScope();
        var (ours, ourGrad) = ValueAndGradient(x => Activations.Apply(name, x));
        var (theirs, theirGrad) = ValueAndGradient(torchSharps);

        Assert.Multiple(() =>
        {
            Assert.That(ours.dtype, Is.EqualTo(theirs.dtype));
            Assert.That(ours.data<float>().ToArray(), Is.EqualTo(theirs.data<float>().ToArray()), "forward");
            Assert.That(ourGrad.data<float>().ToArray(), Is.EqualTo(theirGrad.data<float>().ToArray()), "gradient");
        });
    }

    [Test]
    public void OfInt_OnAnIntegerTensor_KeepsItInteger_WhereOfPromotes()
    {
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 1, 2, 3 });

        Assert.Multiple(() =>
        {
            Assert.That(ids.mul(Scalars.OfInt(2)).dtype, Is.EqualTo(ScalarType.Int64));
            Assert.That(ids.mul(Scalars.OfInt(2)).data<long>().ToArray(), Is.EqualTo(new long[] { 2, 4, 6 }));
            Assert.That(ids.mul(Scalars.Of(2)).dtype, Is.EqualTo(ScalarType.Float32));
            Assert.That(ids.add(ids, Scalars.IntOne).data<long>().ToArray(), Is.EqualTo(new long[] { 2, 4, 6 }));
        });
    }

    [Test]
    public void Of_KeepsNegativeZeroApartFromZero()
    {
        using var scope = NewDisposeScope();
        var one = ones(1);

        Assert.Multiple(() =>
        {
            Assert.That(Scalars.Of(-0.0), Is.Not.SameAs(Scalars.Of(0.0)));
            Assert.That(double.IsNegative(one.mul(Scalars.Of(-0.0)).item<float>()), Is.True);
            Assert.That(double.IsNegative(one.mul(Scalars.Of(0.0)).item<float>()), Is.False);
        });
    }

    private static (Tensor Value, Tensor Gradient) ValueAndGradient(Func<Tensor, Tensor> f)
    {
        var x = Inputs().requires_grad_(true);
        var y = f(x);
        y.sum().backward();
        return (y.detach(), x.grad!.clone());
    }
}
