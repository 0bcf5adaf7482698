using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving;

namespace KerasStyle.Layers;

/// <summary>The config and shape rules the 1-D global pooling layers share (Keras' <c>BaseGlobalPooling</c>).</summary>
internal static class GlobalPooling
{
    public static JsonObject Config(JsonObject config, bool keepdims)
    {
        config["data_format"] = "channels_last";
        config["keepdims"] = keepdims;
        return config;
    }

    public static bool ReadKeepdims(LayerConfig config)
    {
        config.RequireDefault("data_format", "channels_last");
        return config.GetBool("keepdims", false);
    }

    public static IReadOnlyList<(Shape Shape, DType DType)> Specs(Layer layer, KerasTensor input, bool keepdims)
    {
        if (input.Shape.Rank != 3 || input.DType != DType.Float32)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': expected a float32 input of rank 3 (batch, steps, features), but got {input.Label} with shape {input.Shape} and dtype {input.DType.ToKerasName()}.");
        }

        return new[] { (keepdims ? new Shape(null, 1, input.Shape[2]) : new Shape(null, input.Shape[2]), DType.Float32) };
    }

    public static IReadOnlyList<(Shape Shape, DType DType)> Specs2D(Layer layer, KerasTensor input, bool keepdims)
    {
        if (input.Shape.Rank != 4 || input.DType != DType.Float32)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': expected a float32 input of rank 4 (batch, height, width, channels), but got {input.Label} with shape {input.Shape} and dtype {input.DType.ToKerasName()}.");
        }

        return new[] { (keepdims ? new Shape(null, 1, 1, input.Shape[3]) : new Shape(null, input.Shape[3]), DType.Float32) };
    }

    public static IReadOnlyList<(Shape Shape, DType DType)> Specs3D(Layer layer, KerasTensor input, bool keepdims)
    {
        if (input.Shape.Rank != 5 || input.DType != DType.Float32)
        {
            throw new LayerInputException(layer.Name, $"{layer.ClassName} '{layer.Name}': expected a float32 input of rank 5 (batch, depth, height, width, channels), but got {input.Label} with shape {input.Shape} and dtype {input.DType.ToKerasName()}.");
        }

        return new[] { (keepdims ? new Shape(null, 1, 1, 1, input.Shape[4]) : new Shape(null, input.Shape[4]), DType.Float32) };
    }
}
