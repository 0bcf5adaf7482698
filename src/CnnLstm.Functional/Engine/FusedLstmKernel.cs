using System.Globalization;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// libtorch's fused LSTM (<c>nn.LSTM</c>, which runs oneDNN's RNN primitive on CPU) with autograd on (Fit,
/// TrainOnBatch): oneDNN's <c>forward_training</c> kernel and its backward, checked here. With autograd off the
/// library runs its own <see cref="LstmInferenceKernel"/> instead of oneDNN's <c>forward_inference</c> kernel, which
/// was measured wrong by 6.4e-3 after one step on AMD Zen 5 while the training kernel was right (issue 10).
/// </summary>
internal static class FusedLstmKernel
{
    /// <summary>Name of the check of the kernel that runs with autograd on (Fit, TrainOnBatch), gradients included.</summary>
    public const string Training = "lstm-fused-training";

    private const int Batch = 3;
    private const int Steps = 5;

    /// <summary>Whether the fused training kernel and its gradients give the reference maths for (input, units).</summary>
    public static bool Trusted(int input, int units) =>
        KernelChecks.Trusted(Training, new KernelCase(input, units), 1e-4, "the step-by-step LSTM cell",
            static c => string.Create(CultureInfo.InvariantCulture, $"input {c.A}, units {c.B}, batch {Batch}, {Steps} steps"), static c => Measure(c.A, c.B));

    private static double Measure(int input, int units)
    {
        var random = new Random(20261130 + input + (1000 * units));
        var x = KernelChecks.Uniform(random, Batch * Steps * input, 1.0);
        var scale = 1.0 / Math.Sqrt(units);
        var wIh = KernelChecks.Uniform(random, 4 * units * input, scale);
        var wHh = KernelChecks.Uniform(random, 4 * units * units, scale);
        var bIh = KernelChecks.Uniform(random, 4 * units, scale);
        double[] Reference(IReadOnlyList<double[]> a) => ReferenceMaths.Lstm(a[0], a[1], a[2], a[3], Batch, Steps, input, units).Sequence;

        using var scope = NewDisposeScope();
        using var lstm = nn.LSTM(input, units, numLayers: 1, bias: true, batchFirst: true);
        var parameters = lstm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            parameters["weight_ih_l0"].copy_(tensor(wIh, new long[] { 4 * units, input }));
            parameters["weight_hh_l0"].copy_(tensor(wHh, new long[] { 4 * units, units }));
            parameters["bias_ih_l0"].copy_(tensor(bIh, new long[] { 4 * units }));
            parameters["bias_hh_l0"].zero_();
        }

        parameters["bias_hh_l0"].requires_grad_(false);
        var expected = ReferenceMaths.Lstm(KernelChecks.ToDouble(x), KernelChecks.ToDouble(wIh), KernelChecks.ToDouble(wHh), KernelChecks.ToDouble(bIh), Batch, Steps, input, units);
        // The check may first run inside Predict's inference mode (a model trained after predicting).
        using var notInference = inference_mode(false);
        using var grad = enable_grad();
        var xLeaf = tensor(x, new long[] { Batch, Steps, input }).requires_grad_(true);
        var (output, _, cell) = lstm.call(xLeaf);
        var forward = Math.Max(KernelChecks.MaxDifference(output, expected.Sequence), KernelChecks.MaxDifference(cell.squeeze(0), expected.LastCell));
        var leaves = new[] { xLeaf, parameters["weight_ih_l0"], parameters["weight_hh_l0"], parameters["bias_ih_l0"] };
        return Math.Max(forward, KernelChecks.DirectionalGradientError(random, leaves, output, Reference));
    }
}
