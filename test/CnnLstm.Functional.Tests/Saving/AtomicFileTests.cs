using System.Diagnostics;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>A save killed midway left its temporary sibling forever (18 kills left 39 MB); the next save cleans up.</summary>
public class AtomicFileTests
{
    [Test]
    public void Write_RemovesLeftoversOfDeadProcesses_AndKeepsThoseOfLiveOnes()
    {
        var directory = Directory.CreateTempSubdirectory("ks-atomic-").FullName;
        try
        {
            var target = Path.Combine(directory, "m.weights.h5");
            var dead = Path.Combine(directory, $".m.weights.h5.{DeadProcessId()}-{Guid.NewGuid():N}.tmp");
            var live = Path.Combine(directory, $".m.weights.h5.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
            var other = Path.Combine(directory, $".other.h5.{DeadProcessId()}-{Guid.NewGuid():N}.tmp");
            foreach (var file in new[] { dead, live, other })
            {
                File.WriteAllText(file, "partial");
                File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-2)); // left by a save killed minutes ago
            }

            var fresh = Path.Combine(directory, $".m.weights.h5.{DeadProcessId()}-{Guid.NewGuid():N}.tmp");
            File.WriteAllText(fresh, "partial"); // just written: maybe a live process in another PID namespace

            AtomicFile.Write(target, stream => stream.WriteByte(42));

            Assert.That(File.ReadAllBytes(target), Is.EqualTo(new byte[] { 42 }));
            Assert.That(File.Exists(dead), Is.False, "a dead process' leftover of this target is removed");
            Assert.That(File.Exists(live), Is.True, "a running process may still be writing it");
            Assert.That(File.Exists(other), Is.True, "another target's leftovers are that target's business");
            Assert.That(File.Exists(fresh), Is.True, "a leftover younger than a minute is left alone");
            Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(4), "and the save leaves no temporary file of its own");
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
