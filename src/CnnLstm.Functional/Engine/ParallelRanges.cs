namespace KerasStyle.Engine;

/// <summary>Splits [0, count) across the cores for the library's own element-wise kernels.</summary>
internal static class ParallelRanges
{
    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count): inline when <paramref name="work"/> is below
    /// <paramref name="threshold"/> (a second thread would cost more than it saves), otherwise one range per thread of the ThreadPolicy,
    /// each starting on a multiple of <paramref name="alignment"/>.
    /// </summary>
    public static void For(long count, long work, long threshold, long alignment, Action<long, long> body)
    {
        // The same count as libtorch's pool: on a busy machine a second range would wait for a core.
        var cores = ThreadPolicy.CurrentThreads;
        if (work < threshold || cores == 1)
        {
            body(0, count);
            return;
        }

        // Round the share up (never down: that would drop the last elements), then up to the alignment.
        var share = (count + cores - 1) / cores;
        var chunk = (share + alignment - 1) / alignment * alignment;
        Parallel.For(0, cores, i =>
        {
            var start = i * chunk;
            var end = Math.Min(count, start + chunk);
            if (start < end)
            {
                body(start, end);
            }
        });
    }
}
