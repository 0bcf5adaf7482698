using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// TorchSharp Scalars that stay alive while libtorch reads them. TorchSharp 0.107 makes a new <see cref="Scalar"/>
/// for every implicit conversion (<c>t * 0.5</c>, <c>t.mul_(beta)</c>, <c>t.gt(0)</c>) and for the alpha of
/// <c>add(Tensor)</c> / <c>a + b</c>; it does not track them in dispose scopes nor keep them alive across its P/Invoke
/// calls, so a garbage collection started by another thread (Predict beside Fit) during the native call can finalize
/// the temporary while libtorch reads it ("INTERNAL ASSERT FAILED at c10/core/Scalar.h", "Unknown scalar type";
/// tools/scalar-race shows it). Library code therefore passes only Scalars from here: cached ones, rooted by a static
/// field for the life of the process, or one kept alive by <see cref="With"/> for values that change every call.
/// </summary>
internal static class Scalars
{
    private const int CacheLimit = 4096;
    private static readonly ConcurrentDictionary<double, Scalar> Doubles = new();

    /// <summary>1, the alpha of a plain tensor addition.</summary>
    public static readonly Scalar One = Of(1.0);

    /// <summary>0.</summary>
    public static readonly Scalar Zero = Of(0.0);

    /// <summary>2.</summary>
    public static readonly Scalar Two = Of(2.0);

    /// <summary>
    /// The cached Scalar of a value fixed by code or configuration (constants, beta, epsilon, batch sizes). Values that
    /// change every step use <see cref="With"/>, so the cache stays small; past its limit, <see cref="With"/> is required.
    /// </summary>
    /// <exception cref="InvalidOperationException">More than 4,096 distinct values were cached.</exception>
    public static Scalar Of(double value)
    {
        if (Doubles.TryGetValue(value, out var cached))
        {
            return cached;
        }

        if (Doubles.Count >= CacheLimit)
        {
            throw new InvalidOperationException($"Scalars: more than {CacheLimit} distinct cached values; a value that changes per call must use Scalars.With.");
        }

        var made = value.ToScalar();
        var kept = Doubles.GetOrAdd(value, made);
        if (!ReferenceEquals(kept, made))
        {
            made.Dispose();
        }

        return kept;
    }

    /// <summary>Runs <paramref name="call"/> with a Scalar of <paramref name="value"/> that lives until it returns.</summary>
    public static Tensor With(double value, Func<Scalar, Tensor> call)
    {
        using var scalar = value.ToScalar();
        return call(scalar);
    }
}
