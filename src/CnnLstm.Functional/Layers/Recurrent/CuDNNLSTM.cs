using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// Keras 2's and tf.keras 2's GPU-only <c>CuDNNLSTM</c> (keras/layers/cudnn_recurrent.py; tf.keras
/// <c>tf.compat.v1.keras.layers.CuDNNLSTM</c>), loaded from the files those versions wrote: an LSTM with activation
/// tanh, recurrent activation sigmoid, a bias, no dropout and no mask, computed on the CPU as <see cref="LSTM"/>
/// computes it. Keras 3 has no such layer. The file's weights are converted as Keras 2 converted them when it loaded
/// CuDNNLSTM weights into an <c>LSTM</c> (<c>_convert_rnn_weights</c> in keras/engine/saving.py): each gate block of
/// the kernel (features, 4u) is reordered as cuDNN read its memory (<c>K.T.reshape(K.shape, order='F')</c>), each
/// block of the recurrent kernel (u, 4u) is transposed, and the input and recurrent biases (8u) are summed into one
/// bias (4u). Gate order i, f, c, o as LSTM.
/// </summary>
/// <remarks>
/// The layer is an LSTM once loaded: <see cref="ClassName"/> is <c>LSTM</c>, its config is an LSTM config and its
/// weights have LSTM's layout, so a model holding it saves as Keras 2 would save it after the conversion (an LSTM
/// that Keras 3 and tf.keras 2 read). Config keys: <c>units</c>, <c>unit_forget_bias</c>, <c>return_sequences</c>,
/// <c>return_state</c>, <c>go_backwards</c>, <c>stateful</c> (false only), <c>time_major</c> (tf.keras 2; false only),
/// the initializers, and null regularizers and constraints; any other key is refused. As in Keras 2, an input with a
/// mask is refused when the layer is called.
/// </remarks>
[KerasLayer("CuDNNLSTM")]
public sealed class CuDNNLSTM : RNN<LSTMCell>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="unitForgetBias">Whether the forget-gate bias starts at 1 (default true).</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last h and c.</param>
    /// <param name="goBackwards">Process the sequence last step first.</param>
    /// <param name="name">Layer name; defaults to <c>cu_dnnlstm_N</c> as Keras 2 names it.</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive.</exception>
    public CuDNNLSTM(int units, bool unitForgetBias = true, bool returnSequences = false, bool returnState = false, bool goBackwards = false, string? name = null)
        : base(NewCell(units, unitForgetBias), returnSequences, returnState, goBackwards, zeroOutputForMask: false, name)
    {
    }

    /// <summary>Saved as the LSTM it computes (see the class remarks).</summary>
    public override string ClassName => "LSTM";

    /// <summary>Whether the forget-gate bias starts at 1.</summary>
    public bool UnitForgetBias => Cell.UnitForgetBias;

    /// <summary>Refuses a masked input, as Keras 2 did (the cuDNN kernel cannot skip steps).</summary>
    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => inputMasked.Count > 0 && inputMasked[0]
        ? throw new ArgumentException($"CuDNNLSTM '{Name}' does not support masking, but its input carries a mask (Keras 2 refuses it too); use LSTM for masked sequences.")
        : base.OutputMasks(inputMasked);

    /// <summary>Creates the layer from a Keras 2 or tf.keras 2 CuDNNLSTM config.</summary>
    internal static new CuDNNLSTM FromConfig(LayerConfig config)
    {
        var returns = ReadCuDNNArguments(config);
        var layer = new CuDNNLSTM(config.GetInt("units"), config.GetBool("unit_forget_bias", true), returns.ReturnSequences, returns.ReturnState, returns.GoBackwards, config.Name);
        layer.Cell.ReadInitializers(config);
        return layer;
    }

    /// <summary>
    /// The arguments Keras 2's <c>_CuDNNRNN</c> and its two layers take besides <c>units</c> (and
    /// <c>unit_forget_bias</c>): stateful must be false; no regularizer or constraint (the layer reads its initializers as LSTM's, into its cell).
    /// </summary>
    internal static (bool ReturnSequences, bool ReturnState, bool GoBackwards) ReadCuDNNArguments(LayerConfig config)
    {
        config.RequireDefault("stateful", false);
        config.RequireDefault("time_major", false);
        foreach (var key in new[] { "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint" })
        {
            config.RequireDefault(key, null);
        }

        return (config.GetBool("return_sequences", false), config.GetBool("return_state", false), config.GetBool("go_backwards", false));
    }

    /// <summary>
    /// Keras 2's conversion of stored weights for a layer of class LSTM (this library's <see cref="LSTM"/> and
    /// <see cref="CuDNNLSTM"/>): three weights whose bias has 8u entries are CuDNNLSTM weights and are converted to
    /// LSTM's layout; anything else is returned as it is (the load checks the shapes).
    /// </summary>
    internal static IReadOnlyList<H5Array> ConvertKeras2Weights(IReadOnlyList<H5Array> stored)
    {
        if (!IsCuDNNLayout(stored, gates: 4, out var units) || stored[2].Shape.Length != 1)
        {
            return stored;
        }

        var bias = new H5Array(stored[2].Path, new[] { 4 * units }, isFloat: true, () =>
        {
            var both = stored[2].Floats!;
            var sum = new float[4 * units];
            for (var k = 0; k < sum.Length; k++)
            {
                sum[k] = both[k] + both[sum.Length + k];
            }

            return sum;
        });
        return new[] { ConvertKernel(stored[0], 4, units), ConvertRecurrentKernel(stored[1], 4, units), bias };
    }

    /// <summary>
    /// Whether three stored weights are a cuDNN layer's: a 2-D kernel (features, gates·u), a recurrent kernel (u,
    /// gates·u) and a bias of 2·gates·u entries in one vector, u being the recurrent kernel's rows as Keras 2 takes it.
    /// </summary>
    internal static bool IsCuDNNLayout(IReadOnlyList<H5Array> stored, int gates, out int units)
    {
        units = 0;
        if (stored.Count != 3 || stored.Any(s => !s.IsFloat) || stored[1].Shape.Length != 2 || stored[0].Shape.Length != 2)
        {
            return false;
        }

        units = stored[1].Shape[0];
        return units > 0 && stored[1].Shape[1] == gates * units && stored[0].Shape[1] == gates * units
            && stored[2].Shape.Length == 1 && stored[2].Shape[0] == 2 * gates * units;
    }

    /// <summary>
    /// Keras 2's <c>transform_kernels(kernel, transpose_input(from_cudnn=True), gates)</c>: each gate block K
    /// (features, u) becomes <c>K.T.reshape(K.shape, order='F')</c>, i.e. K's memory read as (u, features) and
    /// transposed, as cuDNN had read it.
    /// </summary>
    internal static H5Array ConvertKernel(H5Array kernel, int gates, int units)
    {
        var features = kernel.Shape[0];
        var width = gates * units;
        return new H5Array(kernel.Path, kernel.Shape, isFloat: true, () =>
        {
            var source = kernel.Floats!;
            var result = new float[source.Length];
            var block = new float[features * units];
            for (var g = 0; g < gates; g++)
            {
                // The block's values in row-major order: flat[a * u + b] = K[a, b].
                for (var a = 0; a < features; a++)
                {
                    Array.Copy(source, a * width + g * units, block, a * units, units);
                }

                // out[i, j] = flat[j * features + i].
                for (var i = 0; i < features; i++)
                {
                    for (var j = 0; j < units; j++)
                    {
                        result[i * width + g * units + j] = block[j * features + i];
                    }
                }
            }

            return result;
        });
    }

    /// <summary>Keras 2's <c>transform_kernels(recurrent_kernel, lambda k: k.T, gates)</c>: each (u, u) gate block transposed.</summary>
    internal static H5Array ConvertRecurrentKernel(H5Array recurrent, int gates, int units)
    {
        var width = gates * units;
        return new H5Array(recurrent.Path, recurrent.Shape, isFloat: true, () =>
        {
            var source = recurrent.Floats!;
            var result = new float[source.Length];
            for (var g = 0; g < gates; g++)
            {
                for (var i = 0; i < units; i++)
                {
                    for (var j = 0; j < units; j++)
                    {
                        result[i * width + g * units + j] = source[j * width + g * units + i];
                    }
                }
            }

            return result;
        });
    }

    private static LSTMCell NewCell(int units, bool unitForgetBias) =>
        new(nameof(CuDNNLSTM), units, "tanh", "sigmoid", useBias: true, unitForgetBias, dropout: 0, recurrentDropout: 0, "lstm_cell");
}
