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
    /// Keras' LSTM with tanh and sigmoid over x (batch, steps, input) from zero states: gate blocks i, f, c, o of
    /// z = x·Wᵀ + h·Uᵀ + b, with w (4u, input), u (4u, u) and b (4u). Returns every step's h as (batch, steps, u)
    /// and the last c as (batch, u).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double[] Sequence, double[] LastCell) Lstm(double[] x, double[] w, double[] u, double[] b, int batch, int steps, int input, int units)
    {
        var sequence = new double[batch * steps * units];
        var lastCell = new double[batch * units];
        var z = new double[4 * units];
        for (var s = 0; s < batch; s++)
        {
            var h = new double[units];
            var c = new double[units];
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

    private static double Sigmoid(double z) => 1.0 / (1.0 + Math.Exp(-z));
}
