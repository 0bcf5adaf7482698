using KerasStyle.Models;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Data;

namespace KerasStyle.Tests.Training.Data;

/// <summary>
/// Stops, errors and cancellation while a DataSource's GetBatch blocks: each ends the call within a bounded time, with
/// the weights of the last completed step, and a batch that ignores its token is abandoned, not waited for forever.
/// The sources block on events, not on time; the only timed value is a generous bound that guards against a hang.
/// </summary>
public class DataSourceStoppingTests
{
    /// <summary>A guard against a hang, far above the 0.1 s StopTimeout the sources use.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly List<string> warnings = new();

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(5);
        warnings.Clear();
        Warnings.Raised += Listen;
    }

    [TearDown]
    public void StopListening() => Warnings.Raised -= Listen;

    private void Listen(object? sender, string message)
    {
        lock (warnings)
        {
            warnings.Add(message);
        }
    }

    [Test]
    public void Fit_CancelledWhileGetBatchBlocks_ThrowsOperationCanceled_KeepsTheLastStepsWeights_AndAbandonsTheBatch()
    {
        using var model = Compiled();
        var source = new BlockingSource(blockAt: 3);
        using var cancel = new CancellationTokenSource();
        var afterStep = new List<float[]>();
        var trainEnded = false;
        var epochEnded = false;
        using var trained = new ManualResetEventSlim();
        var callback = new LambdaCallback(
            onBatchEnd: (_, _) =>
            {
                afterStep.Add(TinyModels.Flat(model));
                trained.Set();
            },
            onEpochEnd: (_, _) => epochEnded = true,
            onTrainEnd: _ => trainEnded = true);
        _ = Task.Run(() =>
        {
            source.Blocked.Wait();
            trained.Wait();
            cancel.Cancel();
        });

        var fit = Task.Run(() => model.Fit(source, epochs: 2, verbose: 0, shuffle: false, callbacks: new[] { callback }, cancellationToken: cancel.Token));

        Assert.That(WaitQuietly(fit), Is.True, "Fit returned although GetBatch(3) still blocks");
        var error = fit.Exception!.InnerException;
        Assert.That(error, Is.InstanceOf<OperationCanceledException>());
        Assert.That(((OperationCanceledException)error!).CancellationToken, Is.EqualTo(cancel.Token));
        Assert.That(afterStep, Has.Count.InRange(1, 3));
        Assert.That(TinyModels.Flat(model), Is.EqualTo(afterStep[^1]), "the weights of the last completed step");
        Assert.That(epochEnded || trainEnded, Is.False, "as Keras on an interrupt: no OnEpochEnd or OnTrainEnd");
        Assert.That(warnings, Has.Some.Contains("abandoned"));

        // The abandoned batch returns later; then the source can be used again.
        source.Release.Set();
        Assert.That(model.Fit(source, epochs: 1, verbose: 0, shuffle: false).Values["loss"], Has.Count.EqualTo(1));
    }

    [Test]
    public void Fit_StopTrainingSetFromAnotherThreadWhileGetBatchBlocks_EndsTheEpochAndReturnsTheHistory()
    {
        using var model = Compiled();
        var source = new BlockingSource(blockAt: 3);
        var trainEnded = false;
        using var trained = new ManualResetEventSlim();
        _ = Task.Run(() =>
        {
            source.Blocked.Wait();
            trained.Wait();
            model.StopTraining = true;
        });

        var fit = Task.Run(() => model.Fit(source, epochs: 3, verbose: 0, shuffle: false, callbacks: new[] { new LambdaCallback(onBatchEnd: (_, _) => trained.Set(), onTrainEnd: _ => trainEnded = true) }));

        Assert.That(WaitQuietly(fit), Is.True, "Fit returned although GetBatch(3) still blocks");
        Assert.That(fit.Result.Values["loss"], Has.Count.EqualTo(1), "the stopped epoch ends, as Keras' stop_training");
        Assert.That(trainEnded, Is.True);
        source.Release.Set();
    }

    [Test]
    public void Fit_CallbackThrowsWhileAnotherBatchBlocks_ThrowsTheCallbacksException_WithinTheBound()
    {
        using var model = Compiled();
        var source = new BlockingSource(blockAt: 2, workers: 2);
        var callback = new LambdaCallback(onBatchEnd: (batch, _) =>
        {
            if (batch == 1)
            {
                source.Blocked.Wait();
                throw new InvalidOperationException("callback failed");
            }
        });

        var fit = Task.Run(() => model.Fit(source, epochs: 1, verbose: 0, shuffle: false, callbacks: new[] { callback }));

        Assert.That(WaitQuietly(fit), Is.True);
        Assert.That(fit.Exception!.InnerException, Is.InstanceOf<InvalidOperationException>().With.Message.EqualTo("callback failed"));
        source.Release.Set();
    }

    [Test]
    public void Fit_BatchFailsWhileAnEarlierBatchBlocks_ThrowsThatBatchesError_WithinTheBound()
    {
        using var model = Compiled();
        var source = new BlockingSource(blockAt: 2, failAt: 3, workers: 2);

        var fit = Task.Run(() => model.Fit(source, epochs: 1, verbose: 0, shuffle: false));

        Assert.That(WaitQuietly(fit), Is.True, "batch 3's error ends Fit although batch 2 blocks");
        var error = fit.Exception!.InnerException as DataSourceException;
        Assert.That(error, Is.Not.Null);
        Assert.That(error!.BatchIndex, Is.EqualTo(3));
        Assert.That(error.InnerException, Is.InstanceOf<IOException>());
        source.Release.Set();
    }

    [Test]
    public void EvaluateAndPredict_CancelledWhileGetBatchBlocks_ThrowOperationCanceled()
    {
        using var model = Compiled();
        foreach (var call in new Func<DataSource, CancellationToken, object>[] { (s, t) => model.Evaluate(s, cancellationToken: t), (s, t) => model.Predict(s, cancellationToken: t) })
        {
            var source = new BlockingSource(blockAt: 1);
            using var cancel = new CancellationTokenSource();
            _ = Task.Run(() =>
            {
                source.Blocked.Wait();
                cancel.Cancel();
            });

            var run = Task.Run(() => call(source, cancel.Token));

            Assert.That(WaitQuietly(run), Is.True);
            Assert.That(run.Exception!.InnerException, Is.InstanceOf<OperationCanceledException>());
            Assert.That(((OperationCanceledException)run.Exception.InnerException!).CancellationToken, Is.EqualTo(cancel.Token), "the caller's own token");
            source.Release.Set();
        }
    }

    [Test]
    public void Fit_OnASourceThatObservesItsToken_StopsItsGetBatchAtOnce_AndAbandonsNothing()
    {
        using var model = Compiled();
        var source = new BlockingSource(blockAt: 2, observeToken: true) { StopTimeout = TimeSpan.FromMinutes(5) };
        var stop = new LambdaCallback(onBatchEnd: (batch, _) =>
        {
            if (batch == 1)
            {
                source.Blocked.Wait();
                model.StopTraining = true;
            }
        });

        var fit = Task.Run(() => model.Fit(source, epochs: 1, verbose: 0, shuffle: false, callbacks: new[] { stop }));

        Assert.That(WaitQuietly(fit), Is.True, "the token ended GetBatch(2) long before the 5 minutes of StopTimeout");
        Assert.That(source.Running, Is.Zero, "no GetBatch runs after Fit returned");
        Assert.That(source.SawCancellation, Is.True);
        Assert.That(warnings, Is.Empty);
    }

    [Test]
    public void ANewCall_WhileAnAbandonedGetBatchStillRuns_IsRefused_AndWorksOnceItReturns()
    {
        using var model = Compiled();
        var source = new BlockingSource(blockAt: 1);
        using var cancel = new CancellationTokenSource();
        _ = Task.Run(() =>
        {
            source.Blocked.Wait();
            cancel.Cancel();
        });
        Assert.Throws<OperationCanceledException>(() => model.Predict(source, cancellationToken: cancel.Token));

        var error = Assert.Throws<InvalidOperationException>(() => model.Predict(source));
        Assert.That(error!.Message, Does.Contain("still running").And.Contain(nameof(BlockingSource)));

        source.Release.Set();
        Assert.That(model.Predict(source)[0].Length, Is.EqualTo(4 * 8));
    }

    [Test]
    public void StopTimeout_Negative_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BlockingSource(blockAt: 0) { StopTimeout = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BlockingSource(blockAt: 0) { StopTimeout = Timeout.InfiniteTimeSpan });
    }

    [Test]
    public void Fit_OnArrays_CancelledByACallback_StopsBeforeTheNextBatch_WithoutEpochOrTrainEnd()
    {
        var (x, y) = TinyModels.Blobs(32);
        using var model = Compiled();
        using var cancel = new CancellationTokenSource();
        var afterStep = new List<float[]>();
        var ended = new List<string>();
        var callback = new LambdaCallback(
            onBatchEnd: (batch, _) =>
            {
                afterStep.Add(TinyModels.Flat(model));
                if (batch == 2)
                {
                    cancel.Cancel();
                }
            },
            onEpochEnd: (epoch, _) => ended.Add($"epoch {epoch}"),
            onTrainEnd: _ => ended.Add("train"));

        var error = Assert.Throws<OperationCanceledException>(() => model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, callbacks: new[] { callback }, cancellationToken: cancel.Token));

        Assert.That(error!.CancellationToken, Is.EqualTo(cancel.Token));
        Assert.That(afterStep, Has.Count.EqualTo(3), "no batch after the one whose end cancelled");
        Assert.That(TinyModels.Flat(model), Is.EqualTo(afterStep[^1]));
        Assert.That(ended, Is.Empty);
    }

    [Test]
    public void FitEvaluateAndPredict_OnArrays_WithACancelledToken_ThrowBeforeAnything()
    {
        var (x, y) = TinyModels.Blobs(8);
        using var model = Compiled();
        var before = TinyModels.Flat(model);
        var calls = new List<string>();
        var callback = new LambdaCallback(onTrainBegin: _ => calls.Add("train_begin"));
        var cancelled = new CancellationToken(canceled: true);

        Assert.Throws<OperationCanceledException>(() => model.Fit(x, y, verbose: 0, callbacks: new[] { callback }, cancellationToken: cancelled));
        Assert.Throws<OperationCanceledException>(() => model.Evaluate(x, y, cancellationToken: cancelled));
        Assert.Throws<OperationCanceledException>(() => model.Predict(x, cancellationToken: cancelled));
        Assert.Throws<OperationCanceledException>(() => model.Predict(new Array[] { x }, cancellationToken: cancelled));

        Assert.That(calls, Is.Empty);
        Assert.That(TinyModels.Flat(model), Is.EqualTo(before));
        Assert.That(model.Optimizer!.Iterations, Is.Zero);
    }

    [Test]
    public void Fit_CancelledAfterAnEpoch_KeepsTheBackup_AndTheNextFitResumesFromIt()
    {
        var (x, y) = TinyModels.Blobs(16);
        var folder = Path.Combine(Path.GetTempPath(), $"ks-cancel-{Guid.NewGuid():N}");
        try
        {
            using var model = Compiled();
            using var cancel = new CancellationTokenSource();
            var cancelInEpoch1 = new LambdaCallback(onBatchEnd: (_, _) =>
            {
                if (model.Optimizer!.Iterations > 4)
                {
                    cancel.Cancel();
                }
            });
            Assert.Throws<OperationCanceledException>(() => model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0,
                callbacks: new ICallback[] { new BackupAndRestore(folder), cancelInEpoch1 }, cancellationToken: cancel.Token));
            Assert.That(File.Exists(Path.Combine(folder, BackupAndRestore.MetadataFileName)), Is.True, "the backup of epoch 0 is kept, as after an interrupt");

            var backup = new BackupAndRestore(folder);
            var history = model.Fit(x, y, batchSize: 4, epochs: 3, verbose: 0, callbacks: new[] { backup });

            Assert.That(backup.RestoredEpoch, Is.EqualTo(1));
            Assert.That(history.Epoch, Is.EqualTo(new[] { 1, 2 }));
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static Model Compiled()
    {
        var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        return model;
    }

    /// <summary>Whether the task ended (in any way) within <see cref="Bound"/>; its exception is read by the caller.</summary>
    private static bool WaitQuietly(Task task) => ((IAsyncResult)task).AsyncWaitHandle.WaitOne(Bound) && task.IsCompleted;

    /// <summary>
    /// Eight batches of 4 samples; GetBatch(<c>blockAt</c>) blocks until <see cref="Release"/> is set (or, with
    /// <c>observeToken</c>, until its token is cancelled); GetBatch(<c>failAt</c>) throws.
    /// </summary>
    private sealed class BlockingSource : DataSource
    {
        private readonly (float[,] X, float[] Y) data = TinyModels.Blobs(32);
        private readonly int blockAt;
        private readonly int failAt;
        private readonly bool observeToken;
        private int running;

        public BlockingSource(int blockAt, int failAt = -1, int workers = 1, bool observeToken = false)
            : base(workers)
        {
            this.blockAt = blockAt;
            this.failAt = failAt;
            this.observeToken = observeToken;
            StopTimeout = TimeSpan.FromMilliseconds(100);
        }

        public ManualResetEventSlim Blocked { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public int Running => Volatile.Read(ref running);

        public bool SawCancellation { get; private set; }

        public override int? Count => 8;

        public override DataBatch GetBatch(int index) => GetBatch(index, CancellationToken.None);

        public override DataBatch GetBatch(int index, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref running);
            try
            {
                if (index == blockAt && !Release.IsSet)
                {
                    Blocked.Set();
                    if (observeToken)
                    {
                        Release.Wait(cancellationToken);
                    }
                    else
                    {
                        Release.Wait();
                    }
                }

                if (index == failAt)
                {
                    throw new IOException("the disk went away");
                }

                var x = new float[4, 2];
                for (var i = 0; i < 4; i++)
                {
                    x[i, 0] = data.X[(index * 4) + i, 0];
                    x[i, 1] = data.X[(index * 4) + i, 1];
                }

                return new DataBatch(x, data.Y[(index * 4)..((index * 4) + 4)]);
            }
            catch (OperationCanceledException)
            {
                SawCancellation = true;
                throw;
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }
    }
}
