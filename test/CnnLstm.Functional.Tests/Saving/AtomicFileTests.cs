using System.Diagnostics;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// A save killed midway left its temporary sibling forever (18 kills left 39 MB); the next save cleans up, at once
/// (issue 20: it waited a minute, so a save right after the kill left the leftovers behind).
/// </summary>
public class AtomicFileTests
{
    [Test]
    public void Write_RemovesLeftoversNobodyWrites_AtOnce_AndKeepsThoseOfLiveWriters()
    {
        var directory = Directory.CreateTempSubdirectory("ks-atomic-").FullName;
        try
        {
            var target = Path.Combine(directory, "m.weights.h5");
            string Temp(int pid, string name = "m.weights.h5") => Path.Combine(directory, $"{AtomicFile.TempPrefix(name)}{pid}-{Guid.NewGuid():N}.tmp");
            var dead = Temp(DeadProcessId());
            var earlierRun = Temp(Environment.ProcessId);
            var live = Temp(Environment.ProcessId);
            var lockedByOtherNamespace = Temp(DeadProcessId());
            var other = Temp(DeadProcessId(), "other.h5");
            var notOurs = Path.Combine(directory, ".m.weights.h5.123-not-a-save.tmp");
            foreach (var file in new[] { dead, earlierRun, live, lockedByOtherNamespace, other, notOurs })
            {
                File.WriteAllText(file, "partial"); // just now: issue 20's next save came right after the kill
            }

            // Written before this process started: an earlier run that had the same process id (a container's program).
            File.SetLastWriteTimeUtc(earlierRun, Process.GetCurrentProcess().StartTime.ToUniversalTime().AddSeconds(-5));

            // A writer whose id means nothing here (another PID namespace) still holds its file's lock.
            using (new FileStream(lockedByOtherNamespace, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                AtomicFile.Write(target, stream => stream.WriteByte(42));
            }

            Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 42 }));
            Assert.That(File.Exists(dead), Is.False, "a dead process' leftover of this target is removed at once");
            Assert.That(File.Exists(earlierRun), Is.False, "a leftover older than the process that now has its id is removed");
            Assert.That(File.Exists(live), Is.True, "a running process may still be writing it");
            Assert.That(File.Exists(lockedByOtherNamespace), Is.True, "a locked file is being written");
            Assert.That(File.Exists(other), Is.True, "another target's leftovers are that target's business");
            Assert.That(File.Exists(notOurs), Is.True, "only names of the temporary-file pattern are touched");
            Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(5), "and the save leaves no temporary file of its own");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Write_LongTargetNames_SharingTheirStart_HaveTemporaryNamesOfTheirOwn()
    {
        var directory = Directory.CreateTempSubdirectory("ks-atomic-").FullName;
        try
        {
            var stem = new string('m', 60);
            var (a, b) = (stem + "-a.weights.h5", stem + "-b.weights.h5");
            Assert.That(AtomicFile.TempPrefix(a), Is.Not.EqualTo(AtomicFile.TempPrefix(b)));
            // Target names of 252-255 UTF-8 bytes, the most a file system takes, still get a temporary name it takes.
            foreach (var longest in new[] { string.Concat(Enumerable.Repeat("\U0001F600", 63)), new string('\u20AC', 85) })
            {
                AtomicFile.Write(Path.Combine(directory, longest), stream => stream.WriteByte(1));
                Assert.That(File.Exists(Path.Combine(directory, longest)), Is.True);
                File.Delete(Path.Combine(directory, longest));
            }

            var othersLeftover = Path.Combine(directory, $"{AtomicFile.TempPrefix(b)}{DeadProcessId()}-{Guid.NewGuid():N}.tmp");
            var ownLeftover = Path.Combine(directory, $"{AtomicFile.TempPrefix(a)}{DeadProcessId()}-{Guid.NewGuid():N}.tmp");
            File.WriteAllText(othersLeftover, "partial");
            File.WriteAllText(ownLeftover, "partial");

            AtomicFile.Write(Path.Combine(directory, a), stream => stream.WriteByte(1));

            Assert.That(File.Exists(ownLeftover), Is.False);
            Assert.That(File.Exists(othersLeftover), Is.True, "the other target's leftover is left to its own saves");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Test]
    public void Write_IOExceptionWrappedByReflection_SurfacesAsTheIOException_AndKeepsTheOldFile()
    {
        // PureHDF writes through reflection; a full disk reached SaveWeights as TargetInvocationException.
        var directory = Directory.CreateTempSubdirectory("ks-atomic-").FullName;
        try
        {
            var target = Path.Combine(directory, "w.h5");
            File.WriteAllText(target, "previous");
            var full = new IOException("No space left on device");
            var error = Assert.Throws<IOException>(() => AtomicFile.Write(target, _ => throw new System.Reflection.TargetInvocationException(full)));
            Assert.That(error, Is.SameAs(full));
            Assert.That(File.ReadAllText(target), Is.EqualTo("previous"));
            Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(1), "no temporary file left");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static int DeadProcessId()
    {
        // A child that has exited: its id is free (and unlikely to be reused within the test).
        using var child = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
        child.WaitForExit();
        return child.Id;
    }
}
