using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Max pooling over the steps of channels-last sequences (batch, steps, channels), as Keras' <c>MaxPooling1D</c>.
/// Output length is floor((L - poolSize) / strides) + 1 for <c>valid</c>, ceil(L / strides) for <c>same</c>.
/// </summary>
[KerasLayer("MaxPooling1D")]
public sealed class MaxPooling1D : Pooling1D
{
    /// <summary>Creates a max-pooling layer.</summary>
    /// <param name="poolSize">Window length; must be positive (Keras default 2).</param>
    /// <param name="strides">Step between windows; null means <paramref name="poolSize"/>, as in Keras.</param>
    /// <param name="padding"><c>valid</c> or <c>same</c>.</param>
    /// <param name="name">Layer name; defaults to <c>max_pooling1d_N</c>.</param>
    public MaxPooling1D(int poolSize = 2, int? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    /// <summary>Creates the layer from a Keras 2 or Keras 3 config.</summary>
    internal static MaxPooling1D FromConfig(LayerConfig config)
    {
        var (pool, strides, padding) = Read(config);
        return new MaxPooling1D(pool, strides, padding, config.Name);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        if (PoolSize == 1 && Strides == 1)
        {
            // Pooling one step at a time is the identity (the seed's regression model).
            return input.alias();
        }

        var x = input;
        if (PaddingMode == Layers.Padding.Same)
        {
            // TensorFlow pads 'same' pooling with -inf so padded cells never win.
            var (left, right) = PaddingRules.SamePadding((int)input.shape[1], PoolSize, Strides);
            if (left + right > 0)
            {
                x = nn.functional.pad(input, new[] { 0L, 0L, left, right }, value: double.NegativeInfinity);
            }
        }

        // The libtorch path for the input's memory layout whose check passed on this CPU, or unfold and max.
        return MaxPool1DKernels.Run(x, PoolSize, Strides);
    }

    private protected override string OnnxOperator => "MaxPool";
}
