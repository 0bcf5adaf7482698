using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// The maximum over the time axis, as Keras' <c>keras.layers.GlobalMaxPooling1D</c>
/// (keras/src/layers/pooling/global_max_pooling1d.py): (batch, steps, features) to (batch, features), or
/// (batch, 1, features) with <c>keepdims</c>. No weights.
/// </summary>
[KerasLayer("GlobalMaxPooling1D")]
public sealed class GlobalMaxPooling1D : GlobalPooling
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Whether to keep the time axis with length 1 (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>global_max_pooling1d_N</c>.</param>
    public GlobalMaxPooling1D(bool keepdims = false, string? name = null)
        : base(1, max: true, keepdims, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GlobalMaxPooling1D FromConfig(LayerConfig config) => new(ReadKeepdims(config), config.Name);
}
