using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KerasStyle.Engine;

/// <summary>
/// The vector operations the library's C# kernels are written in (the LSTM kernels, fused Adam), one implementation
/// per width (16, 8, 4 and 1 floats); the JIT compiles each instantiation to straight SIMD code, so a loop is written
/// once for every width. Every operation except <see cref="MulAdd"/> and <see cref="Exp"/> is element-wise IEEE
/// single precision, the same bits at every width.
/// </summary>
internal unsafe interface ILanes<TSelf>
    where TSelf : unmanaged, ILanes<TSelf>
{
    static abstract int Count { get; }

    static abstract TSelf Zero { get; }

    static abstract TSelf One { get; }

    static abstract TSelf Two { get; }

    static abstract TSelf MinusTwo { get; }

    static abstract TSelf Load(float* p);

    static abstract void Store(TSelf v, float* p);

    static abstract TSelf Broadcast(float x);

    /// <summary>a b + c, fused where the CPU has FMA.</summary>
    static abstract TSelf MulAdd(TSelf a, TSelf b, TSelf c);

    static abstract TSelf Add(TSelf a, TSelf b);

    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(TSelf a);

    static abstract TSelf Subtract(TSelf a, TSelf b);

    static abstract TSelf Mul(TSelf a, TSelf b);

    static abstract TSelf Divide(TSelf a, TSelf b);

    /// <summary>The correctly rounded square root of each lane.</summary>
    static abstract TSelf Sqrt(TSelf a);

    static abstract TSelf Negate(TSelf a);

    /// <summary>The smaller of each pair, NaN if either is NaN.</summary>
    static abstract TSelf Min(TSelf a, TSelf b);

    /// <summary>The larger of each pair, NaN if either is NaN.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary>Rounded to the nearest integer, ties to even.</summary>
    static abstract TSelf Round(TSelf a);

    /// <summary>2^n for integer-valued n in [−126, 128] (128 gives +∞).</summary>
    static abstract TSelf PowerOfTwo(TSelf n);

    /// <summary>e^x within about 2 ulp (<see cref="LstmInferenceKernel.ExpPolynomial"/>; the scalar path uses MathF.Exp).</summary>
    static abstract TSelf Exp(TSelf a);
}

