using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.ExceptionServices;

namespace KerasStyle.Saving;

/// <summary>Writes files so that a failure never leaves a truncated file or destroys the previous one.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file in the target's directory, then renames it over
    /// <paramref name="path"/>; on any exception the temporary file is deleted and the target is untouched. A process
    /// killed during a save cannot delete its temporary file, so each save first removes the temporary files of the
    /// same target that no process is writing (see <see cref="RemoveLeftovers"/>).
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Cannot write '{path}': directory '{directory}' does not exist.");
        }

        var prefix = TempPrefix(Path.GetFileName(full));
        RemoveLeftovers(directory, prefix);
        var temp = Path.Combine(directory, $"{prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.tmp");
        try
        {
            // FileShare.None holds an exclusive lock (flock on Unix, taken on network file systems too) while the file
            // is written, so RemoveLeftovers never takes a file that a live process, in any PID namespace, is writing.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Keep the original error.
            }

            // A write through reflection (the HDF5 writer) wraps a full disk's IOException; report the IOException.
            if (e is TargetInvocationException { InnerException: IOException or UnauthorizedAccessException } wrapped)
            {
                ExceptionDispatchInfo.Throw(wrapped.InnerException!);
            }

            throw;
        }
    }

    /// <summary>
    /// <c>.name.</c>, the start of the target's temporary files. A name longer than 50 characters is cut to 40 (39
    /// rather than split a surrogate pair) and followed by <c>~</c> and 8 hex digits of its hash: the temporary name
    /// stays under the 255-byte limit (the name part takes at most 150 UTF-8 bytes, the rest 49), and two long names that
    /// share their first characters still have prefixes of their own, so a save never takes another target's files.
    /// </summary>
    internal static string TempPrefix(string name)
    {
        if (name.Length <= 50)
        {
            return $".{name}.";
        }

        var kept = char.IsHighSurrogate(name[39]) ? 39 : 40;
        return $".{name[..kept]}~{System.IO.Hashing.XxHash32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes(name)):x8}.";
    }

    /// <summary>
    /// Deletes the target's leftovers, <c>PREFIX&lt;pid&gt;-&lt;32 hex digits&gt;.tmp</c>, that no process is writing:
    /// nobody holds the lock that a writer keeps while it writes, and the process <c>pid</c> is gone or started after
    /// the file was last written (the id was reused, e.g. by the next run of a container's program, which gets the same
    /// id). Best effort: a file that cannot be checked is left alone.
    /// </summary>
    private static void RemoveLeftovers(string directory, string prefix)
    {
        try
        {
            foreach (var leftover in Directory.EnumerateFiles(directory, prefix + "*.tmp"))
            {
                var fileName = Path.GetFileName(leftover);
                if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(".tmp", StringComparison.Ordinal))
                {
                    continue; // the name had wildcard characters in it
                }

                var middle = fileName[prefix.Length..^".tmp".Length];
                var dash = middle.IndexOf('-', StringComparison.Ordinal);
                if (dash > 0 && int.TryParse(middle[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    && middle.Length - dash - 1 == 32 && middle[(dash + 1)..].All(char.IsAsciiHexDigitLower)
                    && !WriterMayRun(pid, File.GetLastWriteTimeUtc(leftover)))
                {
                    DeleteUnlessLocked(leftover);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another save may be removing the same leftovers; the save itself goes on.
        }
    }

    /// <summary>Deletes the file if this process can take its exclusive lock, i.e. nobody is writing it.</summary>
    private static void DeleteUnlessLocked(string path)
    {
        try
        {
            // A leftover is never opened again by its writer, so it may be deleted after the lock is let go.
            using (new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None))
            {
            }

            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A live writer holds it, or another save took it first.
        }
    }

    /// <summary>
    /// Whether process <paramref name="pid"/> may be the one that wrote a file last written at <paramref name="written"/>:
    /// it runs and did not start after that.
    /// </summary>
    private static bool WriterMayRun(int pid, DateTime written)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            // StartTime is computed from the boot time in whole seconds, so it is at most a second early: a process
            // that seems to have started after the write did.
            return !process.HasExited && process.StartTime.ToUniversalTime() <= written;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Not allowed to look: assume it runs, and leave its file alone.
            return true;
        }
    }
}
