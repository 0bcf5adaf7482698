using System.Text;

namespace KerasStyle.Datasets;

/// <summary>
/// Keras' <c>dataset_utils.index_directory</c> (Keras 3.16 <c>keras/src/utils/dataset_utils.py</c>): the files of a
/// folder with the given extensions, in Keras' order (class subfolders in sorted order, or the whole tree without
/// labels; within each, the folders <c>os.walk</c> visits sorted by path and the files of each sorted by name, all by
/// code point as Python sorts strings), with their labels and class names; then NumPy's
/// <c>RandomState(seed).shuffle</c> of the paths and labels when shuffling. Unlike Keras, nothing outside the folder
/// is read unless <c>followLinks</c>: a symbolic link (a class subfolder or a file) whose target lies outside is
/// refused.
/// </summary>
internal static class DirectoryIndex
{
    public static (List<string> Paths, List<int>? Labels, List<string>? ClassNames) Index(
        string who, string directory, DirectoryLabels labels, IReadOnlyList<string>? classNames, string[] formats, bool shuffle, uint seed, bool followLinks)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"{who}: directory '{directory}' does not exist.");
        }

        var realRoot = RealPath(directory);
        List<string> subdirs;
        if (labels.IsInferred)
        {
            subdirs = Directory.EnumerateFileSystemEntries(directory)
                .Select(p => Path.GetFileName(p))
                .Where(name => Directory.Exists(Path.Combine(directory, name)) && !name.StartsWith('.'))
                .OrderBy(name => name, CodePointComparer.Instance)
                .ToList();
            if (classNames is not null)
            {
                if (!classNames.All(subdirs.Contains))
                {
                    throw new ArgumentException($"{who}: The `class_names` passed did not match the names of the subdirectories of the target directory. Expected: {PythonList(subdirs)} (or a subset of it), but received: class_names={PythonList(classNames)}", nameof(classNames));
                }

                subdirs = classNames.ToList();
            }
        }
        else
        {
            subdirs = [string.Empty];
            if (classNames is not null)
            {
                throw new ArgumentException(labels.IsNone
                    ? $"{who}: When `labels=None` (no labels), argument `class_names` cannot be specified."
                    : $"{who}: When argument `labels` is specified, argument `class_names` cannot be specified (the `class_names` will be the sorted list of labels).", nameof(classNames));
            }
        }

        var paths = new List<string>();
        var inferred = new List<int>();
        for (var c = 0; c < subdirs.Count; c++)
        {
            var top = Path.Combine(directory, subdirs[c]);
            foreach (var file in Files(who, top, realRoot, followLinks, formats))
            {
                paths.Add(file);
                inferred.Add(c);
            }
        }

        List<int>? result;
        List<string>? names;
        if (labels.IsInferred)
        {
            result = inferred;
            names = subdirs;
        }
        else if (labels.IsNone)
        {
            result = null;
            names = null;
        }
        else
        {
            var given = labels.Given!;
            if (given.Count != paths.Count)
            {
                throw new ArgumentException($"{who}: Expected the lengths of `labels` to match the number of files in the target directory. len(labels) is {given.Count} while we found {paths.Count} files in directory {directory}.", nameof(labels));
            }

            result = given.ToList();
            names = given.Distinct().Order().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        }

        if (shuffle)
        {
            MersenneTwister.NumPy(seed).NumPyShuffle(paths);
            if (result is not null)
            {
                MersenneTwister.NumPy(seed).NumPyShuffle(result);
            }
        }

        return (paths, result, names);
    }

    /// <summary>The listed files under <paramref name="top"/>: os.walk's folders sorted by path, each one's files by name.</summary>
    private static List<string> Files(string who, string top, string realRoot, bool followLinks, string[] formats)
    {
        var folders = new List<(string Root, List<string> Files)>();
        Walk(who, top, realRoot, followLinks, formats, folders, new HashSet<string>(StringComparer.Ordinal));
        return folders.OrderBy(f => f.Root, CodePointComparer.Instance)
            .SelectMany(f => f.Files.OrderBy(name => name, CodePointComparer.Instance).Select(name => Path.Combine(f.Root, name)))
            .ToList();
    }

    private static void Walk(string who, string root, string realRoot, bool followLinks, string[] formats, List<(string, List<string>)> folders, HashSet<string> ancestors)
    {
        var real = RealPath(root);
        if (!followLinks && !Inside(real, realRoot))
        {
            throw new UnauthorizedAccessException($"{who}: '{root}' is a symbolic link to '{real}', outside the directory '{realRoot}'; pass followLinks: true to read it.");
        }

        if (!ancestors.Add(real))
        {
            return; // a link back to a folder being walked: os.walk(followlinks=True) would loop forever
        }

        var files = new List<string>();
        folders.Add((root, files));
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(root).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{who}: cannot list directory '{root}': {e.Message}", e);
        }

        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry);
            var path = Path.Combine(root, name);
            var info = new FileInfo(path);
            var isLink = info.LinkTarget is not null;
            if (Directory.Exists(path))
            {
                if (followLinks || !isLink)
                {
                    Walk(who, path, realRoot, followLinks, formats, folders, ancestors);
                }
            }
            else if (name.ToLowerInvariant() is var lower && formats.Any(f => lower.EndsWith(f, StringComparison.Ordinal)))
            {
                if (!followLinks && isLink)
                {
                    var target = RealPath(path);
                    if (!Inside(target, realRoot))
                    {
                        throw new UnauthorizedAccessException($"{who}: '{path}' is a symbolic link to '{target}', outside the directory '{realRoot}'; pass followLinks: true to read it.");
                    }
                }

                files.Add(name);
            }
        }

        ancestors.Remove(real);
    }

    private static bool Inside(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The path with every symbolic link on it resolved (as <c>os.path.realpath</c>); a dangling link resolves to its target's path.</summary>
    internal static string RealPath(string path)
    {
        var pending = new Stack<string>();
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
        {
            pending.Push(part);
        }

        var current = root;
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var candidate = Path.Combine(current, part);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                current = candidate;
                continue;
            }

            if (++hops > 40)
            {
                throw new IOException($"Too many levels of symbolic links resolving '{path}'.");
            }

            var resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
            var resolvedRoot = Path.GetPathRoot(resolved)!;
            foreach (var p in resolved[resolvedRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(p);
            }

            current = resolvedRoot;
        }

        return current;
    }

    private static string PythonList(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(s => "'" + s + "'")) + "]";

    /// <summary>Python's string order: by Unicode code point.</summary>
    internal sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : -1) : 1;
            }

            var a = x.EnumerateRunes().GetEnumerator();
            var b = y.EnumerateRunes().GetEnumerator();
            while (true)
            {
                var hasA = a.MoveNext();
                var hasB = b.MoveNext();
                if (!hasA || !hasB)
                {
                    return hasA ? 1 : hasB ? -1 : 0;
                }

                var c = a.Current.Value.CompareTo(b.Current.Value);
                if (c != 0)
                {
                    return c;
                }
            }
        }
    }
}
