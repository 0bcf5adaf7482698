using KerasStyle.Graph;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The 2-D window arithmetic Conv2D and the 2-D pooling layers share: Keras' output sizes and TensorFlow's 'same'
/// padding per axis, and the windows themselves cut by <c>unfold</c> (im2col), so that every result is a plain
/// reduction or matrix product rather than a libtorch convolution or pooling kernel, which has no check on this
/// CPU yet (see Engine/KernelChecks.cs).
/// </summary>
internal static class Windows2D
{
    /// <summary>(height, width) of the output, or null per unknown input size.</summary>
    public static (int? Height, int? Width) OutputSize(Shape input, (int H, int W) window, (int H, int W) strides, Padding padding) =>
        (input[1] is int h ? PaddingRules.OutputLength(h, window.H, strides.H, padding) : null,
         input[2] is int w ? PaddingRules.OutputLength(w, window.W, strides.W, padding) : null);

    /// <summary>
    /// The windows of a channels-last batch (N, H, W, C) as (N, C, window cells, output cells) after 'same' padding
    /// with <paramref name="fill"/>, and the output's (height, width).
    /// </summary>
    public static (Tensor Patches, long Height, long Width) Cut(Tensor input, (int H, int W) window, (int H, int W) strides, (int H, int W) dilation, Padding padding, double fill)
    {
        var x = input.permute(0, 3, 1, 2);
        if (padding == Padding.Same)
        {
            var (top, bottom) = PaddingRules.SamePadding((int)input.shape[1], ((window.H - 1) * dilation.H) + 1, strides.H);
            var (left, right) = PaddingRules.SamePadding((int)input.shape[2], ((window.W - 1) * dilation.W) + 1, strides.W);
            x = nn.functional.pad(x, new[] { left, right, top, bottom }, value: fill);
        }

        var height = ((x.shape[2] - (((window.H - 1) * dilation.H) + 1)) / strides.H) + 1;
        var width = ((x.shape[3] - (((window.W - 1) * dilation.W) + 1)) / strides.W) + 1;
        var patches = nn.functional.unfold(x, (window.H, window.W), (dilation.H, dilation.W), (0, 0), (strides.H, strides.W));
        return (patches.view(input.shape[0], input.shape[3], window.H * window.W, -1), height, width);
    }

    /// <summary>(N, C, output cells) back to channels-last (N, height, width, C).</summary>
    public static Tensor ToChannelsLast(Tensor cells, long height, long width) =>
        cells.view(cells.shape[0], cells.shape[1], height, width).permute(0, 2, 3, 1);
}
