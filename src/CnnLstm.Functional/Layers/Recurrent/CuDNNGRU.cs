using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>
/// Keras 2's and tf.keras 2's GPU-only <c>CuDNNGRU</c> (keras/layers/cudnn_recurrent.py), loaded from the files those
/// versions wrote: a GRU with <c>reset_after=True</c>, activation tanh, recurrent activation sigmoid, a bias, no
/// dropout and no mask, computed on the CPU as <see cref="GRU"/> computes it. Keras 3 has no such layer. The file's
/// weights are converted as Keras 2 converted them when it loaded CuDNNGRU weights into a
/// <c>GRU(reset_after=True)</c> (<c>_convert_rnn_weights</c>): each gate block of the kernel (features, 3u) is
/// reordered as cuDNN read its memory (<c>K.T.reshape(K.shape, order='F')</c>), each block of the recurrent kernel
/// (u, 3u) is transposed, and the bias (6u) becomes GRU's (2, 3u): input bias, then recurrent bias. Gate order z, r,
/// h as GRU.
/// </summary>
/// <remarks>
/// The layer is a GRU once loaded: <see cref="ClassName"/> is <c>GRU</c>, its config a GRU config
/// (<c>reset_after=True</c>) and its weights GRU's layout, so a model holding it saves as Keras 2 would save it after
/// the conversion. Config keys: <c>units</c>, <c>return_sequences</c>, <c>return_state</c>, <c>go_backwards</c>,
/// <c>stateful</c> (false only), <c>time_major</c> (tf.keras 2; false only), the initializers, and null regularizers
/// and constraints; any other key is refused. As in Keras 2, an input with a mask is refused when the layer is called.
/// CuDNNGRU weights loaded into a <c>GRU(reset_after=False)</c> are refused, as Keras 2 refused them.
/// </remarks>
[KerasLayer("CuDNNGRU")]
public sealed class CuDNNGRU : RNN<GRUCell>
{
    /// <summary>Creates the layer.</summary>
    /// <param name="units">Size of the state; positive.</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the last state.</param>
    /// <param name="goBackwards">Process the sequence last step first.</param>
    /// <param name="name">Layer name; defaults to <c>cu_dnngru_N</c> as Keras 2 names it.</param>
    /// <exception cref="ArgumentOutOfRangeException">Units not positive.</exception>
    public CuDNNGRU(int units, bool returnSequences = false, bool returnState = false, bool goBackwards = false, string? name = null)
        : base(new GRUCell(nameof(CuDNNGRU), units, "tanh", "sigmoid", useBias: true, dropout: 0, recurrentDropout: 0, resetAfter: true, "gru_cell"),
            returnSequences, returnState, goBackwards, zeroOutputForMask: false, name)
    {
    }

    /// <summary>Saved as the GRU it computes (see the class remarks).</summary>
    public override string ClassName => "GRU";

    /// <summary>Refuses a masked input, as Keras 2 did (the cuDNN kernel cannot skip steps).</summary>
    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => inputMasked.Count > 0 && inputMasked[0]
        ? throw new ArgumentException($"CuDNNGRU '{Name}' does not support masking, but its input carries a mask (Keras 2 refuses it too); use GRU for masked sequences.")
        : base.OutputMasks(inputMasked);

    /// <summary>Creates the layer from a Keras 2 or tf.keras 2 CuDNNGRU config.</summary>
    internal static new CuDNNGRU FromConfig(LayerConfig config)
    {
        var returns = CuDNNLSTM.ReadCuDNNArguments(config);
        var layer = new CuDNNGRU(config.GetInt("units"), returns.ReturnSequences, returns.ReturnState, returns.GoBackwards, config.Name);
        layer.Cell.ReadInitializers(config);
        return layer;
    }

    /// <summary>
    /// Keras 2's conversion of stored weights for a layer of class GRU (this library's <see cref="GRU"/> and
    /// <see cref="CuDNNGRU"/>): three weights whose bias is one vector of 6u entries are CuDNNGRU weights, converted to
    /// <c>GRU(reset_after=True)</c>'s layout, or refused for a <c>GRU(reset_after=False)</c>; anything else is returned
    /// as it is (the load checks the shapes).
    /// </summary>
    /// <exception cref="KerasFileException">CuDNNGRU weights for a GRU with <c>reset_after=False</c>.</exception>
    internal static IReadOnlyList<H5Array> ConvertKeras2Weights(Layer layer, IReadOnlyList<H5Array> stored, string path)
    {
        if (!CuDNNLSTM.IsCuDNNLayout(stored, gates: 3, out var units))
        {
            return stored;
        }

        if (layer is GRU { ResetAfter: false })
        {
            throw new KerasFileException(path, $"layer '{layer.Name}' (GRU, reset_after=False): the file stores CuDNNGRU weights (bias {stored[2].ShapeText}), which Keras 2 refuses too: CuDNNGRU is not compatible with GRU(reset_after=False). Use reset_after=True.")
            {
                Layer = layer.Name,
            };
        }

        var bias = new H5Array(stored[2].Path, new[] { 2, 3 * units }, isFloat: true, () => stored[2].Floats!);
        return new[] { CuDNNLSTM.ConvertKernel(stored[0], 3, units), CuDNNLSTM.ConvertRecurrentKernel(stored[1], 3, units), bias };
    }
}
