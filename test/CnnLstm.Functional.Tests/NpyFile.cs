using System.Text;
using System.Text.RegularExpressions;

namespace KerasStyle.Tests;

/// <summary>NumPy's .npy files, as the real-model and fixture tests read them.</summary>
internal static class NpyFile
{
    /// <summary>A little-endian .npy array in C order: float32, float64 (read as float32), int32 or int64.</summary>
    public static Array Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = bytes[6] == 1 ? BitConverter.ToUInt16(bytes, 8) : (int)BitConverter.ToUInt32(bytes, 8);
        var start = bytes[6] == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(bytes, start, headerLength);
        var descr = Regex.Match(header, @"'descr':\s*'([^']+)'").Groups[1].Value;
        var shape = Regex.Match(header, @"'shape':\s*\(([^)]*)\)").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var (type, size) = descr switch
        {
            "<f4" => (typeof(float), 4),
            "<f8" => (typeof(double), 8),
            "<i4" => (typeof(int), 4),
            "<i8" => (typeof(long), 8),
            _ => throw new NotSupportedException($"{path}: dtype {descr}"),
        };
        var array = Array.CreateInstance(type, shape);
        Buffer.BlockCopy(bytes, start + headerLength, array, 0, array.Length * size);
        if (type != typeof(double))
        {
            return array;
        }

        var floats = Array.CreateInstance(typeof(float), shape);
        Buffer.BlockCopy(array.Cast<double>().Select(d => (float)d).ToArray(), 0, floats, 0, array.Length * 4);
        return floats;
    }
}
