using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The mean over sliding windows of steps, as Keras' <c>keras.layers.AveragePooling1D</c>
/// (keras/src/layers/pooling/average_pooling1d.py): (batch, steps, features) to (batch, pooled steps, features), with
/// Keras' output lengths for <c>valid</c> and <c>same</c>. With <c>same</c>, a window that reaches past the sequence
/// averages only the steps inside it (as TensorFlow and Keras do). No weights.
/// </summary>
[KerasLayer("AveragePooling1D")]
public sealed class AveragePooling1D : Pooling1D
{
    /// <summary>Creates the layer.</summary>
    /// <param name="poolSize">Steps per window; required, as in Keras 3.16.</param>
    /// <param name="strides">Steps between windows; defaults to <paramref name="poolSize"/>.</param>
    /// <param name="padding"><c>valid</c> (default) or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>average_pooling1d_N</c>.</param>
    public AveragePooling1D(int poolSize, int? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static AveragePooling1D FromConfig(LayerConfig config)
    {
        var (pool, strides, padding) = Read(config);
        return new AveragePooling1D(pool, strides, padding, config.Name);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var x = input.transpose(1, 2);
        if (PaddingMode != Layers.Padding.Same)
        {
            return nn.functional.avg_pool1d(x, PoolSize, Strides).transpose(1, 2);
        }

        // Zero padding, then the windows' sums over the counts of real steps in them.
        var (left, right) = PaddingRules.SamePadding((int)input.shape[1], PoolSize, Strides);
        var padded = nn.functional.pad(x, new[] { left, right });
        using var real = nn.functional.pad(ones(1, 1, input.shape[1], dtype: input.dtype, device: input.device), new[] { left, right });
        return (nn.functional.avg_pool1d(padded, PoolSize, Strides) / nn.functional.avg_pool1d(real, PoolSize, Strides)).transpose(1, 2);
    }

    private protected override string OnnxOperator => "AveragePool";
}
