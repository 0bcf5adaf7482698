using KerasStyle.Engine;

namespace KerasStyle.Tests;

/// <summary>
/// Runs the library with one thread for the whole test run (ThreadPolicy.FixedThreads, which the library applies on
/// every thread that runs a batch). The test models are tiny, and on a shared 2-core machine libtorch's thread pool
/// spends most of its time waiting for busy cores (an LSTM(4) training step measured 100 ms with 2 threads under load
/// against 3 ms with 1).
/// </summary>
[SetUpFixture]
public sealed class TestSetup
{
    [OneTimeSetUp]
    public void UseOneThread() => ThreadPolicy.FixedThreads = 1;

    /// <summary>Uses <paramref name="threads"/> (capped at the core count) until disposed, then the test run's one thread.</summary>
    internal static IDisposable Threads(int threads)
    {
        ThreadPolicy.FixedThreads = Math.Min(threads, Environment.ProcessorCount);
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => ThreadPolicy.FixedThreads = 1;
    }
}
