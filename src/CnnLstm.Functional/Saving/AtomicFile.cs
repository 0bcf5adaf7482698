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
    /// same target whose writing process is gone (the process id is part of the name).
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Cannot write '{path}': directory '{directory}' does not exist.");
        }

        // The name is capped (50 chars: at most 200 UTF-8 bytes, plus 49) so a target name near the 255-byte limit still gets a valid one.
        var name = Path.GetFileName(full);
        var prefix = $".{name[..Math.Min(name.Length, 50)]}.";
        RemoveLeftovers(directory, prefix);
        var temp = Path.Combine(directory, $"{prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite))
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

    /// <summary>Deletes <c>.name.PID-GUID.tmp</c> siblings whose process no longer runs; best effort.</summary>
    private static void RemoveLeftovers(string directory, string prefix)
    {
        try
        {
            foreach (var leftover in Directory.EnumerateFiles(directory, prefix + "*.tmp"))
            {
                var middle = Path.GetFileName(leftover)[prefix.Length..^".tmp".Length];
                var dash = middle.IndexOf('-', StringComparison.Ordinal);
                // Also older than a minute: a process in another PID namespace (a container sharing the folder) may
                // have the same id as a dead one here while it still writes.
                if (dash > 0 && int.TryParse(middle[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && middle.Length - dash - 1 == 32
                    && File.GetLastWriteTimeUtc(leftover) < DateTime.UtcNow.AddMinutes(-1) && !IsRunning(pid))
                {
                    File.Delete(leftover);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another save may be removing the same leftovers; the save itself goes on.
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
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
