using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What every transposed convolution shares, as Keras' <c>BaseConvTranspose</c>
/// (keras/src/layers/convolutional/base_conv_transpose.py), on <see cref="BaseConv"/>'s window arguments (no
/// <c>groups</c>, no <c>causal</c>), plus <c>output_padding</c>. Output sizes per axis as Keras'
/// <c>compute_conv_transpose_output_shape</c> (keras/src/ops/operation_utils.py), with K the dilated kernel span
/// (kernel − 1) × dilation + 1: <c>valid</c>: (L − 1) × stride + K + output padding (default max(K, stride) − K);
/// <c>same</c>: L × stride, or with an output padding (L − 1) × stride + K mod 2 + output padding. The cells kept are
/// the ones Keras' <c>conv_transpose</c> keeps (its JAX-form left and right pads,
/// keras/src/backend/common/backend_utils.py). Weights in Keras layout: kernel (kernel..., filters, channels),
/// glorot-uniform; bias (filters), zeros. Input (batch, spatial..., channels); output (batch, output spatial...,
/// filters). Computed by libtorch's <c>conv_transpose</c> once its check passed, else plainly (Engine/ConvKernels.cs);
/// exported to ONNX as one <c>ConvTranspose</c>. tf.keras 2.11 writes <c>groups</c> 1 too (its <c>Conv</c> base's;
/// Keras 3 has none): read at 1, written in the tf.keras 2 form (each class's <c>TfKeras2OnlyArgument</c>).
/// </summary>
public abstract class BaseConvTranspose : BaseConv
{
    private readonly int[]? outputPadding;

    /// <summary>Checks and keeps the arguments; see <see cref="BaseConv"/> for the shared ones.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or an output padding is negative.</exception>
    /// <exception cref="ArgumentException">Unknown padding (only <c>valid</c> and <c>same</c>) or activation, strides and
    /// dilation both above 1, or an output padding not below its stride (Keras refuses them too).</exception>
    private protected BaseConvTranspose(int rank, int filters, int[] kernelSize, int[] strides, string padding, int[]? outputPadding, int[] dilationRate,
        string? activation, bool useBias, string? name)
        : base(rank, filters, kernelSize, strides, padding, dilationRate, activation, useBias, name, allowCausal: false)
    {
        if (outputPadding is not null)
        {
            if (outputPadding.Length != rank || outputPadding.Any(p => p < 0))
            {
                throw new ArgumentOutOfRangeException(nameof(outputPadding), $"{GetType().Name}: outputPadding must be {rank} non-negative number(s), got {Tuple(outputPadding)}.");
            }

            for (var axis = 0; axis < rank; axis++)
            {
                if (outputPadding[axis] >= strides[axis])
                {
                    throw new ArgumentException($"{GetType().Name}: each output padding must be strictly less than its stride; at axis {axis} the output padding is {outputPadding[axis]} and the stride {strides[axis]} (Keras refuses it too).", nameof(outputPadding));
                }
            }
        }

        this.outputPadding = outputPadding?.ToArray();
        RefuseStridedDilation();
    }

    /// <summary>Keras' <c>output_padding</c> per axis, or null for Keras' default (see the class summary).</summary>
    private protected int[]? OutputPaddingPerAxis => outputPadding?.ToArray();

    private protected override bool HasGroups => false;

    private protected override bool PadsInput => false;

    private protected override void AddAfterPadding(JsonObject config) =>
        config["output_padding"] = outputPadding is null ? null : new JsonArray(outputPadding.Select(p => (JsonNode?)p).ToArray());

    /// <summary>Keras' <c>_get_output_shape_given_tf_padding</c>.</summary>
    private protected override int OutputLength(int axis, int length)
    {
        var span = EffectiveKernel[axis];
        var stride = StridesPerAxis[axis];
        long size = PaddingMode == Layers.Padding.Valid
            ? ((length - 1L) * stride) + span + (outputPadding?[axis] ?? (Math.Max(span, stride) - span))
            : outputPadding is null ? (long)length * stride : ((length - 1L) * stride) + (span % 2) + outputPadding[axis];
        return size <= int.MaxValue ? (int)size : throw new ArgumentOutOfRangeException(nameof(length), $"{GetType().Name}: the output would have {size} cells on axis {axis}.");
    }

