namespace KerasStyle.Graph;

/// <summary>
/// Thrown by <see cref="KerasStyle.Models.Model"/> when an output needs a tensor that cannot be computed from the given inputs
/// (Keras' "Graph disconnected" error).
/// </summary>
public sealed class GraphDisconnectedException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is disconnected, naming the tensor and the layer.</param>
    public GraphDisconnectedException(string message)
        : base(message)
    {
    }
}
