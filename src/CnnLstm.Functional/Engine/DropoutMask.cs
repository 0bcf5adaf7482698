using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static KerasStyle.Engine.LstmInferenceKernel;
using static TorchSharp.torch;

namespace KerasStyle.Engine;

/// <summary>
/// Inverted dropout with a counter-based generator: each element's keep/drop draw is a SplitMix64 hash of its index
/// and a seed taken from TorchSharp's seeded generator, so runs repeat under <c>Utils.SetRandomSeed</c> and the
/// threads can split the work freely. libtorch's own CPU dropout draws element by element on one thread, which took
/// about a quarter of a sentiment training step.
/// </summary>
/// <remarks>
/// <para>No mask tensor on the fast path (issue 27): for a float32 CPU input, the forward reads x once and writes
/// y = x · mask(i) with the draw made on the fly, and, when x requires a gradient with autograd on, a TorchSharp
/// custom autograd function saves only the seed, threshold and scale (no tensor) and its backward draws the same mask
/// again for dx = dy · mask(i). The products are the same float multiplications as libtorch's <c>x * mask</c> and its
/// backward <c>dy * mask</c>, so the results are equal bit for bit (DropoutMaskTests).</para>
/// <para>A backward that builds a graph (<c>create_graph</c>, for a second derivative) makes the mask tensor and
/// returns dy * mask as a libtorch op, differentiable again. Other dtypes and devices take the mask tensor and
/// libtorch's <c>x * mask</c> (x's dtype, as type promotion gives it).</para>
/// <para>Errors: an exception cannot leave a custom backward (it would end the process), so a backward that fails
/// reports it through <see cref="Warnings"/> (standard error if a handler throws) and gives NaN for the gradient.</para>
/// </remarks>
internal static unsafe class DropoutMask
{
    private const long ParallelThreshold = 1 << 15;

    /// <summary>Whether the fast path applies: a CPU float32 tensor.</summary>
    public static bool Supports(Tensor x) => TensorData.IsCpuFloat32(x);

    /// <summary>
    /// x * mask, where mask is 1 / (1 - rate) with probability 1 - rate and 0 otherwise, element i's draw taken from
    /// position i / 2 of the stream <paramref name="seed"/> (x's elements in row-major order). The result has x's
    /// shape and is contiguous; it is in x's autograd graph when x requires a gradient and autograd is on.
    /// </summary>
    /// <param name="x">The input, any shape; float32 on the CPU for the fast path.</param>
    /// <param name="rate">The fraction dropped, in [0, 1).</param>
    /// <param name="seed">The stream's seed.</param>
    public static Tensor Apply(Tensor x, double rate, ulong seed)
    {
        var draw = new Draw(seed, rate);
        if (!Supports(x))
        {
            using var mask = Mask(x.shape, draw);
            return x * mask;
        }

        return x.requires_grad && is_grad_enabled() ? Function.Run(x, draw) : Multiply(x, draw);
    }

    /// <summary>The mask itself (float32, contiguous): the values <see cref="Apply"/> multiplies by.</summary>
    internal static Tensor Mask(long[] shape, double rate, ulong seed) => Mask(shape, new Draw(seed, rate));

    /// <summary>The present path before issue 27's change, for comparisons: the mask tensor and libtorch's <c>x * mask</c>.</summary>
    internal static Tensor ApplyWithMaskTensor(Tensor x, double rate, ulong seed)
    {
        using var mask = Mask(x.shape, rate, seed);
        return x * mask;
    }

    private static Tensor Mask(long[] shape, Draw draw)
    {
        var mask = empty(shape, dtype: ScalarType.Float32);
        Run(null, TensorData.FloatPointer(mask), mask.numel(), draw);
        return mask;
    }

    /// <summary>y = x * mask into a new contiguous float32 tensor (in the caller's dispose scope), x read once.</summary>
    private static Tensor Multiply(Tensor x, Draw draw)
    {
        var y = empty(x.shape, dtype: ScalarType.Float32);
        using (var scope = NewDisposeScope())
        {
            var source = Contiguous(x);
            Run(TensorData.FloatPointer(source), TensorData.FloatPointer(y), y.numel(), draw);
        }

        return y;
    }