internal readonly unsafe struct Lanes512(Vector512<float> v) : ILanes<Lanes512>
{
    private readonly Vector512<float> v = v;

    public static int Count => Vector512<float>.Count;

    public static Lanes512 Zero => new(Vector512<float>.Zero);

    public static Lanes512 One => new(Vector512<float>.One);

    public static Lanes512 Two => new(Vector512.Create(2f));

    public static Lanes512 MinusTwo => new(Vector512.Create(-2f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Load(float* p) => new(Vector512.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes512 x, float* p) => x.v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Broadcast(float x) => new(Vector512.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 MulAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.MultiplyAddEstimate(a.v, b.v, c.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes512 a) => Vector512.Sum(a.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Add(Lanes512 a, Lanes512 b) => new(a.v + b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Subtract(Lanes512 a, Lanes512 b) => new(a.v - b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Mul(Lanes512 a, Lanes512 b) => new(a.v * b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Divide(Lanes512 a, Lanes512 b) => new(a.v / b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Sqrt(Lanes512 a) => new(Vector512.Sqrt(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Negate(Lanes512 a) => new(-a.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Exp(Lanes512 a) => LstmInferenceKernel.ExpPolynomial(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Min(Lanes512 a, Lanes512 b) => new(Vector512.Min(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Max(Lanes512 a, Lanes512 b) => new(Vector512.Max(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Round(Lanes512 a) => new(Vector512.Round(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 PowerOfTwo(Lanes512 n) => new(Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n.v) + Vector512.Create(127), 23).AsSingle());
}

internal readonly unsafe struct Lanes256(Vector256<float> v) : ILanes<Lanes256>
{
    private readonly Vector256<float> v = v;

    public static int Count => Vector256<float>.Count;

    public static Lanes256 Zero => new(Vector256<float>.Zero);

    public static Lanes256 One => new(Vector256<float>.One);

    public static Lanes256 Two => new(Vector256.Create(2f));

    public static Lanes256 MinusTwo => new(Vector256.Create(-2f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Load(float* p) => new(Vector256.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes256 x, float* p) => x.v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Broadcast(float x) => new(Vector256.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 MulAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.MultiplyAddEstimate(a.v, b.v, c.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes256 a) => Vector256.Sum(a.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Add(Lanes256 a, Lanes256 b) => new(a.v + b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Subtract(Lanes256 a, Lanes256 b) => new(a.v - b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Mul(Lanes256 a, Lanes256 b) => new(a.v * b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Divide(Lanes256 a, Lanes256 b) => new(a.v / b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Sqrt(Lanes256 a) => new(Vector256.Sqrt(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Negate(Lanes256 a) => new(-a.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Exp(Lanes256 a) => LstmInferenceKernel.ExpPolynomial(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Min(Lanes256 a, Lanes256 b) => new(Vector256.Min(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Max(Lanes256 a, Lanes256 b) => new(Vector256.Max(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Round(Lanes256 a) => new(Vector256.Round(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 PowerOfTwo(Lanes256 n) => new(Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n.v) + Vector256.Create(127), 23).AsSingle());
}

internal readonly unsafe struct Lanes128(Vector128<float> v) : ILanes<Lanes128>
{
    private readonly Vector128<float> v = v;

    public static int Count => Vector128<float>.Count;

    public static Lanes128 Zero => new(Vector128<float>.Zero);

    public static Lanes128 One => new(Vector128<float>.One);

    public static Lanes128 Two => new(Vector128.Create(2f));

    public static Lanes128 MinusTwo => new(Vector128.Create(-2f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Load(float* p) => new(Vector128.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes128 x, float* p) => x.v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Broadcast(float x) => new(Vector128.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 MulAdd(Lanes128 a, Lanes128 b, Lanes128 c) => new(Vector128.MultiplyAddEstimate(a.v, b.v, c.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes128 a) => Vector128.Sum(a.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Add(Lanes128 a, Lanes128 b) => new(a.v + b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Subtract(Lanes128 a, Lanes128 b) => new(a.v - b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Mul(Lanes128 a, Lanes128 b) => new(a.v * b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Divide(Lanes128 a, Lanes128 b) => new(a.v / b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Sqrt(Lanes128 a) => new(Vector128.Sqrt(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Negate(Lanes128 a) => new(-a.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Exp(Lanes128 a) => LstmInferenceKernel.ExpPolynomial(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Min(Lanes128 a, Lanes128 b) => new(Vector128.Min(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Max(Lanes128 a, Lanes128 b) => new(Vector128.Max(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Round(Lanes128 a) => new(Vector128.Round(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 PowerOfTwo(Lanes128 n) => new(Vector128.ShiftLeft(Vector128.ConvertToInt32Native(n.v) + Vector128.Create(127), 23).AsSingle());
}

/// <summary>The scalar path, for CPUs without SIMD (and the tests' check of the vector paths).</summary>
internal readonly unsafe struct Lanes1(float v) : ILanes<Lanes1>
{
    private readonly float v = v;

    public static int Count => 1;

    public static Lanes1 Zero => new(0f);

    public static Lanes1 One => new(1f);

    public static Lanes1 Two => new(2f);

    public static Lanes1 MinusTwo => new(-2f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Load(float* p) => new(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes1 x, float* p) => *p = x.v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Broadcast(float x) => new(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 MulAdd(Lanes1 a, Lanes1 b, Lanes1 c) => new((a.v * b.v) + c.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes1 a) => a.v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Add(Lanes1 a, Lanes1 b) => new(a.v + b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Subtract(Lanes1 a, Lanes1 b) => new(a.v - b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Mul(Lanes1 a, Lanes1 b) => new(a.v * b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Divide(Lanes1 a, Lanes1 b) => new(a.v / b.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Sqrt(Lanes1 a) => new(MathF.Sqrt(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Negate(Lanes1 a) => new(-a.v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Exp(Lanes1 a) => new(MathF.Exp(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Min(Lanes1 a, Lanes1 b) => new(MathF.Min(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Max(Lanes1 a, Lanes1 b) => new(MathF.Max(a.v, b.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 Round(Lanes1 a) => new(MathF.Round(a.v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes1 PowerOfTwo(Lanes1 n) => new(MathF.ScaleB(1f, (int)n.v));
}
