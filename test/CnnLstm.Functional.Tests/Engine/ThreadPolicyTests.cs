using System.Diagnostics;
using KerasStyle.Engine;
using static TorchSharp.torch;

namespace KerasStyle.Tests.Engine;

[NonParallelizable]
public class ThreadPolicyTests
{
    [TearDown]
    public void BackToTheTestRunsThread() => ThreadPolicy.FixedThreads = 1;

    [TestCase(0)]
    [TestCase(-1)]
    public void FixedThreads_BelowOne_ThrowsNamingTheRange(int threads)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ThreadPolicy.FixedThreads = threads);
        Assert.That(error!.Message, Does.Contain($"from 1 to {Environment.ProcessorCount}"));
        Assert.That(ThreadPolicy.FixedThreads, Is.EqualTo(1), "a refused value changes nothing");
    }

    [Test]
    public void FixedThreads_AboveTheCores_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadPolicy.FixedThreads = Environment.ProcessorCount + 1);

    [TestCase(0.0, 2, 2)]
    [TestCase(0.4, 2, 2)]
    [TestCase(0.5, 2, 1)]
    [TestCase(2.0, 2, 1)]
    [TestCase(5.0, 2, 1)]
    [TestCase(1.2, 8, 7)]
    public void ThreadsFor_UsesTheCoresOthersLeaveFree_AtLeastOne(double otherCores, int cores, int expected) =>
        Assert.That(ThreadPolicy.ThreadsFor(otherCores, cores), Is.EqualTo(expected));

    [Test]
    public void Apply_Fixed_SetsThatCountOnTheCallingThread()
    {
        ThreadPolicy.FixedThreads = 1;
        set_num_threads(Environment.ProcessorCount);
        ThreadPolicy.Apply(30);
        Assert.That(get_num_threads(), Is.EqualTo(1));
        Assert.That(ThreadPolicy.Describe(), Does.StartWith("fixed at 1 of"));
    }

    [Test]
    public void Apply_Adaptive_OneSampleRunsOnOneThread()
    {
        Assume.That(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), Is.Null.Or.Empty, "the policy leaves OMP_NUM_THREADS alone");
        ThreadPolicy.FixedThreads = null;
        set_num_threads(Environment.ProcessorCount);
        ThreadPolicy.Apply(1);
        Assert.That(get_num_threads(), Is.EqualTo(1));
        ThreadPolicy.Apply(30);
        Assert.That(get_num_threads(), Is.EqualTo(ThreadPolicy.CurrentThreads));
    }

    [Test]
    public void Apply_Adaptive_WhileOtherProcessesKeepEveryCoreBusy_UsesOneThread()
    {
        using (AdaptingWhileEveryCoreIsBusy())
        {
            // Two samples half a second apart or more, the second wholly under load.
            Thread.Sleep(700);
            ThreadPolicy.Apply(30);
            Thread.Sleep(700);
            ThreadPolicy.Apply(30);
            Assert.That(ThreadPolicy.CurrentThreads, Is.EqualTo(1), ThreadPolicy.Describe());
            Assert.That(get_num_threads(), Is.EqualTo(1));
            Assert.That(ThreadPolicy.Describe(), Does.StartWith("adaptive: 1 of"));
        }
    }

    [Test]
    public void KernelThreads_Fixed_IsThatCount()
    {
        ThreadPolicy.FixedThreads = 1;
        Assert.That(ThreadPolicy.KernelThreads(), Is.EqualTo(1));
    }

    [Test]
    public void KernelThreads_WhileOtherProcessesKeepEveryCoreBusy_SamplesTheLoadWithoutABatch()
    {
        using (AdaptingWhileEveryCoreIsBusy())
        {
            // Only single samples (which never sample the load themselves) and the library's own kernels.
            Thread.Sleep(700);
            ThreadPolicy.Apply(1);
            ThreadPolicy.KernelThreads();
            Thread.Sleep(700);
            ThreadPolicy.Apply(1);
            Assert.That(ThreadPolicy.KernelThreads(), Is.EqualTo(1), ThreadPolicy.Describe());
            Assert.That(ThreadPolicy.CurrentThreads, Is.EqualTo(1));
        }
    }

    /// <summary>
    /// The adaptive policy (where it can read the load) with one `yes` into /dev/null per core, each keeping a core busy
    /// until disposed (exec makes Kill reach it).
    /// </summary>
    private static IDisposable AdaptingWhileEveryCoreIsBusy()
    {
        Assume.That(OperatingSystem.IsLinux() && File.Exists("/proc/stat") && File.Exists("/usr/bin/yes"), "needs Linux /proc and yes");
        Assume.That(Environment.ProcessorCount, Is.GreaterThan(1));
        Assume.That(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), Is.Null.Or.Empty);
        ThreadPolicy.FixedThreads = null;
        var busy = Enumerable.Range(0, Environment.ProcessorCount)
            .Select(_ => Process.Start(new ProcessStartInfo("/bin/sh", new[] { "-c", "exec /usr/bin/yes > /dev/null" }) { UseShellExecute = false })!)
            .ToList();
        return new Stopper(busy);
    }

    private sealed class Stopper(List<Process> busy) : IDisposable
    {
        public void Dispose()
        {
            foreach (var process in busy)
            {
                process.Kill();
                process.WaitForExit();
                process.Dispose();
            }
        }
    }
}
