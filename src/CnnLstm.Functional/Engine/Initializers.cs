using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>Keras weight initialisers, drawing from TorchSharp's seeded generator, in Keras layout.</summary>
internal static class Initializers
{
    /// <summary>glorot_uniform: U(-l, l) with l = sqrt(6 / (fanIn + fanOut)).</summary>
    public static Tensor GlorotUniform(long[] shape, long fanIn, long fanOut)
    {
        var limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(shape, -limit, limit);
    }

    /// <summary>U(min, max), Keras' random_uniform.</summary>
    public static Tensor Uniform(long[] shape, double min, double max) =>
        rand(shape, ScalarType.Float32) * (max - min) + min;

    /// <summary>Keras' orthogonal initialiser (gain 1) for a 2-D shape (rows, cols).</summary>
    public static Tensor Orthogonal(long rows, long cols)
    {
        // Keras: QR of a normal (max, min) matrix, Q's columns signed by diag(R), transposed when rows < cols.
        using var a = randn(new[] { Math.Max(rows, cols), Math.Min(rows, cols) }, ScalarType.Float32);
        var (q, r) = linalg.qr(a);
        using (r)
        using (q)
        {
            using var d = r.diagonal().sign();
            using var signed = q * d;
            return rows < cols ? signed.t().contiguous() : signed.contiguous();
        }
    }
}
