namespace KerasStyle.Saving;

/// <summary>Writes files so that a failure never leaves a truncated file or destroys the previous one.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file in the target's directory, then renames it over
    /// <paramref name="path"/>; on any exception the temporary file is deleted and the target is untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Cannot write '{path}': directory '{directory}' does not exist.");
        }

        // The name is capped (50 chars: at most 200 UTF-8 bytes, plus 38) so a target name near the 255-byte limit still gets a valid one.
        var name = Path.GetFileName(full);
        var temp = Path.Combine(directory, $".{name[..Math.Min(name.Length, 50)]}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Keep the original error.
            }

            throw;
        }
    }
}
