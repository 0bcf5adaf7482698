using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over the time axis, as Keras' <c>keras.layers.GlobalAveragePooling1D</c>
/// (keras/src/layers/pooling/global_average_pooling1d.py): (batch, steps, features) to (batch, features), or
/// (batch, 1, features) with <c>keepdims</c>. With a mask, the mean of the unmasked steps (no mask comes out). No
/// weights.
/// </summary>
[KerasLayer("GlobalAveragePooling1D")]
public sealed class GlobalAveragePooling1D : GlobalPooling
{
    /// <summary>Creates the layer.</summary>
    /// <param name="keepdims">Whether to keep the time axis with length 1 (Keras' default false).</param>
    /// <param name="name">Layer name; defaults to <c>global_average_pooling1d_N</c>.</param>
    public GlobalAveragePooling1D(bool keepdims = false, string? name = null)
        : base(1, max: false, keepdims, name)
    {
    }

    /// <summary>Averages over the unmasked steps only, as Keras does.</summary>
    internal override bool UsesMask => true;

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static GlobalAveragePooling1D FromConfig(LayerConfig config) => new(ReadKeepdims(config), config.Name);
}
