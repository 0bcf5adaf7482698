using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// What one kernel check measured: a third-party fast path run on a small random case and compared with
/// <c>ReferenceMaths</c>, the library's own C# double maths.
/// </summary>
/// <param name="Kernel">The kernel's name, e.g. <c>conv1d-channels-last-training</c>.</param>
/// <param name="Case">The shapes it was checked on.</param>
/// <param name="MaxDifference">The largest absolute difference from the reference (for gradients: the relative
/// error of a random directional derivative).</param>
/// <param name="Tolerance">The largest difference accepted as float rounding.</param>
/// <param name="Forced">True when <see cref="KernelChecks.Distrust"/> made this check fail.</param>
/// <param name="Milliseconds">Wall time of the check.</param>
/// <param name="Fallback">The path used instead when the check fails.</param>
public sealed record KernelCheckResult(string Kernel, string Case, double MaxDifference, double Tolerance, bool Forced, double Milliseconds, string Fallback)
{
    /// <summary>Whether the fast kernel is used: it agreed with the reference and no failure was forced.</summary>
    public bool Passed => !Forced && MaxDifference <= Tolerance;

    /// <summary>One line for reports, e.g. <c>conv1d-channels-last-training (in 128, filters 64, kernel 5, ...): passed, max difference 2.4e-07 (tolerance 1e-04), 3.1 ms</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Kernel} ({Case}): {(Passed ? "passed" : Forced ? "FAILED (distrusted)" : "FAILED")}, max difference {MaxDifference:0.0e+00} (tolerance {Tolerance:0e+00}), {Milliseconds:0.0} ms{(Passed ? string.Empty : $"; using {Fallback}")}");
}

/// <summary>The integers that select a kernel's code path (weight shapes, window sizes); the key of a check.</summary>
internal readonly record struct KernelCase(int A, int B = 0, int C = 0, int D = 0, int E = 0, int F = 0, int G = 0);

/// <summary>
/// The library does not trust a fast third-party kernel it has not checked. The first time a layer needs one (per
/// kernel and per shape of the layer's weights, once per process), the kernel runs on a small random case and is
/// compared with the library's reference maths; if it disagrees beyond float rounding, the layer uses a plainer
/// correct path from then on and one warning names the kernel, the CPU and the difference. Each check takes a few
/// milliseconds. Why: oneDNN picks its kernels by CPU, and its LSTM inference kernel returns wrong values on some
/// AVX-512 CPUs (AMD Zen 5) while the same call is right on others.
/// </summary>
public static class KernelChecks
{
    private static readonly ConcurrentDictionary<(string Kernel, KernelCase Shape), Lazy<KernelCheckResult>> Checks = new();
    private static readonly ConcurrentDictionary<string, bool> Warned = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, bool> ForcedFailures = new(StringComparer.Ordinal);

