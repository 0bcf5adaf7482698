namespace KerasStyle.Graph;

/// <summary>Element type of a symbolic tensor, as Keras names it in <c>dtype</c>.</summary>
public enum DType
{
    /// <summary>32-bit floating point (Keras <c>float32</c>), the default for inputs.</summary>
    Float32,

    /// <summary>32-bit integers (Keras <c>int32</c>), for token ids.</summary>
    Int32,

    /// <summary>64-bit integers (Keras <c>int64</c>), for token ids.</summary>
    Int64,

    /// <summary>
    /// Text (Keras <c>string</c>): one string per element, e.g. <c>Input(shape: Array.Empty&lt;int&gt;(), dtype: DType.String)</c>
    /// for one text per sample, (batch,). String values travel through a graph as managed strings (see
    /// <c>Engine/StringTensors</c> and docs/architecture.md "String values"), are taken only by the layers that read
    /// text (<c>TextVectorization</c>, <c>StringLookup</c>, <c>Hashing</c>), and every other layer refuses them.
    /// </summary>
    String,
}

/// <summary>Helpers for <see cref="DType"/>.</summary>
public static class DTypeExtensions
{
    /// <summary>True for the integer types that an <c>Embedding</c> accepts.</summary>
    /// <param name="dtype">The element type.</param>
    public static bool IsInteger(this DType dtype) => dtype is DType.Int32 or DType.Int64;

    /// <summary>The Keras spelling of the type, e.g. <c>float32</c>.</summary>
    /// <param name="dtype">The element type.</param>
    public static string ToKerasName(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Int32 => "int32",
        DType.Int64 => "int64",
        DType.String => "string",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };
}
