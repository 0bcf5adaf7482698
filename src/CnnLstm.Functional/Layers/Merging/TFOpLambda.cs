using System.Text.Json.Nodes;
using KerasStyle.Engine;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// tf.keras 2's <c>TFOpLambda</c> (keras/layers/core/tf_op_layer.py) for the element-wise TensorFlow operators it
/// records between two tensors, loaded from the files tf.keras 2 wrote (Keras 3 cannot read them): <c>x + y</c>
/// (<c>"function": "__operators__.add"</c> or <c>"math.add"</c>, <c>tf.math.add</c>), <c>"math.subtract"</c>
/// (<c>x - y</c>) and <c>"math.multiply"</c> (<c>x * y</c>). tf.keras 2 records the call as the node
/// <c>["x", 0, 0, {"y": ["y", 0, 0], "name": null}]</c>: the first tensor positional, the second the keyword
/// argument <c>y</c> (a tensor; a constant is refused), <c>name</c> only naming the TensorFlow op. Inputs x and y:
/// float32 (batch, ...) of one rank, broadcasting as TensorFlow does (a size 1 stretches to the other size); output
/// (batch, broadcast shape). No weights. An input carrying a mask is refused (tf.keras 2's op layers do not merge masks).
/// </summary>
/// <remarks>
/// Saved as the Keras 3 layer that computes the same (<see cref="ClassName"/> <c>Add</c>, <c>Subtract</c> or
/// <c>Multiply</c>, called on <c>[x, y]</c>), which Keras 3 and tf.keras 2 both read. Any other function (slicing,
/// reductions, <c>__operators__.getitem</c>...) is refused naming it.
/// </remarks>
[KerasLayer("TFOpLambda")]
public sealed class TFOpLambda : Merge
{
    /// <summary>The TensorFlow functions read, with the Keras 3 merge layer computing each.</summary>
    private static readonly Dictionary<string, string> Functions = new(StringComparer.Ordinal)
    {
        ["__operators__.add"] = "Add",
        ["math.add"] = "Add",
        ["math.subtract"] = "Subtract",
        ["math.multiply"] = "Multiply",
    };

    /// <summary>Creates the layer.</summary>
    /// <param name="function">The recorded TensorFlow function: <c>__operators__.add</c>, <c>math.add</c>,
    /// <c>math.subtract</c> or <c>math.multiply</c>.</param>
    /// <param name="name">Layer name; defaults to <c>tf_op_lambda_N</c>.</param>
    /// <exception cref="NotSupportedException">Another function.</exception>
    public TFOpLambda(string function, string? name = null)
        : base(Check(function, name))
    {
        Function = function;
    }

    /// <summary>The recorded TensorFlow function, e.g. <c>__operators__.add</c>.</summary>
    public string Function { get; }

    /// <summary>Saved as the Keras 3 merge layer that computes the same: <c>Add</c>, <c>Subtract</c> or <c>Multiply</c>.</summary>
    public override string ClassName => Functions[Function];

    private protected override int? ExactInputs => 2;

    /// <summary>The keyword argument of tf.keras 2's node that holds the second tensor.</summary>
    internal const string SecondInput = "y";

    /// <summary>
    /// Reads the keyword arguments of a tf.keras 2 node of this layer: <c>y</c> must be a tensor reference
    /// <c>[layer, node, tensor]</c> (returned); <c>name</c> (the TensorFlow op's name) null or a string; nothing else.
    /// </summary>
    internal JsonArray SecondTensor(JsonNode? kwargs)
    {
        var map = kwargs as JsonObject ?? throw new FormatException($"TFOpLambda '{Name}': the call arguments must be an object holding 'y', got {kwargs?.ToJsonString() ?? "none"}.");
        foreach (var (key, value) in map)
        {
            if (key == SecondInput || (key == "name" && (value is null || value.GetValueKind() == System.Text.Json.JsonValueKind.String)))
            {
                continue;
            }

            throw new NotSupportedException($"TFOpLambda '{Name}' (tf.{Function}): the call argument '{key}' = {value?.ToJsonString() ?? "null"} is not supported by this library.");
        }

        return map[SecondInput] is JsonArray { Count: 3 } reference && reference[0] is JsonValue
            ? reference
            : throw new NotSupportedException($"TFOpLambda '{Name}' (tf.{Function}): y = {map[SecondInput]?.ToJsonString() ?? "none"} is not a tensor; this library reads this layer between two tensors only.");
    }

    /// <summary>Creates the layer from a tf.keras 2 config (name, trainable, dtype, function).</summary>
    internal static TFOpLambda FromConfig(LayerConfig config) =>
        new(config.GetNullableString("function") ?? throw config.Error("the argument 'function' is required."), config.Name);

    /// <summary>Refuses a masked input (see the class summary).</summary>
    internal override bool[] OutputMasks(IReadOnlyList<bool> inputMasked) => inputMasked.Any(m => m)
        ? throw InputError($"(tf.{Function}) does not take masked inputs (tf.keras 2's op layers do not merge masks), but an input carries a mask.")
        : base.OutputMasks(inputMasked);

    /// <inheritdoc/>
    private protected override Shape OutputShape(IReadOnlyList<KerasTensor> inputs) => inputs[0].Shape.Rank == inputs[1].Shape.Rank
        ? base.OutputShape(inputs)
        : throw InputError($"(tf.{Function}) takes x and y of one rank, but got {Describe(inputs)}; this library does not broadcast tensors of different ranks here.");

    private protected override Tensor Combine(Tensor a, Tensor b) => ClassName switch
    {
        "Add" => a.add(b, Scalars.IntOne),
        "Subtract" => a - b,
        _ => a * b,
    };

    private protected override string OnnxCombine => ClassName switch
    {
        "Add" => "Add",
        "Subtract" => "Sub",
        _ => "Mul",
    };

    private static string? Check(string function, string? name)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Functions.ContainsKey(function) ? name
            : throw new NotSupportedException($"TFOpLambda '{name}' records tf.{function}, which this library does not implement; it reads tf.keras 2's {string.Join(", ", Functions.Keys)} between two tensors.");
    }
}
