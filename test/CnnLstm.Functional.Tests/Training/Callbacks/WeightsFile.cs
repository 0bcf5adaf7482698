namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>Reads every dataset of a Keras 3 <c>.weights.h5</c> file, for bit-for-bit comparisons of saved states.</summary>
internal static class WeightsFile
{
    /// <summary>Each dataset's path and its values (integers as such, floats as raw bits), sorted by path.</summary>
    public static SortedDictionary<string, string> Contents(string path)
    {
        using var file = PureHDF.H5File.OpenRead(path);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(file, string.Empty, result);
        return result;
    }

    private static void Walk(PureHDF.IH5Group group, string prefix, SortedDictionary<string, string> result)
    {
        foreach (var child in group.Children())
        {
            var name = prefix + child.Name;
            if (child is PureHDF.IH5Group inner)
            {
                Walk(inner, name + "/", result);
            }
            else if (child is PureHDF.IH5Dataset dataset)
            {
                result[name] = dataset.Type.Class == PureHDF.H5DataTypeClass.FixedPoint
                    ? string.Join(",", dataset.Read<long[]>())
                    : string.Join(",", dataset.Read<float[]>().Select(BitConverter.SingleToInt32Bits));
            }
        }
    }
}
