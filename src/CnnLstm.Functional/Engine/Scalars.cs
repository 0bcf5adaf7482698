using System.Collections.Concurrent;
using System.Runtime.InteropServices;
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
    // Keyed by the bits, so 0.0 and -0.0 (equal as doubles) keep their own Scalars.
    private static readonly ConcurrentDictionary<long, Scalar> Doubles = new();
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();

    /// <summary>1, the alpha of a plain tensor addition.</summary>
    public static readonly Scalar One = Of(1.0);

    /// <summary>0.</summary>
    public static readonly Scalar Zero = Of(0.0);

    /// <summary>2.</summary>
    public static readonly Scalar Two = Of(2.0);

    /// <summary>
    /// The integer 1: the alpha TorchSharp's <c>add(Tensor)</c> / <c>a + b</c> pass (an integer alpha, which integer
    /// tensors require; on floating tensors it gives the same bits as <see cref="One"/>).
    /// </summary>
    public static readonly Scalar IntOne = OfInt(1);

    // Native Scalars (what TorchSharp's implicit double conversion makes) for the kernels below; never freed.
    private static readonly IntPtr NativeOne = NewNative(1.0);
    private static readonly IntPtr NativeTwenty = NewNative(20.0);
    private static readonly IntPtr NativeHalf = NewNative(0.5);

    /// <summary>The integer 2, the exponent of TorchSharp's <c>square()</c> (<c>pow(2)</c>).</summary>
    public static readonly Scalar IntTwo = OfInt(2);

    /// <summary>
    /// The cached Scalar of a value fixed by code or configuration (constants, beta, epsilon, batch sizes). Values that
    /// change every step use <see cref="With"/>, so the cache stays small; past its limit, <see cref="With"/> is required.
    /// </summary>
    /// <exception cref="InvalidOperationException">More than 4,096 distinct values were cached.</exception>
    public static Scalar Of(double value)
    {
        var key = BitConverter.DoubleToInt64Bits(value);
        if (Doubles.TryGetValue(key, out var cached))
        {
            return cached;
        }

        if (Doubles.Count >= CacheLimit)
        {
            throw new InvalidOperationException($"Scalars: more than {CacheLimit} distinct cached values; a value that changes per call must use Scalars.With.");
        }

        var made = value.ToScalar();
        var kept = Doubles.GetOrAdd(key, made);
        if (!ReferenceEquals(kept, made))
        {
            made.Dispose();
        }

        return kept;
    }

    /// <summary>
    /// The cached integer Scalar of a value fixed by code or configuration: what an <c>int</c> or <c>long</c> converted
    /// implicitly gives (an integer Scalar keeps integer tensors integer, where a floating one promotes them).
    /// </summary>
    /// <exception cref="InvalidOperationException">More than 4,096 distinct integer values were cached.</exception>
    public static Scalar OfInt(long value)
    {
        if (Integers.TryGetValue(value, out var cached))
        {
            return cached;
        }

        if (Integers.Count >= CacheLimit)
        {
            throw new InvalidOperationException($"Scalars: more than {CacheLimit} distinct cached integer values; a value that changes per call must use Scalars.WithInt.");
        }

        var made = value.ToScalar();
        var kept = Integers.GetOrAdd(value, made);
        if (!ReferenceEquals(kept, made))
        {
            made.Dispose();
        }

        return kept;
    }

    private static IntPtr NewNative(double value)
    {
        // Loads libtorch through TorchSharp before the first native call of this class.
        torch.InitializeDeviceType(DeviceType.CPU);
        var handle = THSTorch_float64_to_scalar(value);
        if (handle == IntPtr.Zero)
        {
            torch.CheckForErrors();
        }

        return handle;
    }

    /// <summary>Runs <paramref name="call"/> with a Scalar of <paramref name="value"/> that lives until it returns.</summary>
    public static Tensor With(double value, Func<Scalar, Tensor> call)
    {
        using var scalar = value.ToScalar();
        return call(scalar);
    }

    /// <summary>Runs <paramref name="call"/> with an integer Scalar of <paramref name="value"/> that lives until it returns.</summary>
    public static Tensor WithInt(long value, Func<Scalar, Tensor> call)
    {
        using var scalar = value.ToScalar();
        return call(scalar);
    }

    /// <summary><c>1 - x</c> as TorchSharp computes it, <c>x.negative().add(1)</c> with integer Scalars, without its temporaries.</summary>
    public static Tensor OneMinus(Tensor x) => x.negative().add(IntOne, IntOne);

    /// <summary><c>x.square()</c> as TorchSharp computes it, <c>pow(2)</c> with an integer 2, without its temporary.</summary>
    public static Tensor Square(Tensor x) => x.pow(IntTwo);

    /// <summary>
    /// torch's softplus(x) with TorchSharp's defaults beta 1 and threshold 20: the native kernel TorchSharp's
    /// <c>softplus()</c> calls, with its two Scalars made once (TorchSharp has no public overload taking Scalars, and
    /// <see cref="Scalar"/>'s native handle is internal, so these are native Scalars this class owns for the process).
    /// </summary>
    public static Tensor Softplus(Tensor x) => Checked(THSTensor_softplus(x.Handle, NativeOne, NativeTwenty), x);

    /// <summary>torch's softshrink(x, 0.5), the native kernel TorchSharp's <c>softshrink(Tensor, 0.5)</c> calls.</summary>
    public static Tensor Softshrink(Tensor x) => Checked(THSTensor_softshrink(x.Handle, NativeHalf), x);

    /// <summary>torch's hardshrink(x, 0.5), the native kernel TorchSharp's <c>hardshrink(Tensor, 0.5)</c> calls.</summary>
    public static Tensor Hardshrink(Tensor x) => Checked(THSTensor_hardshrink(x.Handle, NativeHalf), x);

    private static Tensor Checked(IntPtr result, Tensor x)
    {
        GC.KeepAlive(x);
        if (result == IntPtr.Zero)
        {
            torch.CheckForErrors();
        }

        return Tensor.UnsafeCreateTensor(result);
    }

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTorch_float64_to_scalar(double value);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_softplus(IntPtr tensor, IntPtr beta, IntPtr threshold);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_softshrink(IntPtr tensor, IntPtr lambda);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_hardshrink(IntPtr tensor, IntPtr lambda);
}