    /// <summary>target[i] = source[i] * mask(i), or mask(i) itself when <paramref name="source"/> is null, split over the threads.</summary>
    private static void Run(float* source, float* target, long n, Draw draw)
    {
        var (seed, threshold, scale) = (draw.Seed, draw.Threshold, draw.Scale);
        // Ranges start on even indices: elements 2k and 2k + 1 share one hash.
        ParallelRanges.For(n, n, ParallelThreshold, 2, (start, end) => Fill(source, target, start, end, seed, threshold, scale));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fill(float* source, float* data, long start, long end, ulong seed, uint threshold, float scale)
    {
        // One hash gives two 32-bit draws: elements 2k and 2k + 1 take the low and high half of hash k (chunks
        // start on even indices). Sixteen or eight elements per vector step; the scalar tail draws the same values.
        // With a source, each element is source · (scale or 0), the float product libtorch's x * mask makes.
        var i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            // Sixteen elements (eight hashes) per step where .NET accelerates AVX-512: the same draws as below.
            var lanes = Vector512.Create(0UL, 1UL, 2UL, 3UL, 4UL, 5UL, 6UL, 7UL);
            var seeds = Vector512.Create(seed);
            var thresholds = Vector512.Create(threshold);
            var scales = Vector512.Create(scale);
            for (; i + 16 <= end; i += 16)
            {
                var z = seeds + ((Vector512.Create(((ulong)i >> 1) + 1) + lanes) * Vector512.Create(Golden));
                z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(Mix1);
                z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(Mix2);
                z ^= Vector512.ShiftRightLogical(z, 31);
                var keep = Vector512.GreaterThanOrEqual(z.AsUInt32(), thresholds).AsSingle();
                var mask = Vector512.ConditionalSelect(keep, scales, Vector512<float>.Zero);
                (source is null ? mask : Vector512.Load(source + i) * mask).Store(data + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(0UL, 1UL, 2UL, 3UL);
            var seeds = Vector256.Create(seed);
            var thresholds = Vector256.Create(threshold);
            var scales = Vector256.Create(scale);
            for (; i + 8 <= end; i += 8)
            {
                var z = seeds + ((Vector256.Create(((ulong)i >> 1) + 1) + lanes) * Vector256.Create(Golden));
                z = (z ^ Vector256.ShiftRightLogical(z, 30)) * Vector256.Create(Mix1);
                z = (z ^ Vector256.ShiftRightLogical(z, 27)) * Vector256.Create(Mix2);
                z ^= Vector256.ShiftRightLogical(z, 31);
                var keep = Vector256.GreaterThanOrEqual(z.AsUInt32(), thresholds).AsSingle();
                var mask = Vector256.ConditionalSelect(keep, scales, Vector256<float>.Zero);
                (source is null ? mask : Vector256.Load(source + i) * mask).Store(data + i);
            }
        }

        for (; i < end; i++)
        {
            var bits = Hash(seed, (ulong)i >> 1);
            var draw = (i & 1) == 0 ? (uint)bits : (uint)(bits >> 32);
            var mask = draw >= threshold ? scale : 0f;
            data[i] = source is null ? mask : source[i] * mask;
        }
    }

    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong Mix1 = 0xBF58476D1CE4E5B9UL;
    private const ulong Mix2 = 0x94D049BB133111EBUL;

    /// <summary>SplitMix64 at position <paramref name="counter"/> of the stream <paramref name="seed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ulong seed, ulong counter)
    {
        var z = seed + ((counter + 1) * Golden);
        z = (z ^ (z >> 30)) * Mix1;
        z = (z ^ (z >> 27)) * Mix2;
        return z ^ (z >> 31);
    }

    /// <summary>One call's draw: the seed, the 32-bit threshold a draw must reach to keep, and the kept value's scale.</summary>
    private sealed record Draw(ulong Seed, uint Threshold, float Scale)
    {
        // Keep when the 32-bit draw is at or above rate * 2^32, i.e. with probability 1 - rate.
        public Draw(ulong seed, double rate)
            : this(seed, (uint)Math.Min(Math.Round(rate * 4294967296.0), uint.MaxValue), (float)(1 / (1 - rate)))
        {
        }

        /// <summary>The tensors the forward made (<see cref="Function.Run"/> frees them after TorchSharp wrapped the output).</summary>
        public HashSet<IDisposable> Made { get; } = new(ReferenceEqualityComparer.Instance);
    }

    /// <summary>
    /// The custom autograd function of the fast path: its forward writes y = x * mask and saves only the draw; its
    /// backward draws the mask again for dx = dy * mask. Its instance is TorchSharp's singleton, so all state lives in
    /// the context.
    /// </summary>
    private sealed class Function : TorchSharp.torch.autograd.SingleTensorFunction<Function>
    {
        public override string Name => nameof(DropoutMask);

        /// <summary>x * mask in x's graph, the result in the caller's dispose scope.</summary>
        public static Tensor Run(Tensor x, Draw draw)
        {
            Tensor output;
            using (var scope = NewDisposeScope())
            {
                output = apply(x, draw);

                // As LstmTrainingKernel.Run: TorchSharp's graph node makes, in the current scope, an empty tensor per
                // output that it frees with the node; freed by a scope that ends before the backward (an eager layer
                // call, then backward), that backward would end the process. So the output goes to the caller's
                // scope, the forward's own tensor is freed here (the output is a new handle) and the rest is left to
                // the node.
                scope.MoveToOuter(output);
                scope.Detach(scope.DisposablesView.Where(d => !draw.Made.Contains(d)).ToArray());
            }

            return output;
        }

        public override Tensor forward(TorchSharp.torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, draw) = ((Tensor)vars[0], (Draw)vars[1]);
            var y = Multiply(x, draw);
            draw.Made.Add(y);
            ctx.save_data("draw", draw);
            ctx.save_data("shape", x.shape);
            return y;
        }

        public override List<Tensor> backward(TorchSharp.torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            try
            {
                var draw = (Draw)ctx.get_data("draw");
                if (is_grad_enabled())
                {
                    // A backward that builds a graph (create_graph, for a second derivative): the C# pass would
                    // record nothing, so dy * mask as a libtorch op, differentiable again with respect to dy.
                    using var mask = Mask(grad_output.shape, draw);
                    return new List<Tensor> { grad_output * mask, null! };
                }

                // The gradient in the caller's scope (libtorch takes it when this returns).
                return new List<Tensor> { Multiply(grad_output, draw), null! };
            }
            catch (Exception e)
            {
                // An exception leaving a custom backward ends the process (TorchSharp calls it from libtorch's engine),
                // so the error becomes a warning and the gradient NaN: the failure shows in the weights.
                var message = $"Dropout backward could not run ({e.Message.Split('\n')[0].Trim()}); its gradient is NaN.";
                try
                {
                    Warnings.Warn(message);
                }
                catch (Exception)
                {
                    // A handler that throws (warnings as errors) cannot do so here either.
                    Console.Error.WriteLine($"Warning: {message}");
                }

                return new List<Tensor> { Scalars.With(double.NaN, nan => full((long[])ctx.get_data("shape"), nan, ScalarType.Float32)), null! };
            }
        }
    }
}
