using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>Keras weight initialisers in Keras layout, drawing from the generator of the layer being built.</summary>
internal static class Initializers
{
    /// <summary>glorot_uniform: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)).</summary>
    public static Tensor GlorotUniform(long[] shape, long fanIn, long fanOut, Generator generator)
    {
        var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(shape, -limit, limit, generator);
    }

    /// <summary>U(min, max), Keras' random_uniform.</summary>
    public static Tensor Uniform(long[] shape, double min, double max, Generator generator) =>
        rand(shape, ScalarType.Float32, generator: generator) * (max - min) + min;

    /// <summary>Keras' orthogonal initialiser (gain 1) for a 2-D shape (rows, cols).</summary>
    public static Tensor Orthogonal(long rows, long cols, Generator generator)
    {
        // Keras: QR of a normal (max, min) matrix, Q's columns signed by diag(R), transposed when rows < cols.
        using var a = randn(new[] { Math.Max(rows, cols), Math.Min(rows, cols) }, ScalarType.Float32, generator: generator);
        // One thread: LAPACK's QR rounds differently with two, and the same seed must give the same weights
        // whatever thread count the building thread has (the count is per thread).
        Tensor q, r;
        using (ThreadPolicy.Begin())
        {
            set_num_threads(1);
            (q, r) = linalg.qr(a);
        }

        using (r)
        using (q)
        {
            using var d = r.diagonal().sign();
            using var signed = q * d;
            return rows < cols ? signed.t().contiguous() : signed.contiguous();
        }
    }
}
