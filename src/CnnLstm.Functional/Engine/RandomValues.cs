using System.Numerics;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Keras weight initialisers in Keras layout, drawing from the generator of the layer being built. A seeded layer
/// gets the same initial weights on every CPU: uniform draws are exact (integers scaled by a power of two) and every
/// further step is plain IEEE double arithmetic in managed code, which .NET never contracts into FMA, so no result
/// depends on which libtorch/LAPACK kernel a CPU dispatches to.
/// </summary>
internal static class RandomValues
{
    /// <summary>U(min, max), Keras' random_uniform.</summary>
    public static Tensor Uniform(long[] shape, double min, double max, Generator generator) =>
        Scalars.With(max - min, range => Scalars.With(min, low => rand(shape, ScalarType.Float32, generator: generator).mul(range).add(low, Scalars.IntOne)));

    /// <summary>
    /// N(mean, stddev²), Keras' random_normal (keras/src/initializers/random_initializers.py, RandomNormal; defaults
    /// mean 0, stddev 0.05): standard normal draws from <see cref="StandardNormal"/>, the same on every CPU.
    /// </summary>
    public static Tensor Normal(long[] shape, double mean, double stddev, Generator generator)
    {
        var count = shape.Aggregate(1L, (a, d) => a * d);
        var values = StandardNormal(count, generator).Select(z => (float)(mean + (stddev * z))).ToArray();
        return tensor(values, shape, ScalarType.Float32);
    }

    /// <summary>
    /// N(mean, stddev²) truncated at two standard deviations, Keras' truncated_normal: each standard normal draw of
    /// <see cref="StandardNormal"/> with |z| &gt;= 2 is discarded and the next one taken, then mean + stddev z is
    /// rounded once to float32.
    /// </summary>
    public static Tensor TruncatedNormal(long[] shape, double mean, double stddev, Generator generator)
    {
        var count = shape.Aggregate(1L, (a, d) => a * d);
        var values = new float[count];
        long filled = 0;
        while (filled < count)
        {
            // About 95.45% of the draws are kept; draw a little more than that needs.
            foreach (var z in StandardNormal(((count - filled) * 21 / 20) + 16, generator))
            {
                if (filled == count)
                {
                    break;
                }

                if (z > -2 && z < 2)
                {
                    values[filled++] = (float)(mean + (stddev * z));
                }
            }
        }

        return tensor(values, shape, ScalarType.Float32);
    }

