using System.Runtime.CompilerServices;

namespace KerasStyle.Engine;

/// <summary>
/// The library's own maths for the layers whose fast paths come from libtorch, oneDNN or MKL, in plain C# doubles:
/// no third-party kernel is involved, so KernelChecks can judge those kernels against it. Arrays are
/// row-major and use torch's weight layouts (the layouts the layers hand to the fast kernels). The methods are
/// compiled fully optimised at once: a check runs each loop only once, too few times for tiered JIT to catch up.
/// </summary>
internal static class ReferenceMaths
{
    /// <summary>
    /// Keras' LSTM with tanh and sigmoid over x (batch, steps, input) from zero states, or from h0 and c0 (batch, u):
    /// gate blocks i, f, c, o of z = x·Wᵀ + h·Uᵀ + b, with w (4u, input), u (4u, u) and b (4u). Returns every step's
    /// h as (batch, steps, u) and the last c as (batch, u).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double[] Sequence, double[] LastCell) Lstm(double[] x, double[] w, double[] u, double[] b, int batch, int steps, int input, int units,
        double[]? h0 = null, double[]? c0 = null)
    {
        var sequence = new double[batch * steps * units];
        var lastCell = new double[batch * units];
        var z = new double[4 * units];
        for (var s = 0; s < batch; s++)
        {
            var h = new double[units];
            var c = new double[units];
            if (h0 is not null)
            {
                Array.Copy(h0, s * units, h, 0, units);
            }

            if (c0 is not null)
            {
                Array.Copy(c0, s * units, c, 0, units);
            }

            for (var t = 0; t < steps; t++)
            {
                var xt = ((s * steps) + t) * input;
                for (var j = 0; j < 4 * units; j++)
                {
                    var sum = b[j];
                    for (var i = 0; i < input; i++)
                    {
                        sum += x[xt + i] * w[(j * input) + i];
                    }

                    for (var i = 0; i < units; i++)
                    {
                        sum += h[i] * u[(j * units) + i];
                    }

                    z[j] = sum;
                }

                for (var j = 0; j < units; j++)
                {
                    var ig = Sigmoid(z[j]);
                    var fg = Sigmoid(z[units + j]);
                    var g = Math.Tanh(z[(2 * units) + j]);
                    var og = Sigmoid(z[(3 * units) + j]);
                    c[j] = (fg * c[j]) + (ig * g);
                    h[j] = og * Math.Tanh(c[j]);
                    sequence[(((s * steps) + t) * units) + j] = h[j];
                }
            }

            Array.Copy(c, 0, lastCell, s * units, units);
        }

        return (sequence, lastCell);
    }

    /// <summary>
    /// Valid 1-D convolution of channels-last x (batch, length, channels) with w (filters, channels, kernel) and b
    /// (filters) or null, as Keras' Conv1D: y[n, t, f] = b[f] + Σ x[n, t·stride + k·dilation, c] · w[f, c, k].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double[] Conv1D(double[] x, double[] w, double[]? b, int batch, int length, int channels, int filters, int kernel, int stride, int dilation)
    {
        var outLength = ((length - (((kernel - 1) * dilation) + 1)) / stride) + 1;
        var y = new double[batch * outLength * filters];
        for (var n = 0; n < batch; n++)
        {
            for (var t = 0; t < outLength; t++)
            {
                for (var f = 0; f < filters; f++)
                {
                    var sum = b is null ? 0.0 : b[f];
                    for (var k = 0; k < kernel; k++)
                    {
                        var row = ((n * length) + (t * stride) + (k * dilation)) * channels;
                        for (var c = 0; c < channels; c++)
                        {
                            sum += x[row + c] * w[(((f * channels) + c) * kernel) + k];
                        }
                    }

                    y[(((n * outLength) + t) * filters) + f] = sum;
                }
            }
        }

        return y;
    }

    /// <summary>Valid 1-D max pooling of channels-last x (batch, length, channels): y[n, t, c] = max over the window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double[] MaxPool1D(double[] x, int batch, int length, int channels, int pool, int stride)
    {
        var outLength = ((length - pool) / stride) + 1;
        var y = new double[batch * outLength * channels];
        for (var n = 0; n < batch; n++)
        {
            for (var t = 0; t < outLength; t++)
            {
                for (var c = 0; c < channels; c++)
                {
                    var best = double.NegativeInfinity;
                    for (var k = 0; k < pool; k++)
                    {
                        best = Math.Max(best, x[(((n * length) + (t * stride) + k) * channels) + c]);
                    }

                    y[(((n * outLength) + t) * channels) + c] = best;
                }
            }
        }

        return y;
    }

    /// <summary>
    /// Valid N-d grouped convolution of channels-last x (batch, sizes..., channels) with w in Keras' layout
    /// (kernel..., channels / groups, filters) and b (filters) or null, as Keras' Conv1D/2D/3D:
    /// y[n, o..., f] = b[f] + Σ_k Σ_c x[n, o·stride + k·dilation..., g·(channels / groups) + c] · w[k..., c, f],
    /// g = f / (filters / groups).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double[] ConvNd(double[] x, double[] w, double[]? b, int batch, int[] sizes, int channels, int filters, int[] kernel, int[] stride, int[] dilation, int groups)
    {
        var rank = sizes.Length;
        var outSizes = new int[rank];
        for (var a = 0; a < rank; a++)
        {
            outSizes[a] = ((sizes[a] - (((kernel[a] - 1) * dilation[a]) + 1)) / stride[a]) + 1;
        }

        var cells = outSizes.Aggregate(1, (p, v) => p * v);
        var taps = kernel.Aggregate(1, (p, v) => p * v);
        var inCells = sizes.Aggregate(1, (p, v) => p * v);
        var perGroup = channels / groups;
        var filtersPerGroup = filters / groups;
        var y = new double[batch * cells * filters];
        var o = new int[rank];
        var k = new int[rank];
        for (var n = 0; n < batch; n++)
        {
            for (var cell = 0; cell < cells; cell++)
            {
                Unravel(cell, outSizes, o);
                for (var f = 0; f < filters; f++)
                {
                    var g = f / filtersPerGroup;
                    var sum = b is null ? 0.0 : b[f];
                    for (var tap = 0; tap < taps; tap++)
                    {
                        Unravel(tap, kernel, k);
                        var at = 0;
                        for (var a = 0; a < rank; a++)
                        {
                            at = (at * sizes[a]) + (o[a] * stride[a]) + (k[a] * dilation[a]);
                        }

                        var row = ((n * inCells) + at) * channels;
                        for (var c = 0; c < perGroup; c++)
                        {
                            sum += x[row + (g * perGroup) + c] * w[(((tap * perGroup) + c) * filters) + f];
                        }
                    }

                    y[(((n * cells) + cell) * filters) + f] = sum;
                }
            }
        }

        return y;
    }

    /// <summary>
    /// N-d transposed convolution of channels-last x (batch, sizes..., channels) with w in Keras' layout (kernel...,
    /// filters, channels) and b (filters) or null, as Keras' Conv1DTranspose/2D/3D: every input cell i adds
    /// x[n, i..., c] · w[k..., f, c] at output cell i·stride + k·dilation − crop (crop = effective kernel − 1 − left
    /// pad, per axis), cells outside (0, outSizes) dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double[] ConvTransposeNd(double[] x, double[] w, double[]? b, int batch, int[] sizes, int channels, int filters, int[] kernel, int[] stride, int[] dilation, int[] crop, int[] outSizes)
    {
        var rank = sizes.Length;
        var cells = outSizes.Aggregate(1, (p, v) => p * v);
        var inCells = sizes.Aggregate(1, (p, v) => p * v);
        var taps = kernel.Aggregate(1, (p, v) => p * v);
        var y = new double[batch * cells * filters];
        for (var n = 0; n < batch; n++)
        {
            for (var cell = 0; cell < cells; cell++)
            {
                for (var f = 0; f < filters; f++)
                {
                    y[(((n * cells) + cell) * filters) + f] = b is null ? 0.0 : b[f];
                }
            }
        }

        var i = new int[rank];
        var k = new int[rank];
        for (var n = 0; n < batch; n++)
        {
            for (var inCell = 0; inCell < inCells; inCell++)
            {
                Unravel(inCell, sizes, i);
                for (var tap = 0; tap < taps; tap++)
                {
                    Unravel(tap, kernel, k);
                    var at = 0;
                    var inside = true;
                    for (var a = 0; a < rank; a++)
                    {
                        var j = (i[a] * stride[a]) + (k[a] * dilation[a]) - crop[a];
                        inside &= j >= 0 && j < outSizes[a];
                        at = (at * outSizes[a]) + j;
                    }

                    if (!inside)
                    {
                        continue;
                    }

                    for (var f = 0; f < filters; f++)
                    {
                        var sum = 0.0;
                        for (var c = 0; c < channels; c++)
                        {
                            sum += x[(((n * inCells) + inCell) * channels) + c] * w[(((tap * filters) + f) * channels) + c];
                        }

                        y[(((n * cells) + at) * filters) + f] += sum;
                    }
                }
            }
        }

        return y;
    }

    private static void Unravel(int flat, int[] sizes, int[] index)
    {
        for (var a = sizes.Length - 1; a >= 0; a--)
        {
            index[a] = flat % sizes[a];
            flat /= sizes[a];
        }
    }

    private static double Sigmoid(double z) => 1.0 / (1.0 + Math.Exp(-z));
}