    /// <summary>The checks run so far in this process, ordered by kernel name, then case.</summary>
    public static IReadOnlyList<KernelCheckResult> Results =>
        Checks.Values.Where(l => l.IsValueCreated).Select(l => l.Value).OrderBy(r => r.Kernel, StringComparer.Ordinal).ThenBy(r => r.Case, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Runs every kernel check on the shapes of the seed's sentiment model (the Conv1D and MaxPooling1D paths with
    /// autograd off and on) and on small cases of the convolution family's (ConvKernels), and returns all results so
    /// far; used by the examples' <c>doctor</c> command. The LSTM runs the library's own kernels (issue 27), which
    /// need no check.
    /// </summary>
    public static IReadOnlyList<KernelCheckResult> RunAll()
    {
        // The seed sentiment model's Conv1D (128 → 64, kernel 5).
        foreach (var kernel in new[] { Conv1DKernels.ChannelsLastInference, Conv1DKernels.ChannelsLastTraining, Conv1DKernels.SingleSampleInference, Conv1DKernels.SingleSampleTraining })
        {
            Conv1DKernels.Trusted(kernel, new KernelCase(128, 64, 5, 1, 1));
        }

        foreach (var kernel in new[] { MaxPool1DKernels.ChannelsLastTraining, MaxPool1DKernels.ChannelsFirstTraining })
        {
            MaxPool1DKernels.Trusted(kernel, pool: 4, stride: 4);
        }

        // The convolution family's (Conv3D, grouped and depthwise convolutions, transposed convolutions): a small
        // case of each rank in both modes.
        foreach (var rank in new[] { 1, 2, 3 })
        {
            var kernel = Enumerable.Repeat(3L, rank);
            var strides = Enumerable.Range(0, rank).Select(a => a == 0 ? 2 : 1).ToArray();
            var dilation = Enumerable.Range(0, rank).Select(a => a > 0 || rank == 1 ? 2 : 1).ToArray();
            ConvKernels.Trusted(ConvKernels.ConvInference, ConvKernels.Key(rank, 4, 6, 2, kernel, strides, dilation));
            ConvKernels.Trusted(ConvKernels.ConvTraining, ConvKernels.Key(rank, 4, 6, 2, kernel, strides, dilation));
            ConvKernels.Trusted(ConvKernels.TransposeInference, ConvKernels.Key(rank, 4, 6, 1, kernel, strides, dilation));
            ConvKernels.Trusted(ConvKernels.TransposeTraining, ConvKernels.Key(rank, 4, 6, 1, kernel, strides, dilation));
        }

        return Results;
    }

    /// <summary>
    /// Whether <paramref name="kernel"/> may be used for <paramref name="shape"/>: runs <paramref name="measure"/>
    /// once per process and key (thread-safe), keeps the result and warns once per kernel on failure. The delegates
    /// should be static lambdas, so that the hot path (a dictionary hit) allocates nothing.
    /// </summary>
    internal static bool Trusted(string kernel, KernelCase shape, double tolerance, string fallback,
        Func<KernelCase, string> describe, Func<KernelCase, double> measure)
    {
        if (Checks.TryGetValue((kernel, shape), out var known) && known.IsValueCreated && known.Value.Passed)
        {
            return true;
        }

        var result = Checks.GetOrAdd((kernel, shape), key => new Lazy<KernelCheckResult>(
            () => Run(key.Kernel, describe(key.Shape), tolerance, fallback, () => measure(key.Shape)), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
        if (!result.Passed && Warned.TryAdd(kernel, true))
        {
            Warnings.Warn(string.Create(CultureInfo.InvariantCulture,
                $"kernel check failed on {SystemReport.CpuModel}: {kernel} ({result.Case}) differs from the library's reference maths by {result.MaxDifference:0.0e+00} (tolerance {result.Tolerance:0e+00}){(result.Forced ? " [distrusted by KernelChecks.Distrust]" : string.Empty)}; using {fallback} instead, which gives Keras' numbers."));
        }

        return result.Passed;
    }

    /// <summary>The names of the checked kernels.</summary>
    public static IReadOnlyList<string> Kernels { get; } = new[]
    {
        Conv1DKernels.ChannelsLastInference, Conv1DKernels.ChannelsLastTraining,
        Conv1DKernels.SingleSampleInference, Conv1DKernels.SingleSampleTraining, MaxPool1DKernels.ChannelsLastTraining,
        MaxPool1DKernels.ChannelsFirstTraining,
        ConvKernels.ConvInference, ConvKernels.ConvTraining, ConvKernels.TransposeInference, ConvKernels.TransposeTraining,
    };

    /// <summary>
    /// Treats <paramref name="kernel"/> as failed from now on in this process, whatever its check measures: the
    /// layers use its fallback. For a kernel a user has reason to doubt on a CPU the check did not catch, for
    /// measuring the fallbacks (the examples' <c>bench --distrust</c>), and for the tests that prove the fallbacks.
    /// Results of that kernel's earlier checks are forgotten.
    /// </summary>
    /// <param name="kernel">One of <see cref="Kernels"/>.</param>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Kernels"/>.</exception>
    public static void Distrust(string kernel)
    {
        if (!Kernels.Contains(kernel, StringComparer.Ordinal))
        {
            throw new ArgumentException($"KernelChecks.Distrust: unknown kernel '{kernel}'; the checked kernels are {string.Join(", ", Kernels)}.", nameof(kernel));
        }

        ForcedFailures[kernel] = true;
        Forget(kernel);
    }

    /// <summary>Test hook: undoes every <see cref="Distrust"/> and forgets the results it changed.</summary>
    internal static void ClearDistrust()
    {
        foreach (var kernel in ForcedFailures.Keys)
        {
            Forget(kernel);
        }

        ForcedFailures.Clear();
    }

    /// <summary>Fills <paramref name="count"/> floats uniformly from [-scale, scale) with a fixed seed, so that a
    /// check never draws from torch's generator (which <c>Utils.SetRandomSeed</c> controls).</summary>
    internal static float[] Uniform(Random random, int count, double scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(((random.NextDouble() * 2) - 1) * scale);
        }

        return values;
    }

    /// <summary>The largest absolute difference between a float tensor and reference values.</summary>
    internal static double MaxDifference(Tensor actual, double[] expected)
    {
        using var contiguous = actual.detach().contiguous();
        var values = contiguous.data<float>().ToArray();
        if (values.Length != expected.Length)
        {
            return double.PositiveInfinity;
        }

        var worst = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            var difference = Math.Abs(values[i] - expected[i]);
            worst = double.IsNaN(difference) ? double.PositiveInfinity : Math.Max(worst, difference);
        }

        return worst;
    }

    /// <summary>
    /// Checks a kernel's gradients without trusting any other kernel: the torch gradient of L = Σ y·R (R random),
    /// projected on a random direction D over every leaf, against the central difference (L(θ+εD) − L(θ−εD)) / 2ε
    /// of the double reference. Returns the error relative to Σ|g·D|. <paramref name="output"/> must have been
    /// computed from <paramref name="leaves"/> with autograd on; the caller owns the dispose scope.
    /// </summary>
    internal static double DirectionalGradientError(Random random, IReadOnlyList<Tensor> leaves, Tensor output, Func<IReadOnlyList<double[]>, double[]> reference)
    {
        var weights = Uniform(random, (int)output.numel(), 1.0);
        (output * tensor(weights, output.shape)).sum().backward();

        var points = leaves.Select(l => l.detach().contiguous().data<float>().ToArray()).ToArray();
        var directions = points.Select(p => Uniform(random, p.Length, 1.0)).ToArray();
        double projected = 0, scale = 0;
        for (var i = 0; i < leaves.Count; i++)
        {
            var gradient = leaves[i].grad!.contiguous().data<float>().ToArray();
            for (var j = 0; j < gradient.Length; j++)
            {
                projected += (double)gradient[j] * directions[i][j];
                scale += Math.Abs((double)gradient[j] * directions[i][j]);
            }
        }

        const double Step = 1e-4;
        double Loss(double sign)
        {
            var moved = points.Select((p, i) => p.Select((v, j) => v + (sign * Step * directions[i][j])).ToArray()).ToArray();
            return reference(moved).Select((y, j) => y * weights[j]).Sum();
        }

        var finite = (Loss(1) - Loss(-1)) / (2 * Step);
        var error = Math.Abs(projected - finite) / Math.Max(scale, 1e-12);
        return double.IsNaN(error) ? double.PositiveInfinity : error;
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> on tensors of <paramref name="arguments"/> and compares it with
    /// <paramref name="reference"/> on the same values: the forward output with autograd off, or with
    /// <paramref name="training"/> the forward output and the gradients (<see cref="DirectionalGradientError"/>) with
    /// autograd on. Returns the larger difference.
    /// </summary>
    internal static double CompareWithReference(bool training, Random random, IReadOnlyList<(float[] Values, long[] Shape)> arguments,
        Func<IReadOnlyList<Tensor>, Tensor> kernel, Func<IReadOnlyList<double[]>, double[]> reference)
    {
        var expected = reference(arguments.Select(a => ToDouble(a.Values)).ToArray());
        using var scope = NewDisposeScope();
        if (!training)
        {
            using var inference = inference_mode(true);
            return MaxDifference(kernel(arguments.Select(a => tensor(a.Values, a.Shape)).ToArray()), expected);
        }

        using var notInference = inference_mode(false);
        using var grad = enable_grad();
        var leaves = arguments.Select(a => tensor(a.Values, a.Shape).requires_grad_(true)).ToArray();
        var output = kernel(leaves);
        return Math.Max(MaxDifference(output, expected), DirectionalGradientError(random, leaves, output, reference));
    }

    /// <summary>Converts floats to doubles for the reference.</summary>
    internal static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);

    private static KernelCheckResult Run(string kernel, string caseName, double tolerance, string fallback, Func<double> measure)
    {
        var clock = Stopwatch.StartNew();
        // A check must not move the generator that Utils.SetRandomSeed fixed (module construction draws from it).
        using var rngState = get_rng_state();
        double difference;
        try
        {
            // A check can start inside Predict's inference mode; its own tensors and modules must be normal ones, or
            // the autograd half of a training check could not save them for backward.
            using var normal = inference_mode(false);
            difference = measure();
        }
        catch (Exception e)
        {
            // Whatever the check hit (a libtorch error, even running out of memory), the kernel is not trusted; a
            // cached exception would instead fail every later call of the layer.
            difference = double.PositiveInfinity;
            Warnings.Warn($"kernel check {kernel} ({caseName}) threw {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            set_rng_state(rngState);
        }

        return new KernelCheckResult(kernel, caseName, difference, tolerance, ForcedFailures.ContainsKey(kernel), clock.Elapsed.TotalMilliseconds, fallback);
    }

    private static void Forget(string kernel)
    {
        foreach (var key in Checks.Keys.Where(k => k.Kernel == kernel))
        {
            Checks.TryRemove(key, out _);
        }

        Warned.TryRemove(kernel, out _);
    }
}
