namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Checks of the files and folders callbacks write, so that a path they cannot use is refused when the callback is
/// made (and again when training starts) instead of failing after an epoch of training.
/// </summary>
internal static class CallbackPaths
{
    /// <summary>Why a file cannot be written at <paramref name="path"/> (a folder is there, or a file where a folder must be), or null.</summary>
    public static string? FileProblem(string path) =>
        Full(path, out var full) ?? (Directory.Exists(full) ? $"'{path}' is an existing folder, not a file" : FolderProblemAbove(full));

    /// <summary>Why <paramref name="path"/> cannot be (or become) a folder (a file is there, or above it), or null.</summary>
    public static string? FolderProblem(string path) =>
        Full(path, out var full) ?? (File.Exists(full) ? $"'{path}' is an existing file, not a folder" : FolderProblemAbove(full));

    private static string? Full(string path, out string full)
    {
        try
        {
            full = Path.GetFullPath(path);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            full = string.Empty;
            return $"'{path}' is not a valid path ({e.Message})";
        }
    }

    /// <summary>The nearest existing folder above <paramref name="full"/> must be a folder, or the folders below cannot be made.</summary>
    private static string? FolderProblemAbove(string full)
    {
        for (var above = Path.GetDirectoryName(full); above is not null; above = Path.GetDirectoryName(above))
        {
            if (Directory.Exists(above))
            {
                return null;
            }

            if (File.Exists(above))
            {
                return $"'{above}' is a file, so no folder can be made in it";
            }
        }

        return null;
    }
}
