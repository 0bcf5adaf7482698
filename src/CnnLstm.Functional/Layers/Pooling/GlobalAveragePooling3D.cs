using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over the depth, height and width of channels-last volumes, as Keras' <c>keras.layers.GlobalAveragePooling3D</c>:
/// (batch, depth, height, width, channels) to (batch, channels), or (batch, 1, 1, 1, channels) with <c>keepdims</c>. No weights.
/// </summary>
[KerasLayer("GlobalAveragePooling3D")]
public sealed class GlobalAveragePooling3D : GlobalPooling
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Keep depth, height and width with size 1 (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>global_average_pooling3d_N</c>.</param>
    public GlobalAveragePooling3D(bool keepdims = false, string? name = null)
        : base(3, max: false, keepdims, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GlobalAveragePooling3D FromConfig(LayerConfig config) => new(ReadKeepdims(config), config.Name);
}
