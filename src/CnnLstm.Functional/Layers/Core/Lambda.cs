using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving.Onnx;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Wraps a C# function of a tensor as a layer, as Keras' <c>keras.layers.Lambda</c>
/// (keras/src/layers/core/lambda_layer.py), for models built in code: <c>new Lambda(x =&gt; x.mul(...))</c>. Input one
/// float or integer tensor (batch, ...); output the function's result, which must keep the batch axis. The output
/// shape is Keras' <c>output_shape</c> (without the batch axis) when given, else found by running the function on
/// zeros twice (sizes that follow the batch or an unknown input size stay unknown), as Keras traces it. No weights;
/// no mask passed on (Keras' default without <c>mask</c>).
/// <para>Saving: a function registered with <see cref="Register"/> and used by that name
/// (<c>new Lambda("KerasStyle&gt;double_plus_one")</c>) is written as Keras writes a registered function
/// (<c>{"class_name": "function", "config": "KerasStyle&gt;double_plus_one", ...}</c>), so Keras loads the file when the
/// same name is registered there (<c>@keras.saving.register_keras_serializable(package="KerasStyle")</c>), and this
/// library loads it when registered here. A layer made from an unregistered C# function cannot be saved
/// (<see cref="NotSupportedException"/> naming it). A file's Python lambda (Keras' <c>__lambda__</c> form, or
/// tf.keras 2's bytecode) is refused when loading, as Keras refuses it unless unsafe deserialisation is enabled:
/// this library never runs Python code. The function's <c>arguments</c>, <c>mask</c> and a callable
/// <c>output_shape</c> are not supported (configs with them are refused).</para>
/// </summary>
[KerasLayer("Lambda")]
public sealed class Lambda : Layer
{
    private static readonly ConcurrentDictionary<string, Func<Tensor, Tensor>> Registered = new(StringComparer.Ordinal);

    private readonly Func<Tensor, Tensor> function;
    private readonly int?[]? outputShape;

    /// <summary>Creates the layer from a C# function (which cannot be saved; see <see cref="Register"/>).</summary>
    /// <param name="function">The computation, called on the whole batch (batch, ...) in every run.</param>
    /// <param name="outputShape">Keras' <c>output_shape</c>: the output's shape without the batch axis (null
    /// entries unknown); default null, found by running the function.</param>
    /// <param name="name">Layer name; defaults to <c>lambda_N</c>.</param>
    public Lambda(Func<Tensor, Tensor> function, int?[]? outputShape = null, string? name = null)
        : base(name)
    {
        this.function = function ?? throw new ArgumentNullException(nameof(function));
        this.outputShape = CheckShape(outputShape);
    }

    /// <summary>Creates the layer from a function registered with <see cref="Register"/>; it saves under that name.</summary>
    /// <param name="registeredFunction">The registered name, e.g. <c>"KerasStyle&gt;double_plus_one"</c>.</param>
    /// <param name="outputShape">Keras' <c>output_shape</c> without the batch axis; default null, found by running the function.</param>
    /// <param name="name">Layer name; defaults to <c>lambda_N</c>.</param>
    /// <exception cref="ArgumentException">No function is registered under that name.</exception>
    public Lambda(string registeredFunction, int?[]? outputShape = null, string? name = null)
        : this(Lookup(registeredFunction), outputShape, name)
    {
        FunctionName = registeredFunction;
    }

    /// <summary>The registered name the layer saves its function under, or null for an unregistered function.</summary>
    public string? FunctionName { get; }

    /// <summary>
    /// Registers a C# function under a name for <see cref="Lambda(string, int?[], string?)"/> and for loading files
    /// whose Lambda names it (Keras' registered name <c>package&gt;name</c>, as
    /// <c>keras.saving.register_keras_serializable</c> writes it, or a plain name). Registering a name again replaces
    /// its function.
    /// </summary>
    /// <param name="registeredName">The name; not empty.</param>
    /// <param name="function">The computation.</param>
    public static void Register(string registeredName, Func<Tensor, Tensor> function)
    {
        ArgumentException.ThrowIfNullOrEmpty(registeredName);
        ArgumentNullException.ThrowIfNull(function);
        Registered[registeredName] = function;
    }

    private static Func<Tensor, Tensor> Lookup(string registeredName) =>
        Registered.TryGetValue(registeredName ?? throw new ArgumentNullException(nameof(registeredName)), out var f) ? f
            : throw new ArgumentException($"Lambda: no function is registered as '{registeredName}' (registered: {(Registered.IsEmpty ? "none" : string.Join(", ", Registered.Keys.Order(StringComparer.Ordinal)))}); call Lambda.Register(\"{registeredName}\", x => ...) first.", nameof(registeredName));

    private static int?[]? CheckShape(int?[]? shape) =>
        shape is not null && shape.Any(d => d is < 0) ? throw new ArgumentOutOfRangeException(nameof(shape), $"Lambda: output_shape sizes must be 0 or more, got ({string.Join(", ", shape.Select(d => d?.ToString() ?? "None"))}).") : shape?.ToArray();

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">The function is not registered (see <see cref="Register"/>).</exception>
    public override JsonObject GetConfig()
    {
        if (FunctionName is null)
        {
            throw new NotSupportedException($"Lambda '{Name}': its C# function has no registered name, so it cannot be saved. Register it with Lambda.Register(\"KerasStyle>my_function\", x => ...) and create the layer with new Lambda(\"KerasStyle>my_function\"); Keras loads it when a Python function is registered under the same name.");
        }

        var config = base.GetConfig();
        config["function"] = new JsonObject { ["module"] = "builtins", ["class_name"] = "function", ["config"] = FunctionName, ["registered_name"] = "function" };
        if (outputShape is not null)
        {
            config["output_shape"] = new JsonArray(outputShape.Select(d => d is int v ? JsonValue.Create(v) : null).ToArray<JsonNode?>());
        }

        config["arguments"] = new JsonObject();
        return config;
    }

