using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace KerasStyle.Engine;

/// <summary>
/// The Debian 12 fix for TorchSharp's native library, at load time. The build targets
/// (<c>buildTransitive/CnnLstm.Functional.targets</c>) patch build and publish outputs, but a project that references
/// the library's source with a plain <c>ProjectReference</c> gets no targets (NuGet imports them for packages only),
/// and its first tensor failed with TorchSharp's misleading "doesn't contain a reference to libtorch-cpu-linux-x64"
/// (issue 20). So when the library is first used, before TorchSharp loads its native library, this patches the
/// <c>libLibTorchSharp.so</c> copies that the application would load (the app's native search directories and
/// TorchSharp's own folder) with the same code as the build task, and only where the system's libstdc++ lacks
/// <c>GLIBCXX_3.4.32</c>. A copy already patched is left as it is.
/// </summary>
internal static class NativeLibraryFix
{
    /// <summary>What was found and done, for <see cref="SystemReport"/>.</summary>
    internal static string Outcome { get; private set; } = "not applicable (not Linux)";

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "It must run before TorchSharp loads its native library, whichever type of the library is used first.")]
    internal static void Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            Outcome = PatchCandidates();
        }
        catch (Exception e)
        {
            // Whatever goes wrong here must not make the library's types unusable (a module initializer that throws
            // does); the fix is best effort, and TorchSharp reports its own load failure if one follows.
            Outcome = $"failed ({e.GetType().Name}: {e.Message})";
            Warnings.Warn($"KerasStyle: the load-time fix of libLibTorchSharp.so failed ({e.Message}). " + ImportAdvice);
        }
    }

    private const string ImportAdvice = "Build the application with the library's build targets, which fix the output: add "
        + "<Import Project=\".../src/CnnLstm.Functional/buildTransitive/CnnLstm.Functional.targets\" /> to the project that references it.";

    private static string PatchCandidates()
    {
        if (!LibTorchSharpElf.SystemLacksVersion(out var libstdcxx))
        {
            return libstdcxx is null ? "unknown (no system libstdc++.so.6 found)" : $"not needed ({libstdcxx} has {LibTorchSharpElf.NeededVersion})";
        }

        var patched = new List<string>();
        foreach (var library in Candidates().Where(c => File.Exists(c) && !InNuGetCache(c)))
        {
            try
            {
                if (LibTorchSharpElf.MarkVersionNeedWeak(library))
                {
                    patched.Add(library);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                Warnings.Warn($"KerasStyle: {libstdcxx} lacks {LibTorchSharpElf.NeededVersion}, and {library} could not be patched for it ({e.Message}); "
                    + "TorchSharp will fail to load it. " + ImportAdvice);
            }
        }

        return $"applied ({libstdcxx} lacks {LibTorchSharpElf.NeededVersion}; libLibTorchSharp.so has that need marked weak"
            + (patched.Count > 0 ? $", now, in {string.Join(", ", patched)})" : ")");
    }

    /// <summary>Where the runtime looks for TorchSharp's native library: the app's native search directories, then TorchSharp's folder.</summary>
    private static IEnumerable<string> Candidates()
    {
        var directories = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
        if (Path.GetDirectoryName(typeof(TorchSharp.torch).Assembly.Location) is { Length: > 0 } torchSharp)
        {
            directories.Add(torchSharp);
        }

        return directories.Select(d => Path.GetFullPath(Path.Combine(d, "libLibTorchSharp.so"))).Distinct(StringComparer.Ordinal);
    }

    /// <summary>Whether the file lies in an extracted NuGet package (its version folder, a few levels up, has a <c>.nupkg.metadata</c>).</summary>
    private static bool InNuGetCache(string path)
    {
        var directory = Path.GetDirectoryName(path);
        for (var up = 0; up < 4 && directory is not null; up++, directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, ".nupkg.metadata")))
            {
                return true;
            }
        }

        return false;
    }
}
