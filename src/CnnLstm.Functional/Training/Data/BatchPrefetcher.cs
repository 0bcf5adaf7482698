using System.Collections.Concurrent;

namespace KerasStyle.Training.Data;

/// <summary>
/// Prepares a source's batches ahead of their use, in order: one feeder thread starts a task per batch on a scheduler
/// limited to <see cref="DataSource.Workers"/> threads and queues it, blocking while <see cref="DataSource.MaxQueueSize"/>
/// tasks wait (Keras' <c>OrderedEnqueuer</c>). Disposing stops the feeder, waits for every started task and disposes
/// the batches nobody took, so no thread outlives a <c>Fit</c>.
/// </summary>
internal sealed class BatchPrefetcher<T> : IDisposable
    where T : class, IDisposable
{
    private readonly BlockingCollection<(int Index, Task<T> Batch)> queue;
    private readonly CancellationTokenSource cancel = new();
    private readonly Thread feeder;
    private Task<T>? orphan;

    /// <param name="source">The source, for its batches and limits.</param>
    /// <param name="order">The batch indices, in the order they are used.</param>
    /// <param name="prepare">Turns a supplied batch into what the step uses (tensors, checked); runs on a worker.</param>
    public BatchPrefetcher(DataSource source, IEnumerable<int> order, Func<DataBatch, T> prepare)
    {
        queue = new BlockingCollection<(int, Task<T>)>(source.MaxQueueSize);
        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, source.Workers).ConcurrentScheduler;
        feeder = new Thread(() =>
        {
            Task<T>? pending = null;
            try
            {
                foreach (var index in order)
                {
                    pending = Task.Factory.StartNew(() => prepare(source.GetBatch(index)), cancel.Token, TaskCreationOptions.None, scheduler);
                    queue.Add((index, pending), cancel.Token);
                    pending = null;
                }
            }
            catch (OperationCanceledException)
            {
                // Disposed before the end; a batch started but not queued is left for Dispose to wait for.
                orphan = pending;
            }
            finally
            {
                queue.CompleteAdding();
            }
        })
        {
            IsBackground = true,
            Name = "KerasStyle batch prefetch",
        };
        feeder.Start();
    }

    /// <summary>
    /// The next batch (the caller disposes it), or null after the last. A failure in the source or in the check of
    /// its batch is thrown as <see cref="DataSourceException"/> with the batch index; a sequence that ran out as
    /// <see cref="EndOfDataException"/>.
    /// </summary>
    public T? Next()
    {
        if (!queue.TryTake(out var item, Timeout.Infinite))
        {
            return null;
        }

        try
        {
            return item.Batch.GetAwaiter().GetResult();
        }
        catch (EndOfDataException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new DataSourceException(item.Index, e);
        }
    }

    public void Dispose()
    {
        cancel.Cancel();
        feeder.Join();
        var unused = queue.GetConsumingEnumerable().Select(item => item.Batch).ToList();
        if (orphan is not null)
        {
            unused.Add(orphan);
        }

        // Wait for every started batch, so that no GetBatch runs after the call that used this prefetcher returns.
        foreach (var task in unused)
        {
            try
            {
                task.GetAwaiter().GetResult().Dispose();
            }
            catch (Exception)
            {
                // A batch nobody will use: its failure (or cancellation) does not matter any more.
            }
        }

        queue.Dispose();
        cancel.Dispose();
    }
}