    /// <summary>Creates the layer from a Keras 3 or tf.keras 2 config naming a registered function; Python lambdas are refused.</summary>
    internal static Lambda FromConfig(LayerConfig config)
    {
        const string Refusal = "its function is a Python lambda (code in the file). Keras refuses to load it unless unsafe deserialization is enabled, and this library never runs Python code: write the function in C#, register it with Lambda.Register(\"name\", x => ...), and save the model with the Lambda made from that name (or rebuild the model in code).";
        var raw = config.GetRaw("function");
        var functionType = config.GetNullableString("function_type");
        config.Ignore("module", "output_shape_module");
        string registered;
        if (raw is JsonObject fn)
        {
            if (fn["class_name"] is JsonValue c && c.TryGetValue<string>(out var cls) && cls == "__lambda__")
            {
                throw config.Error(Refusal);
            }

            registered = fn["config"] is JsonValue n && n.TryGetValue<string>(out var name) && fn["class_name"]?.GetValue<string>() == "function" ? name
                : throw config.Error($"'function' {fn.ToJsonString()} is not a registered function.");
        }
        else if (functionType == "lambda" || raw is JsonArray)
        {
            throw config.Error(Refusal);
        }
        else if (raw is JsonValue v && v.TryGetValue<string>(out var plain))
        {
            registered = plain;
        }
        else
        {
            throw config.Error("the argument 'function' is required.");
        }

        if (config.GetRaw("arguments") is JsonObject { Count: > 0 } arguments)
        {
            throw config.Error($"'arguments' {arguments.ToJsonString()} is not supported: a C# function takes no keyword arguments; register a function that includes them.");
        }

        config.Ignore("arguments");
        config.RequireDefault("mask", null);
        if (config.GetNullableString("output_shape_type") is { } shapeType && shapeType != "raw")
        {
            throw config.Error("'output_shape' is a Python function; only a shape (a list of sizes) is supported.");
        }

        int?[]? shape = config.GetRaw("output_shape") switch
        {
            null => null,
            JsonArray list when list.All(d => d is null || (d is JsonValue x && x.TryGetValue<int>(out _))) => list.Select(d => d is null ? (int?)null : d.GetValue<int>()).ToArray(),
            var other => throw config.Error($"'output_shape' {other.ToJsonString()} is not supported; only a shape (a list of sizes without the batch axis) is."),
        };
        if (!Registered.ContainsKey(registered))
        {
            throw config.Error($"its function '{registered}' is not registered in this library; register its C# twin with Lambda.Register(\"{registered}\", x => ...) before loading.");
        }

        return new Lambda(registered, shape, config.Name);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input)
    {
        if (outputShape is not null)
        {
            return new[] { (new Shape(new int?[] { null }.Concat(outputShape).ToArray()), DType.Float32) };
        }

        // Keras traces the function on symbolic tensors; here it runs on zeros at two sizes for every unknown axis.
        (long[] Shape, ScalarType Type) Probe(long unknown)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var shape = input.Shape.Select(d => d is int k ? (long)k : unknown).ToArray();
            var type = input.DType switch { DType.Int32 => ScalarType.Int32, DType.Int64 => ScalarType.Int64, _ => ScalarType.Float32 };
            try
            {
                var result = function(zeros(shape, type));
                return (result.shape, result.dtype);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new LayerInputException(Name, $"Lambda '{Name}': its function failed on an input of shape ({string.Join(", ", shape)}) standing for {input.Label} with shape {input.Shape}: {e.Message}");
            }
        }

        var (a, typeA) = Probe(2);
        var (b, _) = Probe(3);
        if (a.Length != b.Length || a.Length == 0 || a[0] != 2 || b[0] != 3)
        {
            throw InputError($"the function's output must keep the batch axis first, but on {input.Label} with shape {input.Shape} it gave shapes ({string.Join(", ", a)}) and ({string.Join(", ", b)}) for batches of 2 and 3.");
        }

        var dtype = typeA switch
        {
            ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16 => DType.Float32,
            ScalarType.Int32 => DType.Int32,
            ScalarType.Int64 => DType.Int64,
            _ => throw InputError($"the function's output has dtype {typeA}; a layer output must be float32, int32 or int64."),
        };
        return new[] { (new Shape(a.Select((d, i) => i == 0 || d != b[i] ? (int?)null : (int)d).ToArray()), dtype) };
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask)
    {
        var result = function(input);
        return ReferenceEquals(result, input) ? input.alias() : result.dtype is ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16 ? result.to_type(ScalarType.Float32) : result;
    }

    /// <summary>ONNX: refused, naming the layer; a C# function has no ONNX form.</summary>
    internal override IReadOnlyList<string> ExportOnnx(OnnxGraph graph, OnnxCall call) =>
        throw OnnxGraph.Unsupported(this, "runs a C# function, which has no ONNX form; export the model without it or write the computation as a custom layer with its ExportOnnx.");
}
