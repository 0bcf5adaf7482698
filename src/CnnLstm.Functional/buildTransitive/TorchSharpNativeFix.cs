// libLibTorchSharp.so from TorchSharp 0.107.0 declares a need for GLIBCXX_3.4.32 only for std::ios_base_library_init,
// a symbol nothing binds. Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the dynamic loader refuses the library.
// Marking that version need weak (VER_FLG_WEAK) lets the loader accept it. Only copies outside the NuGet cache are
// patched, and only when the system lacks the version.
//
// This one file serves twice: MSBuild compiles it as the inline task TorchSharpNativeFix (RoslynCodeTaskFactory,
// netstandard2.0), which patches build and publish outputs; the library compiles LibTorchSharpElf from it (with
// KERASSTYLE_LIBRARY defined), to patch the copy an application is about to load when no build step did
// (Engine/NativeLibraryFix.cs: a ProjectReference from outside the repository gets no build targets).
#nullable enable
using System;
using System.IO;
using System.Text;
#if !KERASSTYLE_LIBRARY
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class TorchSharpNativeFix : Task
{
    /// <summary>The libLibTorchSharp.so copies in the build or publish output.</summary>
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        if (Libraries.Length == 0 || !LibTorchSharpElf.SystemLacksVersion(out _))
        {
            return true;
        }

        foreach (var item in Libraries)
        {
            var path = item.ItemSpec;
            try
            {
                if (LibTorchSharpElf.MarkVersionNeedWeak(path))
                {
                    Log.LogMessage(MessageImportance.High,
                        $"KerasStyle: system libstdc++ lacks {LibTorchSharpElf.NeededVersion}; marked that version need weak in {path}");
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
            {
                Log.LogWarning($"KerasStyle: could not patch {path} for {LibTorchSharpElf.NeededVersion}: {e.Message}");
            }
        }

        return !Log.HasLoggedErrors;
    }
}
#endif

/// <summary>The check of the system's libstdc++ and the patch of libLibTorchSharp.so's ELF version needs.</summary>
internal static class LibTorchSharpElf
{
    public const string NeededVersion = "GLIBCXX_3.4.32";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    private static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
    };

    /// <summary>
    /// Whether the first libstdc++ found where glibc systems keep it lacks <see cref="NeededVersion"/>; false where
    /// none is found (not a glibc system we know, so the library is left alone).
    /// </summary>
    /// <param name="libstdcxx">The libstdc++ looked at, or null.</param>
    public static bool SystemLacksVersion(out string? libstdcxx)
    {
        var needle = Encoding.ASCII.GetBytes(NeededVersion + "\0");
        foreach (var candidate in LibStdCxxCandidates)
        {
            if (File.Exists(candidate))
            {
                libstdcxx = candidate;
                return IndexOf(File.ReadAllBytes(candidate), needle) < 0;
            }
        }

        libstdcxx = null;
        return false;
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on the <see cref="NeededVersion"/> need of the ELF file at <paramref name="path"/>, writing
    /// beside it and renaming into place, so an interrupted patch never leaves a torn library and a process that has
    /// the old file open keeps it.
    /// </summary>
    /// <returns>True if the file changed; false if the need was already weak or absent.</returns>
    /// <exception cref="InvalidDataException">The file is not a 64-bit little-endian ELF file with version needs.</exception>
    public static bool MarkVersionNeedWeak(string path)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
            || elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        }

        var shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed)
            {
                continue;
            }

            var offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
            var link = BitConverter.ToUInt32(elf, (int)sh + 0x28);
            var count = BitConverter.ToUInt32(elf, (int)sh + 0x2C);
            var strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + link * shentsize) + 0x18);
            return PatchVerneed(path, elf, offset, count, strtab);
        }

        throw new InvalidDataException("no .gnu.version_r section");
    }

    private static bool PatchVerneed(string path, byte[] elf, long offset, uint count, long strtab)
    {
        var verneed = offset;
        for (var n = 0; n < count; n++)
        {
            int auxCount = BitConverter.ToUInt16(elf, (int)verneed + 2);
            var aux = verneed + BitConverter.ToUInt32(elf, (int)verneed + 8);
            for (var a = 0; a < auxCount; a++)
            {
                var name = ReadCString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                if (name == NeededVersion)
                {
                    var flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                    if ((flags & VerFlgWeak) != 0)
                    {
                        return false;
                    }

                    BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, (int)aux + 4);
                    // A name of its own per writer: two builds or two starting programs may patch the same file at once.
                    var temp = $"{path}.{Guid.NewGuid():N}.kerasstyle-tmp";
                    try
                    {
                        File.WriteAllBytes(temp, elf);
                        File.Replace(temp, path, null);
                    }
                    catch
                    {
                        File.Delete(temp);
                        throw;
                    }

                    return true;
                }

                aux += BitConverter.ToUInt32(elf, (int)aux + 12);
            }

            verneed += BitConverter.ToUInt32(elf, (int)verneed + 12);
        }

        return false;
    }

    private static string ReadCString(byte[] data, long start)
    {
        var end = start;
        while (data[end] != 0)
        {
            end++;
        }

        return Encoding.ASCII.GetString(data, (int)start, (int)(end - start));
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        // The task compiles against netstandard2.0, which has no span search.
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return i;
            }
        }

        return -1;
    }
}