    /// <summary>
    /// Keras' orthogonal initialiser (gain 1) for a 2-D shape (rows, cols), as keras/src/initializers/
    /// random_initializers.py: the QR decomposition of a standard normal (max, min) matrix, Q's columns multiplied by
    /// the signs of R's diagonal, transposed when rows &lt; cols.
    /// </summary>
    /// <remarks>
    /// libtorch's randn and LAPACK's QR round differently on AVX2, AVX-512, Intel and AMD kernels (issue 20: the same
    /// seed gave 0.0941827893 on a Xeon and 0.0941828042 on an EPYC), so both run here in double precision: normals by
    /// Marsaglia's polar method, QR by Householder reflections, each sum in a fixed order. The signed Q is the unique
    /// QR factor with a positive diagonal of R, the same matrix Keras computes, rounded once to float32.
    /// </remarks>
    public static Tensor Orthogonal(long rows, long cols, Generator generator)
    {
        var m = checked((int)Math.Max(rows, cols));
        var n = checked((int)Math.Min(rows, cols));
        var a = StandardNormal(checked((long)m * n), generator);
        var q = SignedQ(a, m, n);
        var result = new float[(long)m * n];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                // Keras transposes Q when the shape is wider than tall.
                result[rows < cols ? ((long)j * m) + i : ((long)i * n) + j] = (float)q[((long)i * n) + j];
            }
        }

        return tensor(result, new[] { rows, cols }, ScalarType.Float32);
    }

    /// <summary>
    /// <paramref name="count"/> standard normal draws: Marsaglia's polar method on the generator's float64 uniform
    /// draws (each an integer times 2^-53, exact), with <see cref="Log"/> instead of the C library's log so that no
    /// step depends on the CPU.
    /// </summary>
    internal static double[] StandardNormal(long count, Generator generator)
    {
        var result = new double[count];
        long filled = 0;
        while (filled < count)
        {
            // The polar method keeps pi/4 of the pairs it draws; draw a little more than that needs.
            var pairs = ((count - filled + 1) / 2 * 4 / 3) + 8;
            using var draws = rand(new[] { pairs * 2 }, ScalarType.Float64, generator: generator);
            var u = draws.data<double>().ToArray();
            for (var i = 0; i + 1 < u.Length && filled < count; i += 2)
            {
                var x = (2 * u[i]) - 1;
                var y = (2 * u[i + 1]) - 1;
                var s = (x * x) + (y * y);
                if (s >= 1 || s == 0)
                {
                    continue;
                }

                var factor = Math.Sqrt(-2 * Log(s) / s);
                result[filled++] = x * factor;
                if (filled < count)
                {
                    result[filled++] = y * factor;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Natural logarithm of a positive finite double in basic arithmetic only: s = m 2^e with m in [sqrt(1/2), sqrt(2)],
    /// ln m = 2 atanh((m - 1) / (m + 1)) by its series (|z| &lt;= 0.172, 13 terms reach double precision).
    /// </summary>
    internal static double Log(double s)
    {
        var e = Math.ILogB(s);
        var m = Math.ScaleB(s, -e);
        if (m > Math.Sqrt(2))
        {
            m /= 2;
            e++;
        }

        var z = (m - 1) / (m + 1);
        var z2 = z * z;
        var series = 1.0 / 25;
        for (var k = 11; k >= 0; k--)
        {
            series = (series * z2) + (1.0 / ((2 * k) + 1));
        }

        return (e * 0.6931471805599453) + (2 * z * series);
    }

    /// <summary>
    /// The thin Q (m x n, row-major) of the m x n row-major matrix <paramref name="a"/> (m &gt;= n), by Householder
    /// reflections, with column k multiplied by the sign of R[k, k] (0 for a zero pivot, as torch's sign).
    /// Each dot product sums over rows in order; the vector lanes run across columns, so no sum depends on the
    /// vector width.
    /// </summary>
    private static double[] SignedQ(double[] a, int m, int n)
    {
        var reflectors = new double[n][];
        var signs = new double[n];
        var dots = new double[n];
        for (var k = 0; k < n; k++)
        {
            double norm2 = 0;
            for (var i = k; i < m; i++)
            {
                norm2 += a[((long)i * n) + k] * a[((long)i * n) + k];
            }

            var pivot = a[((long)k * n) + k];
            var alpha = pivot >= 0 ? -Math.Sqrt(norm2) : Math.Sqrt(norm2);
            signs[k] = Math.Sign(alpha);
            var v = new double[m - k];
            for (var i = k; i < m; i++)
            {
                v[i - k] = a[((long)i * n) + k];
            }

            v[0] -= alpha;
            double v2 = 0;
            foreach (var vi in v)
            {
                v2 += vi * vi;
            }

            if (v2 == 0)
            {
                continue;
            }

            // Stored scaled so that H = I - v v^T.
            var scale = Math.Sqrt(2 / v2);
            for (var i = 0; i < v.Length; i++)
            {
                v[i] *= scale;
            }

            reflectors[k] = v;
            Reflect(a, n, v, k, k, dots);
        }

        // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity, from the last reflector back.
        var q = new double[(long)m * n];
        for (var j = 0; j < n; j++)
        {
            q[((long)j * n) + j] = 1;
        }

        for (var k = n - 1; k >= 0; k--)
        {
            if (reflectors[k] is { } v)
            {
                Reflect(q, n, v, k, k, dots);
            }
        }

        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                q[((long)i * n) + j] *= signs[j];
            }
        }

        return q;
    }

    /// <summary>Applies I - v v^T to rows <paramref name="row0"/>.. and columns <paramref name="col0"/>.. of a row-major matrix.</summary>
    private static void Reflect(double[] matrix, int n, double[] v, int row0, int col0, double[] dots)
    {
        var width = n - col0;
        Array.Clear(dots, 0, width);
        var lanes = Vector<double>.Count;
        for (var i = 0; i < v.Length; i++)
        {
            var row = matrix.AsSpan((int)(((long)(row0 + i) * n) + col0), width);
            var vi = v[i];
            var j = 0;
            for (; j + lanes <= width; j += lanes)
            {
                (new Vector<double>(dots.AsSpan(j)) + (new Vector<double>(row[j..]) * vi)).CopyTo(dots.AsSpan(j));
            }

            for (; j < width; j++)
            {
                dots[j] += row[j] * vi;
            }
        }

        for (var i = 0; i < v.Length; i++)
        {
            var row = matrix.AsSpan((int)(((long)(row0 + i) * n) + col0), width);
            var vi = v[i];
            var j = 0;
            for (; j + lanes <= width; j += lanes)
            {
                (new Vector<double>(row[j..]) - (new Vector<double>(dots.AsSpan(j)) * vi)).CopyTo(row[j..]);
            }

            for (; j < width; j++)
            {
                row[j] -= dots[j] * vi;
            }
        }
    }
}
