// Inline MSBuild task (RoslynCodeTaskFactory). libLibTorchSharp.so from TorchSharp 0.107.0 declares a need for
// GLIBCXX_3.4.32 only for std::ios_base_library_init, a symbol nothing binds. Debian 12's libstdc++ stops at
// GLIBCXX_3.4.30, so the dynamic loader refuses the library. Marking that version need weak (VER_FLG_WEAK) lets
// the loader accept it. We patch only build outputs, never the NuGet cache, and only when the system lacks the version.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class TorchSharpNativeFix : Task
{
    private const string NeededVersion = "GLIBCXX_3.4.32";
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

    /// <summary>The libLibTorchSharp.so copies in the build or publish output.</summary>
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        if (Libraries.Length == 0 || SystemHasVersion())
        {
            return true;
        }

        foreach (var item in Libraries)
        {
            var path = item.ItemSpec;
            try
            {
                if (PatchFile(path))
                {
                    Log.LogMessage(MessageImportance.High,
                        $"KerasStyle: system libstdc++ lacks {NeededVersion}; marked that version need weak in {path}");
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
            {
                Log.LogWarning($"KerasStyle: could not patch {path} for {NeededVersion}: {e.Message}");
            }
        }

        return !Log.HasLoggedErrors;
    }

    private static bool SystemHasVersion()
    {
        var needle = Encoding.ASCII.GetBytes(NeededVersion + "\0");
        foreach (var candidate in LibStdCxxCandidates)
        {
            if (File.Exists(candidate))
            {
                return IndexOf(File.ReadAllBytes(candidate), needle) >= 0;
            }
        }

        // No libstdc++ where we look: not a glibc system we know, so leave the library alone.
        return true;
    }

    /// <summary>Sets VER_FLG_WEAK on the GLIBCXX_3.4.32 need; returns true if the file changed.</summary>
    private static bool PatchFile(string path)
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
                    // Write beside the target and rename, so an interrupted build never leaves a torn library.
                    var temp = path + ".kerasstyle-tmp";
                    File.WriteAllBytes(temp, elf);
                    File.Replace(temp, path, null);
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
