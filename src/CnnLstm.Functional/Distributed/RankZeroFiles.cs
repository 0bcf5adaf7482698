using System.Runtime.ExceptionServices;
using KerasStyle.Models;

namespace KerasStyle.Distributed;

/// <summary>
/// Writing files under a <see cref="DataParallel"/> distribution (<c>Model.Save</c>, <c>SaveWeights</c>, <c>Export</c>):
/// every rank holds the same weights, so rank 0 alone writes and one path serves all ranks; the call is then a barrier
/// that also carries rank 0's outcome, so no rank goes on (or reads the file) before it is written. Inside a distributed
/// <c>Fit</c> or <c>Evaluate</c>, where callbacks that write run on rank 0 only, rank 0 writes and the others return
/// at once (a collective call there would leave rank 0 waiting for ranks that never make it).
/// </summary>
internal static class RankZeroFiles
{
    /// <summary>Runs <paramref name="write"/> in one process as it is; under a distribution on rank 0 only, then waits for every rank (see the class).</summary>
    /// <param name="model">The model written.</param>
    /// <param name="what">The method, for messages.</param>
    /// <param name="path">The file, for messages.</param>
    /// <param name="write">The write itself.</param>
    /// <exception cref="IOException">On a rank other than 0: rank 0's write failed.</exception>
    public static void Write(Model model, string what, string path, Action write)
    {
        if (Distribution.Current is not { } distribution)
        {
            write();
            return;
        }

        if (model.Trainer.InDistributedLoop)
        {
            if (distribution.Rank == 0)
            {
                write();
            }

            return;
        }

        Exception? error = null;
        if (distribution.Rank == 0)
        {
            try
            {
                write();
            }
            catch (Exception e)
            {
                error = e;
            }
        }

        var failed = new[] { error is null ? 0.0 : 1.0 };
        distribution.AllreduceSum(failed);
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(error);
        }

        if (failed[0] > 0)
        {
            throw new IOException($"{what}: rank 0 could not write '{path}' (rank 0 threw the reason); under a DataParallel distribution only rank 0 writes files.");
        }
    }
}
