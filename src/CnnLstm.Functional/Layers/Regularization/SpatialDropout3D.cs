using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// Drops whole feature maps while training, as Keras' <c>keras.layers.SpatialDropout3D</c>
/// (keras/src/layers/regularization/spatial_dropout.py; see <see cref="SpatialDropout"/>). Input and output
/// (batch, dim1, dim2, dim3, channels) (<c>channels_last</c>, the default) or (batch, channels, dim1, dim2, dim3) (<c>channels_first</c>).
/// </summary>
[KerasLayer("SpatialDropout3D")]
public sealed class SpatialDropout3D : SpatialDropout
{
    /// <summary>Creates the layer.</summary>
    /// <param name="rate">The fraction of channels to drop, in [0, 1).</param>
    /// <param name="dataFormat">Where the channels are: <c>"channels_last"</c> (default, Keras' default) or <c>"channels_first"</c>.</param>
    /// <param name="name">Layer name; defaults to <c>spatial_dropout3d_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is outside [0, 1).</exception>
    /// <exception cref="ArgumentException">The data format is neither of the two.</exception>
    public SpatialDropout3D(double rate, string dataFormat = "channels_last", string? name = null)
        : base(3, rate, dataFormat, name)
    {
    }

    /// <summary>Creates the layer from a Keras 3 config.</summary>
    internal static SpatialDropout3D FromConfig(LayerConfig config)
    {
        config.Ignore("seed");
        return new SpatialDropout3D(config.GetDouble("rate", 0), config.GetString("data_format", "channels_last"), config.Name);
    }
}
