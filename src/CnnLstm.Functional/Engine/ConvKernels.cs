using System.Globalization;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// The convolutions of any rank (1 to 3) that the convolution family runs beside Conv1D's and Conv2D's own paths:
/// grouped convolutions (Conv3D, Conv1D/2D with <c>groups</c> above 1, the depthwise convolutions) and transposed
/// convolutions, each by libtorch's <c>conv{1,2,3}d</c> / <c>conv_transpose{1,2,3}d</c> once its check passed, else
/// by the plain path written here.
/// <list type="bullet">
/// <item>Checks: per kernel name (convolution or transposed convolution, autograd off or on) and per (rank, input
/// channels, filters, groups, kernel sizes, strides, dilations), once per process, on a small random case with
/// those windows, against <see cref="ReferenceMaths.ConvNd"/> and
/// <see cref="ReferenceMaths.ConvTransposeNd"/>; training checks compare the gradients too.</item>
/// <item>The plain convolution: one strided slice of the input per kernel tap and a matrix product per group
/// (einsum), summed. The plain transposed convolution: the input spread by the strides (zeros between cells), padded
/// by Keras' left and right pads, and convolved plainly with the flipped kernel (JAX's form of Keras'
/// <c>conv_transpose</c>, keras/src/backend/common/backend_utils.py).</item>
/// </list>
/// Inputs and outputs are channels-last; kernels in Keras' layout.
/// </summary>
internal static class ConvKernels
{
    /// <summary>Name of the check of libtorch's (grouped) convolution with autograd off.</summary>
    public const string ConvInference = "conv-nd-inference";

    /// <summary>Name of the check of libtorch's (grouped) convolution with autograd on, gradients included.</summary>
    public const string ConvTraining = "conv-nd-training";

    /// <summary>Name of the check of libtorch's transposed convolution with autograd off.</summary>
    public const string TransposeInference = "conv-transpose-nd-inference";

    /// <summary>Name of the check of libtorch's transposed convolution with autograd on, gradients included.</summary>
    public const string TransposeTraining = "conv-transpose-nd-training";

    private const string ConvFallback = "a strided slice and matrix product per kernel tap";
    private const string TransposeFallback = "the input spread by the strides, padded and convolved plainly";

    /// <summary>Valid convolution of an already padded input.</summary>
    /// <param name="x">(batch, sizes..., channels).</param>
    /// <param name="kernel">(kernel..., channels / groups, filters), Keras' layout.</param>
    /// <param name="bias">(filters) or null.</param>
    /// <param name="strides">Per axis.</param>
    /// <param name="dilation">Per axis.</param>
    /// <param name="groups">Channel groups; divides channels and filters.</param>
    /// <returns>(batch, output sizes..., filters).</returns>
    public static Tensor Conv(Tensor x, Tensor kernel, Tensor? bias, int[] strides, int[] dilation, int groups)
    {
        LibTorchSwitches.EnsureApplied();
        var rank = strides.Length;
        var key = Key(rank, (int)x.shape[^1], (int)kernel.shape[^1], groups, kernel.shape.Take(rank), strides, dilation);
        return Trusted(is_grad_enabled() ? ConvTraining : ConvInference, key)
            ? TorchConv(x, kernel, bias, strides, dilation, groups)
            : PlainConv(x, kernel, bias, strides, dilation, groups);
    }

    /// <summary>Transposed convolution, Keras' <c>conv_transpose</c> with its pads computed by the caller.</summary>
    /// <param name="x">(batch, sizes..., channels).</param>
    /// <param name="kernel">(kernel..., filters, channels), Keras' layout.</param>
    /// <param name="bias">(filters) or null.</param>
    /// <param name="strides">Per axis.</param>
    /// <param name="dilation">Per axis.</param>
    /// <param name="leftPads">Keras' (JAX's) left pad per axis, at most the effective kernel − 1.</param>
    /// <param name="outSizes">Output size per axis.</param>
    /// <returns>(batch, outSizes..., filters).</returns>
    public static Tensor ConvTranspose(Tensor x, Tensor kernel, Tensor? bias, int[] strides, int[] dilation, int[] leftPads, int[] outSizes)
    {
        LibTorchSwitches.EnsureApplied();
        var rank = strides.Length;
        var key = Key(rank, (int)x.shape[^1], (int)kernel.shape[rank], 1, kernel.shape.Take(rank), strides, dilation);
        return Trusted(is_grad_enabled() ? TransposeTraining : TransposeInference, key)
            ? TorchTranspose(x, kernel, bias, strides, dilation, leftPads, outSizes)
            : PlainTranspose(x, kernel, bias, strides, dilation, leftPads, outSizes);
    }

