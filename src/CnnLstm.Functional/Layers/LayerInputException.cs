namespace KerasStyle.Layers;

/// <summary>
/// Thrown when a layer is called on a tensor it cannot take (wrong rank, dtype or size). The message names the layer,
/// the shape it was given and what it expected.
/// </summary>
public sealed class LayerInputException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="layerName">The layer that refused the input.</param>
    /// <param name="message">What was wrong and what was expected.</param>
    public LayerInputException(string layerName, string message)
        : base(message)
    {
        LayerName = layerName;
    }

    /// <summary>The name of the layer that refused the input.</summary>
    public string LayerName { get; }
}
