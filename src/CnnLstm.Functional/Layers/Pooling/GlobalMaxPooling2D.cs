using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// The maximum over the height and width of channels-last images, as Keras' <c>keras.layers.GlobalMaxPooling2D</c>:
/// (batch, height, width, channels) to (batch, channels), or (batch, 1, 1, channels) with <c>keepdims</c>. No weights.
/// </summary>
[KerasLayer("GlobalMaxPooling2D")]
public sealed class GlobalMaxPooling2D : GlobalPooling
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Keep height and width with size 1 (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>global_max_pooling2d_N</c>.</param>
    public GlobalMaxPooling2D(bool keepdims = false, string? name = null)
        : base(2, max: true, keepdims, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GlobalMaxPooling2D FromConfig(LayerConfig config) => new(ReadKeepdims(config), config.Name);
}
