namespace KerasStyle.Layers;

/// <summary>Keras padding modes for 1-D convolution and pooling.</summary>
internal enum Padding
{
    Valid,
    Same,
    Causal,
}

/// <summary>Parses Keras padding names and computes 1-D output lengths the way Keras does.</summary>
internal static class PaddingRules
{
    /// <summary>Keras' <c>normalize_padding</c>: the name is case-insensitive (<c>"SAME"</c> is <c>same</c>).</summary>
    public static Padding Parse(string? padding, string layerClass, bool allowCausal)
    {
        var known = allowCausal ? "'valid', 'same' or 'causal'" : "'valid' or 'same'";
        return padding?.ToLowerInvariant() switch
        {
            "valid" => Padding.Valid,
            "same" => Padding.Same,
            "causal" when allowCausal => Padding.Causal,
            _ => throw new ArgumentException($"{layerClass}: unknown padding '{padding}'; expected {known}.", nameof(padding)),
        };
    }

    /// <summary>Output length for a window of effective size <paramref name="window"/>; may be zero or negative.</summary>
    public static int OutputLength(int length, int window, int stride, Padding padding) => padding switch
    {
        Padding.Valid => FloorDiv(length - window, stride) + 1,
        _ => (length + stride - 1) / stride,
    };

    /// <summary>TensorFlow's 'same' padding: the total split with the extra element on the right.</summary>
    public static (long Left, long Right) SamePadding(int length, int window, int stride)
    {
        var outLength = (length + stride - 1) / stride;
        var total = Math.Max(((outLength - 1) * stride) + window - length, 0);
        return (total / 2, total - (total / 2));
    }

    public static string Name(this Padding padding) => padding.ToString().ToLowerInvariant();

    private static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);
}