    /// <summary>Keras' (JAX-form) left pad on <paramref name="axis"/>: the kept cells start at effective kernel − 1 − it.</summary>
    private int LeftPad(int axis)
    {
        var span = EffectiveKernel[axis];
        if (PaddingMode == Layers.Padding.Valid)
        {
            return span - 1;
        }

        var total = outputPadding is null ? StridesPerAxis[axis] + span - 2 : span + (span % 2) - 2 + outputPadding[axis];
        return Math.Min((total / 2) + (total % 2), span - 1);
    }

    /// <summary>Creates the kernel (kernel size..., filters, channels) and the bias from their initializers.</summary>
    private protected override void BuildWeights(int channels)
    {
        var shape = KernelSizes.Select(k => (long)k).Append(Filters).Append(channels).ToArray();
        Kernel = AddWeight("kernel", shape, Initial(KernelInitializer, shape, "kernel"));
        AddBias(Filters);
    }

    /// <inheritdoc/>
    protected sealed override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var leftPads = Enumerable.Range(0, Rank).Select(LeftPad).ToArray();
        var outSizes = Enumerable.Range(0, Rank).Select(a => OutputLength(a, (int)input.shape[a + 1])).ToArray();
        return Activations.Apply(Activation, ConvKernels.ConvTranspose(input, Kernel!.Variable, Bias?.Variable, StridesPerAxis, DilationPerAxis, leftPads, outSizes));
    }

    /// <summary>ONNX: ConvTranspose over (batch, channels, spatial...) between two Transposes, then the activation; its
    /// pads are Keras' kept cells (begin: effective kernel − 1 − left pad; end likewise, or an output_padding where
    /// Keras keeps cells past the end).</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call)
    {
        // Keras' (kernel..., filters, channels) to ONNX's (channels, filters, kernel...).
        var toOnnx = new long[] { Rank + 1, Rank }.Concat(Enumerable.Range(0, Rank).Select(a => (long)a)).ToArray();
        var begin = new long[Rank];
        var end = new long[Rank];
        var extra = new long[Rank];
        for (var axis = 0; axis < Rank; axis++)
        {
            var span = EffectiveKernel[axis];
            var left = LeftPad(axis);
            // Keras' right pad: what gives the output length (independent of the input length).
            var right = OutputLength(axis, 1) - 1 - left + span - 1;
            begin[axis] = span - 1 - left;
            end[axis] = Math.Max(0, span - 1 - right);
            extra[axis] = Math.Max(0, right - (span - 1));
        }

        var attributes = new[]
        {
            OnnxGraph.Ints("kernel_shape", KernelSizes.Select(k => (long)k).ToArray()),
            OnnxGraph.Ints("strides", StridesPerAxis.Select(s => (long)s).ToArray()),
            OnnxGraph.Ints("dilations", DilationPerAxis.Select(d => (long)d).ToArray()),
            OnnxGraph.Ints("pads", begin.Concat(end).ToArray()),
            OnnxGraph.Ints("output_padding", extra),
        };
        var y = graph.ChannelsFirst(call.Input.Name, Rank, Name, x =>
        {
            var kernel = graph.Weight(Kernel!, "onnx", t => t.permute(toOnnx));
            return graph.Add("ConvTranspose", Name, Bias is null ? new[] { x, kernel } : new[] { x, kernel, graph.Weight(Bias) }, attributes);
        });
        return new[] { graph.Activation(y, Activation, Name) };
    }

    /// <summary>Reads a transposed convolution's config: <see cref="BaseConv"/>'s keys (no groups) and output_padding.</summary>
    private protected static (ConvArguments Arguments, int[]? OutputPadding) ReadTransposeConfig(LayerConfig config, int rank)
    {
        // tf.keras 2.11 writes its Conv base's groups (always 1 there); Keras 3 has none.
        config.RequireDefault("groups", 1);
        var (regularizers, constraints) = ReadKernelAndBiasConfigWithConstraints(config);
        var arguments = ReadWindowConfig(config, rank) with { Regularizers = regularizers, Constraints = constraints, InitialValues = ReadKernelAndBiasInitializers(config) };
        int[]? outputPadding = null;
        if (config.GetRaw("output_padding") is { } raw)
        {
            outputPadding = raw is JsonArray ? config.GetIntList("output_padding") : Enumerable.Repeat(config.GetInt("output_padding"), rank).ToArray();
            if (outputPadding.Length != rank)
            {
                throw config.Error($"'output_padding' must be a number or {rank} numbers, got {raw.ToJsonString()}.");
            }
        }
        else
        {
            config.Ignore("output_padding");
        }

        return (arguments, outputPadding);
    }
}
