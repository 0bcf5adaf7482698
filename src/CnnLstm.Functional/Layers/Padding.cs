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

    /// <summary>
    /// The span of a dilated window, (size - 1) × dilation + 1, computed in 64 bits (a dilation of 2147483647 wrapped);
    /// refused when no sequence can be that long.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The span is more than <see cref="int.MaxValue"/>.</exception>
    public static int EffectiveWindow(int size, int dilation, string layerClass)
    {
        var span = ((size - 1L) * dilation) + 1;
        return span <= int.MaxValue ? (int)span : throw new ArgumentOutOfRangeException(nameof(dilation), string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{layerClass}: kernel_size {size} with dilation_rate {dilation} spans {span:N0} steps; a window may span at most {int.MaxValue:N0}."));
    }

    /// <summary>Output length for a window of effective size <paramref name="window"/>; may be zero or negative. In 64 bits, so a huge stride does not wrap.</summary>
    public static int OutputLength(int length, int window, int stride, Padding padding) => (int)(padding switch
    {
        Padding.Valid => FloorDiv((long)length - window, stride) + 1,
        _ => ((long)length + stride - 1) / stride,
    });

    /// <summary>TensorFlow's 'same' padding: the total split with the extra element on the right.</summary>
    public static (long Left, long Right) SamePadding(int length, int window, int stride)
    {
        var outLength = ((long)length + stride - 1) / stride;
        var total = Math.Max(((outLength - 1) * stride) + window - length, 0);
        return (total / 2, total - (total / 2));
    }

    public static string Name(this Padding padding) => padding.ToString().ToLowerInvariant();

    private static long FloorDiv(long a, long b) => (long)Math.Floor((double)a / b);
}
