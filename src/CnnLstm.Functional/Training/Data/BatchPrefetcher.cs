using System.Collections.Concurrent;

namespace KerasStyle.Training.Data;

/// <summary>
/// Prepares a source's batches ahead of their use, in order: one feeder thread starts a task per batch on a scheduler
/// limited to <see cref="DataSource.Workers"/> threads and queues it, blocking while <see cref="DataSource.MaxQueueSize"/>
/// tasks wait (Keras' <c>OrderedEnqueuer</c>). A failed batch ends the wait for any other at once. Disposing cancels
/// the token every <c>GetBatch</c> got, stops the feeder, waits up to <see cref="DataSource.StopTimeout"/> for the
/// batches still being prepared and disposes the batches nobody took; a batch still running after that is abandoned
/// (its result disposed when it returns), so a <c>GetBatch</c> that blocks cannot hold the call.
/// </summary>
internal sealed class BatchPrefetcher<T> : IDisposable
    where T : class, IDisposable
{
    private readonly DataSource source;
    private readonly BlockingCollection<(int Index, Task<T> Batch)> queue;
    private readonly CancellationTokenSource cancel = new();
    private readonly CancellationTokenSource failed = new();
    private readonly Thread feeder;
    private Failure? failure;
    private Task<T>? orphan;
    private (int Index, Task<T> Batch)? current;

    /// <param name="source">The source, for its batches and limits.</param>
    /// <param name="order">The batch indices, in the order they are used.</param>
    /// <param name="prepare">Turns a supplied batch into what the step uses (tensors, checked); runs on a worker.</param>
    /// <exception cref="InvalidOperationException">A <c>GetBatch</c> abandoned by an earlier call still runs.</exception>
    public BatchPrefetcher(DataSource source, IEnumerable<int> order, Func<DataBatch, T> prepare)
    {
        source.RequireIdle();
        this.source = source;
        queue = new BlockingCollection<(int, Task<T>)>(source.MaxQueueSize);
        var scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, source.Workers).ConcurrentScheduler;
        feeder = new Thread(() =>
        {
            Task<T>? pending = null;
            try
            {
                foreach (var index in order)
                {
                    pending = Task.Factory.StartNew(() => Prepare(index, prepare), cancel.Token, TaskCreationOptions.None, scheduler);
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
    /// its batch, this one's or any other's, is thrown as <see cref="DataSourceException"/> with the batch index; a
    /// sequence that ran out as <see cref="EndOfDataException"/>. When <paramref name="cancellationToken"/> fires
    /// first, <see cref="OperationCanceledException"/> is thrown and the batch waited for stays pending: the next call
    /// waits for it again.
    /// </summary>
    public T? Next(CancellationToken cancellationToken)
    {
        // A batch already queued is taken without waiting, even when a later one has failed since: it is used before
        // that failure ends the call, so a failure loses no batch that was ready.
        if (current is null && queue.TryTake(out var ready))
        {
            current = ready;
        }

        if (current is null || !current.Value.Batch.IsCompleted)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, failed.Token);
            try
            {
                if (current is null)
                {
                    if (!queue.TryTake(out var item, Timeout.Infinite, wait.Token))
                    {
                        return null;
                    }

                    current = item;
                }

                current.Value.Batch.Wait(wait.Token);
            }
            catch (AggregateException)
            {
                // The batch failed: thrown below, as the source threw it.
            }
            catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested && e.CancellationToken != cancellationToken)
            {
                // Thrown for the linked token: the caller is told its own, as .NET callers expect.
                throw new OperationCanceledException(e.Message, e, cancellationToken);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && Volatile.Read(ref failure) is { } first)
            {
                // The failure may have come just after this batch was ready (a wait that sees both reports the
                // cancellation): a ready batch is still used first.
                if (current is null && queue.TryTake(out var late))
                {
                    current = late;
                }

                if (current?.Batch.IsCompletedSuccessfully != true)
                {
                    throw new DataSourceException(first.Index, first.Error);
                }
            }
        }

        var (index, batch) = current!.Value;
        current = null;
        try
        {
            return batch.GetAwaiter().GetResult();
        }
        catch (EndOfDataException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new DataSourceException(index, e);
        }
    }

    public void Dispose()
    {
        cancel.Cancel();
        feeder.Join();
        var unused = queue.GetConsumingEnumerable().Select(item => item.Batch).ToList();
        unused.AddRange(new[] { orphan, current?.Batch }.OfType<Task<T>>());

        // Wait, within the source's bound, for every started batch, so that no GetBatch runs after the call returns.
        Task.WhenAll(unused).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Wait(source.StopTimeout);
        var running = unused.Where(t => !t.IsCompleted).ToList();
        foreach (var task in unused)
        {
            // A batch nobody will use: its result is disposed (when it comes), its failure or cancellation ignored.
            task.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        queue.Dispose();
        if (running.Count > 0)
        {
            // The abandoned GetBatch calls may still read their token: the sources stay undisposed for them.
            source.Abandon(running);
            Warnings.Warn($"DataSource {source.GetType().Name}: {running.Count} batch(es) still being prepared {source.StopTimeout.TotalSeconds:0.###} s (StopTimeout) after the call ended; they are abandoned on their worker thread and disposed if they return. Override GetBatch(index, cancellationToken) to stop early.");
            return;
        }

        cancel.Dispose();
        failed.Dispose();
    }

    /// <summary>One batch on a worker: its failure (not a sequence's end, nor one after the call ended) ends the wait for any batch.</summary>
    private T Prepare(int index, Func<DataBatch, T> prepare)
    {
        try
        {
            return prepare(source.GetBatch(index, cancel.Token));
        }
        catch (Exception e) when (e is not EndOfDataException && !cancel.IsCancellationRequested)
        {
            Interlocked.CompareExchange(ref failure, new Failure(index, e), null);
            failed.Cancel();
            throw;
        }
    }

    private sealed record Failure(int Index, Exception Error);
}
