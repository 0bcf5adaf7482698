using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// What ZeroPadding2D/3D and Cropping2D/3D share: a (start, end) pair per spatial axis of a channels-last input
/// (batch, spatial..., channels), its checks, config form and the tensor and ONNX operations over it.
/// </summary>
internal static class SpatialSides
{
    /// <summary>Refuses a negative side, naming the layer, the argument and the value.</summary>
    public static (int Start, int End)[] Check(string layer, string argument, (int Start, int End)[] sides)
    {
        if (sides.Any(s => s.Start < 0 || s.End < 0))
        {
            throw new ArgumentOutOfRangeException(argument, $"{layer}: {argument} {Text(sides)} must be 0 or more on every side.");
        }

        return sides;
    }

    /// <summary>Keras' form: ((start, end), ...).</summary>
    public static string Text((int Start, int End)[] sides) => $"({string.Join(", ", sides.Select(s => $"({s.Start}, {s.End})"))})";

    /// <summary>The config value: [[start, end], ...].</summary>
    public static JsonArray Json((int Start, int End)[] sides) => new(sides.Select(s => (JsonNode?)new JsonArray(s.Start, s.End)).ToArray());

    /// <summary>The <c>pad</c> widths of torch: from the last axis (channels: none) back to the first spatial axis.</summary>
    public static long[] TorchPad((int Start, int End)[] sides) =>
        new long[] { 0, 0 }.Concat(sides.Reverse().SelectMany(s => new long[] { s.Start, s.End })).ToArray();

    /// <summary>ONNX Pad widths: every start (batch and channels 0), then every end.</summary>
    public static long[] OnnxPads((int Start, int End)[] sides) =>
        new long[] { 0 }.Concat(sides.Select(s => (long)s.Start)).Append(0).Append(0).Concat(sides.Select(s => (long)s.End)).Append(0).ToArray();

    /// <summary>The input with its spatial axes cut to [start, length - end).</summary>
    public static Tensor Crop(Tensor input, (int Start, int End)[] sides)
    {
        var result = input;
        for (var axis = 0; axis < sides.Length; axis++)
        {
            var next = result.narrow(axis + 1, sides[axis].Start, result.shape[axis + 1] - sides[axis].Start - sides[axis].End);
            if (!ReferenceEquals(result, input))
            {
                result.Dispose();
            }

            result = next;
        }

        return result;
    }

    /// <summary>ONNX: a Slice of the spatial axes.</summary>
    public static string OnnxCrop(OnnxGraph graph, string input, string hint, (int Start, int End)[] sides) =>
        graph.Add("Slice", hint, new[]
        {
            input,
            graph.Int64s(sides.Select(s => (long)s.Start).ToArray()),
            graph.Int64s(sides.Select(s => s.End > 0 ? -s.End : long.MaxValue).ToArray()),
            graph.Int64s(Enumerable.Range(1, sides.Length).Select(a => (long)a).ToArray()),
        });

    /// <summary>The output shape of padding: each known spatial size plus its sides.</summary>
    public static Shape PaddedShape(KerasTensor input, (int Start, int End)[] sides, Func<long?, string, int?> derived)
    {
        var shape = input.Shape;
        for (var axis = 0; axis < sides.Length; axis++)
        {
            shape = shape.With(axis + 1, derived((long?)input.Shape[axis + 1] + sides[axis].Start + sides[axis].End, $"spatial axis {axis + 1} padded by {Text(sides)}"));
        }

        return shape;
    }

    /// <summary>The output shape of cropping, or null when a known spatial size is not larger than its two sides.</summary>
    public static Shape? CroppedShape(Shape shape, (int Start, int End)[] sides)
    {
        var output = shape;
        for (var axis = 0; axis < sides.Length; axis++)
        {
            // In 64 bits: sides near int.MaxValue must not wrap to a positive size.
            var size = (long?)shape[axis + 1] - sides[axis].Start - sides[axis].End;
            if (size <= 0)
            {
                return null;
            }

            output = output.With(axis + 1, (int?)size);
        }

        return output;
    }

    /// <summary>The spatial axes repeated: <paramref name="sizes"/>[i] copies of every entry along axis i + 1.</summary>
    public static Tensor Repeat(Tensor input, int[] sizes)
    {
        var result = input;
        for (var axis = 0; axis < sizes.Length; axis++)
        {
            if (sizes[axis] == 1)
            {
                continue;
            }

            var next = result.repeat_interleave(sizes[axis], axis + 1);
            if (!ReferenceEquals(result, input))
            {
                result.Dispose();
            }

            result = next;
        }

        return ReferenceEquals(result, input) ? input.alias() : result;
    }

    /// <summary>The output shape of upsampling: each known spatial size times its factor.</summary>
    public static Shape RepeatedShape(KerasTensor input, int[] sizes, Func<long?, string, int?> derived)
    {
        var shape = input.Shape;
        for (var axis = 0; axis < sizes.Length; axis++)
        {
            shape = shape.With(axis + 1, derived((long?)input.Shape[axis + 1] * sizes[axis], $"spatial axis {axis + 1} × size {sizes[axis]}"));
        }

        return shape;
    }

    /// <summary>ONNX: Resize with nearest neighbours at integer scales (each entry repeated) over channels-last axes.</summary>
    public static string OnnxRepeat(OnnxGraph graph, string input, string hint, int[] sizes) =>
        graph.Add("Resize", hint, new[] { input, "", graph.Floats($"{hint}_scales", new[] { 1f }.Concat(sizes.Select(s => (float)s)).Append(1f).ToArray(), sizes.Length + 2) },
            OnnxGraph.Attr("mode", "nearest"), OnnxGraph.Attr("coordinate_transformation_mode", "asymmetric"), OnnxGraph.Attr("nearest_mode", "floor"));

    /// <summary>Refuses sizes that are not all positive, naming the layer and the value.</summary>
    public static int[] CheckSizes(string layer, string argument, int[] sizes)
    {
        if (sizes.Any(s => s <= 0))
        {
            throw new ArgumentOutOfRangeException(argument, $"{layer}: {argument} ({string.Join(", ", sizes)}) must be positive on every axis.");
        }

        return sizes;
    }

    /// <summary>The config value: [a, b, ...].</summary>
    public static JsonArray Json(int[] sizes) => new(sizes.Select(s => (JsonNode?)s).ToArray());
}
