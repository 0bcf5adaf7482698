using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// The layer behind <see cref="Input"/>: it has no weights and one node that produces the model input tensor.
/// </summary>
[KerasLayer("InputLayer", OwnsDType = true), Keras3OnlyArgument("optional", false), TfKeras2RenamedArgument("batch_shape", "batch_input_shape")]
public sealed class InputLayer : Layer
{
    private Input? output;

    /// <summary>Creates an input layer for samples of the given shape.</summary>
    /// <param name="shape">Per-sample shape (batch dimension excluded); every size must be positive.</param>
    /// <param name="dtype">Element type of the input.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An empty shape or a size that is not positive.</exception>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any.</param>
    public InputLayer(int[] shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : this(ToNullable(shape), dtype, name, batchSize)
    {
    }

    /// <summary>
    /// Creates an input layer whose samples may have unknown (<c>null</c>, Keras' <c>None</c>) dimensions, as Keras'
    /// <c>Input(shape=(None, 74))</c>: each call of the model then takes any size there (one size per batch).
    /// </summary>
    /// <param name="shape">Per-sample shape (batch dimension excluded); every known size must be positive.</param>
    /// <param name="dtype">Element type of the input.</param>
    /// <param name="name">Layer name; defaults to <c>input_N</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An empty shape or a known size that is not positive.</exception>
    /// <param name="batchSize">A fixed batch size (Keras' <c>batch_size</c>), or null (default) for any.</param>
    /// <exception cref="ArgumentOutOfRangeException">A batch size that is not positive.</exception>
    public InputLayer(int?[] shape, DType dtype = DType.Float32, string? name = null, int? batchSize = null)
        : base(name)
    {
        if (batchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"InputLayer '{Name}': batchSize must be positive (or null for any), got {batchSize}.");
        }

        BatchSize = batchSize;
        ArgumentNullException.ThrowIfNull(shape);
        // Text may be one string per sample: Keras' Input(shape=(), dtype="string") is (batch,).
        if ((shape.Length == 0 && dtype != DType.String) || shape.Any(d => d <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), $"InputLayer '{Name}': shape must have at least one dimension (none only for strings, one text per sample) and only positive (or unknown) sizes, got {new Shape(shape)}.");
        }

        OutputShape = Shape.WithBatch(shape);
        DType = dtype;
    }

    /// <summary>The shape of the input tensor: batch dimension unknown, other dimensions as declared (null: any size).</summary>
    public Shape OutputShape { get; }

    /// <summary>The fixed batch size (Keras' <c>batch_shape[0]</c>), or null for any.</summary>
    public int? BatchSize { get; }

    /// <summary>The input's element type.</summary>
    public DType DType { get; }

    /// <summary>The symbolic tensor this layer produces (made on first use when the layer was built directly).</summary>
    public KerasTensor Output => output ??= Input.ForLayer(this);

    /// <summary>The Keras 3.16 config: <c>batch_shape</c>, <c>dtype</c>, <c>sparse</c>, <c>ragged</c>, <c>name</c>, <c>optional</c>.</summary>
    public override JsonObject GetConfig() => new()
    {
        ["batch_shape"] = new JsonArray(OutputShape.Select((d, i) => (JsonNode?)((i == 0 ? BatchSize : d) is int size ? JsonValue.Create(size) : null)).ToArray()),
        ["dtype"] = DType.ToKerasName(),
        ["sparse"] = false,
        ["ragged"] = false,
        ["name"] = Name,
        ["optional"] = false,
    };

    /// <summary>
    /// Creates the layer from a Keras 3 config (<c>batch_shape</c>, or <c>shape</c>) or a Keras 2 one
    /// (<c>batch_input_shape</c>), with its fixed batch size if any (or Keras 3's <c>batch_size</c> beside
    /// <c>shape</c>); other dimensions may be null (unknown).
    /// </summary>
    internal static InputLayer FromConfig(LayerConfig config)
    {
        var batchShape = config.GetRaw("batch_shape") ?? config.GetRaw("batch_input_shape");
        var shape = config.GetRaw("shape");
        int? batchSize = batchShape is JsonArray batchDims ? ShapeOf(config, batchDims).FirstOrDefault() : config.GetNullableInt("batch_size");
        if (batchSize <= 0)
        {
            throw config.Error($"the batch size must be positive or null, got {batchSize}.");
        }

        int?[] dims = batchShape is JsonArray withBatch ? ShapeOf(config, withBatch).Skip(1).ToArray()
            : shape is JsonArray sample ? ShapeOf(config, sample)
            : throw config.Error("the input shape is missing: expected 'batch_shape' (Keras 3) or 'batch_input_shape' (Keras 2).");
        var dtypeName = LayerConfig.DTypeName(config.GetRaw("dtype")) ?? "float32";
        // Text inputs may be one string per sample, Keras' Input(shape=(), dtype="string"): (batch,).
        if ((dims.Length == 0 && dtypeName != "string") || dims.Any(d => d <= 0))
        {
            throw config.Error($"the input shape {Shape.WithBatch(dims)} must have at least one dimension after the batch and only positive (or null) sizes.");
        }

        config.RequireDefault("sparse", false);
        config.RequireDefault("ragged", false);
        config.RequireDefault("optional", false);
        var dtype = dtypeName switch
        {
            "float32" => DType.Float32,
            "int32" => DType.Int32,
            "int64" => DType.Int64,
            "string" => DType.String,
            _ => throw new NotSupportedException($"{config.Describe()}: dtype '{dtypeName}' is not supported; use float32, int32, int64 or string."),
        };
        // Made through Input so that the layer has its node, as every input layer in a graph does.
        return (InputLayer)new Input(dims, dtype, config.Name, batchSize).Layer;
    }

    /// <summary>Keras names input layers <c>input_N</c>.</summary>
    protected override string DefaultNamePrefix => "input";

    /// <summary>Records the layer's only node, whose output is <paramref name="tensor"/>.</summary>
    internal void SetOutput(Input tensor)
    {
        output = tensor;
        RegisterNode(Array.Empty<KerasTensor>(), new KerasTensor[] { tensor });
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) =>
        throw InputError("an InputLayer cannot be called on a tensor; use its Output.");

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, bool training, Tensor? mask) => input;

    private static int?[] ToNullable(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return shape.Select(d => (int?)d).ToArray();
    }

    private static int?[] ShapeOf(LayerConfig config, JsonArray dims) => dims.Select(d => d switch
    {
        null => (int?)null,
        JsonValue v when v.TryGetValue<int>(out var size) => size,
        _ => throw config.Error($"a shape must hold integers or null, got {dims.ToJsonString()}."),
    }).ToArray();
}
