using KerasStyle.Models;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// No temporary TorchSharp Scalar reaches libtorch from the code that Fit and Predict run (Engine/Scalars.cs): such a
/// temporary can be finalized by a garbage collection another thread starts during the native call, and libtorch then
/// fails with "INTERNAL ASSERT FAILED at c10/core/Scalar.h" (seen once in ModelConcurrencyTests with Adam). The race
/// itself is timing-dependent (tools/scalar-race reproduces it in seconds); the IL of the library is not.
/// </summary>
public class ScalarTemporariesTests
{
    [TestCase("KerasStyle.Layers.Dense")]
    [TestCase("KerasStyle.Layers.LayerWeight")]
    [TestCase("KerasStyle.Training.Optimizers.")]
    [TestCase("KerasStyle.Training.Losses.Loss")]
    [TestCase("KerasStyle.Training.Losses.MeanSquaredError")]
    [TestCase("KerasStyle.Training.Trainer")]
    public void FitAndPredictPaths_PassNoTemporaryScalarToLibtorch(string typePrefix)
    {
        var found = ScalarTemporaries.In(typeof(Model).Assembly, type => type.StartsWith(typePrefix, StringComparison.Ordinal) && type != "KerasStyle.Engine.Scalars");

        Assert.That(found, Is.Empty, "these methods hand libtorch a Scalar that nothing keeps alive; use Engine/Scalars.cs");
    }

    [Test]
    public void Library_MakesNoTemporaryScalarAnywhere()
    {
        // Every type, not only the Fit and Predict paths above: any layer, loss, metric or activation may run beside
        // another thread's Fit or Predict.
        var found = ScalarTemporaries.In(typeof(Model).Assembly, type => type != "KerasStyle.Engine.Scalars");

        Assert.That(found, Is.Empty, "these methods hand libtorch a Scalar that nothing keeps alive; use Engine/Scalars.cs:\n" + string.Join("\n", found));
    }

    [Test]
    public void Scanner_FindsTheImplicitConversionsAndTorchSharpsOwnTemporaries()
    {
        // The scanner itself: `a + b` (TorchSharp's add(Tensor) makes alpha 1) and `t.mul_(0.9)` are found, Scalars' are not.
        var found = ScalarTemporaries.In(typeof(ScalarTemporariesTests).Assembly, type => type.EndsWith("+Samples", StringComparison.Ordinal));

        Assert.That(found.Select(f => f.Split('(')[0]), Is.EquivalentTo(new[] { "KerasStyle.Tests.Engine.ScalarTemporariesTests+Samples.Sum", "KerasStyle.Tests.Engine.ScalarTemporariesTests+Samples.Decay" }));
    }

    private static class Samples
    {
        public static TorchSharp.torch.Tensor Sum(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) => a + b;

        public static TorchSharp.torch.Tensor Decay(TorchSharp.torch.Tensor a) => a.mul_(0.9);

        public static TorchSharp.torch.Tensor Kept(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) => a.add(b, KerasStyle.Engine.Scalars.One);
    }
}