    /// <summary>Whether a path gives the reference maths for this key (see <see cref="Key"/>).</summary>
    public static bool Trusted(string kernel, KernelCase key) => kernel switch
    {
        ConvInference => KernelChecks.Trusted(kernel, key, 1e-4, ConvFallback, Describe, static c => MeasureConv(false, c)),
        ConvTraining => KernelChecks.Trusted(kernel, key, 1e-4, ConvFallback, Describe, static c => MeasureConv(true, c)),
        TransposeInference => KernelChecks.Trusted(kernel, key, 1e-4, TransposeFallback, Describe, static c => MeasureTranspose(false, c)),
        TransposeTraining => KernelChecks.Trusted(kernel, key, 1e-4, TransposeFallback, Describe, static c => MeasureTranspose(true, c)),
        _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "not a convolution-family kernel"),
    };

    /// <summary>(rank, channels, filters, groups, then kernel sizes, strides and dilations each packed 8 bits per axis,
    /// capped at 255). The windows are part of the key because oneDNN picks its kernel by them: on AMD Zen 5 its
    /// transposed convolution with stride 1 and dilation 2 is wrong while stride 2 with dilation 2 is right.</summary>
    public static KernelCase Key(int rank, int channels, int filters, int groups, IEnumerable<long> kernel, IEnumerable<int> strides, IEnumerable<int> dilation) =>
        new(rank, channels, filters, groups, Pack(kernel.Select(k => (int)Math.Min(k, 255))), Pack(strides), Pack(dilation));

    private static int Pack(IEnumerable<int> values) => values.Select((v, a) => Math.Clamp(v, 0, 255) << (8 * a)).Sum();

    private static int[] Unpack(int packed, int rank) => Enumerable.Range(0, rank).Select(a => (packed >> (8 * a)) & 255).ToArray();

    /// <summary>libtorch's convolution on the channels-first view.</summary>
    public static Tensor TorchConv(Tensor x, Tensor kernel, Tensor? bias, int[] strides, int[] dilation, int groups)
    {
        var rank = strides.Length;
        var weight = kernel.permute(new long[] { rank + 1, rank }.Concat(Axes(0, rank)).ToArray());
        var input = x.permute(new long[] { 0, rank + 1 }.Concat(Axes(1, rank)).ToArray());
        var s = strides.Select(v => (long)v).ToArray();
        var d = dilation.Select(v => (long)v).ToArray();
        var y = rank switch
        {
            1 => nn.functional.conv1d(input, weight, bias, stride: s[0], dilation: d[0], groups: groups),
            2 => nn.functional.conv2d(input, weight, bias, strides: s, dilation: d, groups: groups),
            _ => nn.functional.conv3d(input, weight, bias, strides: s, dilation: d, groups: groups),
        };
        return y.permute(new long[] { 0 }.Concat(Axes(2, rank)).Append(1L).ToArray());
    }

    /// <summary>The plain convolution: per kernel tap, a strided slice of the input times that tap's weights.</summary>
    public static Tensor PlainConv(Tensor x, Tensor kernel, Tensor? bias, int[] strides, int[] dilation, int groups)
    {
        var rank = strides.Length;
        var batch = x.shape[0];
        var channels = x.shape[^1];
        var filters = kernel.shape[^1];
        var kernelSizes = kernel.shape.Take(rank).ToArray();
        var outSizes = Enumerable.Range(0, rank).Select(a => ((x.shape[a + 1] - (((kernelSizes[a] - 1) * dilation[a]) + 1)) / strides[a]) + 1).ToArray();
        var cells = outSizes.Aggregate(1L, (p, v) => p * v);
        var taps = kernelSizes.Aggregate(1L, (p, v) => p * v);
        // (taps, channels / groups, filters) → (taps, groups, channels / groups, filters / groups).
        var weights = kernel.reshape(taps, channels / groups, groups, filters / groups).permute(0, 2, 1, 3);
        Tensor? sum = null;
        for (var tap = 0L; tap < taps; tap++)
        {
            var slice = x;
            var rest = tap;
            for (var a = rank - 1; a >= 0; a--)
            {
                var k = rest % kernelSizes[a];
                rest /= kernelSizes[a];
                var start = k * dilation[a];
                slice = slice.slice(a + 1, start, start + ((outSizes[a] - 1) * strides[a]) + 1, strides[a]);
            }

            var term = einsum("npgc,gcf->npgf", slice.reshape(batch, cells, groups, channels / groups), weights[tap]);
            sum = sum is null ? term : sum.add(term, Scalars.IntOne);
        }

        var y = sum!.reshape(new long[] { batch }.Concat(outSizes).Append(filters).ToArray());
        return bias is null ? y : y.add(bias, Scalars.IntOne);
    }

    /// <summary>libtorch's transposed convolution (no padding), then the cells Keras keeps: cropped on the left,
    /// cropped or extended with zeros on the right, then the bias.</summary>
    public static Tensor TorchTranspose(Tensor x, Tensor kernel, Tensor? bias, int[] strides, int[] dilation, int[] leftPads, int[] outSizes)
    {
        var rank = strides.Length;
        // Keras' (kernel..., filters, channels) to torch's (channels, filters, kernel...).
        var weight = kernel.permute(new long[] { rank + 1, rank }.Concat(Axes(0, rank)).ToArray());
        var input = x.permute(new long[] { 0, rank + 1 }.Concat(Axes(1, rank)).ToArray());
        var s = strides.Select(v => (long)v).ToArray();
        var d = dilation.Select(v => (long)v).ToArray();
        var full = rank switch
        {
            1 => nn.functional.conv_transpose1d(input, weight, null, stride: s[0], dilation: d[0]),
            2 => nn.functional.conv_transpose2d(input, weight, null, strides: s, dilation: d),
            _ => nn.functional.conv_transpose3d(input, weight, null, strides: s, dilation: d),
        };
        var pads = new long[2 * rank];
        for (var a = 0; a < rank; a++)
        {
            var effective = ((kernel.shape[a] - 1) * dilation[a]) + 1;
            var start = effective - 1 - leftPads[a];
            var at = 2 * (rank - 1 - a);
            pads[at] = -start;
            pads[at + 1] = outSizes[a] - (full.shape[a + 2] - start);
        }

        var y = nn.functional.pad(full, pads).permute(new long[] { 0 }.Concat(Axes(2, rank)).Append(1L).ToArray());
        return bias is null ? y : y.add(bias, Scalars.IntOne);
    }

    /// <summary>The plain transposed convolution: zeros between the input's cells, Keras' pads, a plain convolution
    /// with the flipped kernel.</summary>
    public static Tensor PlainTranspose(Tensor x, Tensor kernel, Tensor? bias, int[] strides, int[] dilation, int[] leftPads, int[] outSizes)
    {
        var rank = strides.Length;
        var spread = x;
        for (var a = 0; a < rank; a++)
        {
            if (strides[a] > 1)
            {
                var length = spread.shape[a + 1];
                var gapShape = spread.shape.ToArray();
                gapShape = gapShape.Take(a + 2).Append(strides[a] - 1L).Concat(gapShape.Skip(a + 2)).ToArray();
                gapShape[a + 1] = length;
                var withGaps = cat(new[] { spread.unsqueeze(a + 2), zeros(gapShape, spread.dtype, spread.device) }, a + 2);
                var merged = spread.shape.ToArray();
                merged[a + 1] = length * strides[a];
                spread = withGaps.reshape(merged).narrow(a + 1, 0, ((length - 1) * strides[a]) + 1);
            }
        }

        var pads = new long[2 * (rank + 1)];
        for (var a = 0; a < rank; a++)
        {
            var effective = ((kernel.shape[a] - 1) * dilation[a]) + 1;
            var at = 2 * (rank - a);
            pads[at] = leftPads[a];
            // Right pad: what makes the convolution's output outSizes long.
            pads[at + 1] = outSizes[a] + effective - 1 - leftPads[a] - spread.shape[a + 1];
        }

        var padded = nn.functional.pad(spread, pads);
        // (kernel..., filters, channels) → flipped on every spatial axis, (kernel..., channels, filters).
        var flipped = kernel.flip(Axes(0, rank).ToArray()).transpose(rank, rank + 1);
        return PlainConv(padded, flipped, bias, Enumerable.Repeat(1, rank).ToArray(), dilation, 1);
    }

    private static IEnumerable<long> Axes(int from, int count) => Enumerable.Range(from, count).Select(a => (long)a);

    private static int[] KernelSizes(KernelCase c) => Unpack(c.E, c.A);

    private static string Describe(KernelCase c) =>
        string.Create(CultureInfo.InvariantCulture, $"rank {c.A}, channels {c.B}, filters {c.C}, groups {c.D}, kernel ({string.Join(", ", KernelSizes(c))}), strides ({string.Join(", ", Unpack(c.F, c.A))}), dilation ({string.Join(", ", Unpack(c.G, c.A))})");

    /// <summary>The checked case's strides and dilations: the layer's own.</summary>
    private static (int[] Strides, int[] Dilation) CheckWindows(KernelCase c) => (Unpack(c.F, c.A), Unpack(c.G, c.A));

    private static double MeasureConv(bool training, KernelCase c)
    {
        LibTorchSwitches.EnsureApplied();
        var (rank, channels, filters, groups) = (c.A, c.B, c.C, c.D);
        var kernel = KernelSizes(c);
        var (strides, dilation) = CheckWindows(c);
        var random = new Random(20261207 + (rank * 3) + channels + (7 * filters) + (13 * groups) + c.E);
        const int Batch = 2;
        var sizes = Enumerable.Range(0, rank).Select(a => (2 * strides[a]) + ((kernel[a] - 1) * dilation[a]) + 1).ToArray();
        var cells = sizes.Aggregate(1, (p, v) => p * v);
        var taps = kernel.Aggregate(1, (p, v) => p * v);
        var x = KernelChecks.Uniform(random, Batch * cells * channels, 1.0);
        var w = KernelChecks.Uniform(random, taps * (channels / groups) * filters, 1.0 / Math.Sqrt(taps * channels / groups));
        var b = KernelChecks.Uniform(random, filters, 0.5);
        return KernelChecks.CompareWithReference(training, random,
            new[]
            {
                (x, new long[] { Batch }.Concat(sizes.Select(v => (long)v)).Append(channels).ToArray()),
                (w, kernel.Select(v => (long)v).Append(channels / groups).Append(filters).ToArray()),
                (b, new long[] { filters }),
            },
            t => TorchConv(t[0], t[1], t[2], strides, dilation, groups),
            a => ReferenceMaths.ConvNd(a[0], a[1], a[2], Batch, sizes, channels, filters, kernel, strides, dilation, groups));
    }

    private static double MeasureTranspose(bool training, KernelCase c)
    {
        LibTorchSwitches.EnsureApplied();
        var (rank, channels, filters) = (c.A, c.B, c.C);
        var kernel = KernelSizes(c);
        var (strides, dilation) = CheckWindows(c);
        var random = new Random(20261208 + (rank * 3) + channels + (7 * filters) + c.E);
        const int Batch = 2;
        var sizes = Enumerable.Repeat(3, rank).ToArray();
        var effective = Enumerable.Range(0, rank).Select(a => ((kernel[a] - 1) * dilation[a]) + 1).ToArray();
        // Cropped by one on the left where the window allows, extended by one zero cell on the right.
        var crop = effective.Select(e => Math.Min(1, e - 1)).ToArray();
        var leftPads = Enumerable.Range(0, rank).Select(a => effective[a] - 1 - crop[a]).ToArray();
        var outSizes = Enumerable.Range(0, rank).Select(a => ((sizes[a] - 1) * strides[a]) + effective[a] - crop[a] + 1).ToArray();
        var cells = sizes.Aggregate(1, (p, v) => p * v);
        var taps = kernel.Aggregate(1, (p, v) => p * v);
        var x = KernelChecks.Uniform(random, Batch * cells * channels, 1.0);
        var w = KernelChecks.Uniform(random, taps * filters * channels, 1.0 / Math.Sqrt(taps * channels));
        var b = KernelChecks.Uniform(random, filters, 0.5);
        return KernelChecks.CompareWithReference(training, random,
            new[]
            {
                (x, new long[] { Batch }.Concat(sizes.Select(v => (long)v)).Append(channels).ToArray()),
                (w, kernel.Select(v => (long)v).Append(filters).Append(channels).ToArray()),
                (b, new long[] { filters }),
            },
            t => TorchTranspose(t[0], t[1], t[2], strides, dilation, leftPads, outSizes),
            a => ReferenceMaths.ConvTransposeNd(a[0], a[1], a[2], Batch, sizes, channels, filters, kernel, strides, dilation, crop, outSizes));
    }
}
