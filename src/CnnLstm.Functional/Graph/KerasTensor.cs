using KerasStyle.Layers;

namespace KerasStyle.Graph;

/// <summary>
/// A symbolic tensor: a static shape and dtype, plus the layer, node index and tensor index that produced it,
/// as Keras' <c>_keras_history</c>. Calling a layer on it records a node and returns new symbolic tensors.
/// </summary>
public class KerasTensor
{
    /// <summary>Set for the spec of concrete data in an eager call, which no node made (see <see cref="Label"/>).</summary>
    private readonly string? dataLabel;

    internal KerasTensor(Shape shape, DType dtype, Layer layer, int nodeIndex, int tensorIndex)
    {
        Shape = shape;
        DType = dtype;
        Layer = layer;
        NodeIndex = nodeIndex;
        TensorIndex = tensorIndex;
    }

    /// <summary>
    /// The shape and dtype of concrete data given to an eager call (<c>Layer.Invoke</c>), checked and built on as a
    /// symbolic input is; it belongs to no node, and messages call it <paramref name="label"/>.
    /// </summary>
    internal KerasTensor(Shape shape, DType dtype, Layer layer, string label)
        : this(shape, dtype, layer, -1, 0)
    {
        dataLabel = label;
    }

    /// <summary>The static shape; the batch dimension is unknown (<c>None</c>).</summary>
    public Shape Shape { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The layer whose call produced this tensor.</summary>
    public Layer Layer { get; }

    /// <summary>The index of that call among the layer's inbound nodes.</summary>
    public int NodeIndex { get; }

    /// <summary>The index of this tensor among that call's outputs.</summary>
    public int TensorIndex { get; }

    /// <summary>
    /// Whether the tensor carries a mask (Keras' <c>_keras_mask</c>): which steps of its time axis are padding. Set by
    /// <c>Embedding(maskZero: true)</c> and <c>Masking</c>, passed on by layers that support masking, read by
    /// recurrent layers and by the loss; its values are computed when the model runs.
    /// </summary>
    public bool HasMask { get; internal set; }

    /// <summary>
    /// The fixed batch size of the tensor, or null when any batch size goes (Keras' <c>shape[0]</c>): set by
    /// <c>new Input(..., batchSize: n)</c> (Keras' <c>batch_size</c>/<c>batch_shape</c>, tf.keras 2's
    /// <c>batch_input_shape</c>) and passed on from a layer's first input to its outputs, as every Keras layer keeps
    /// the batch axis. A stateful recurrent layer needs it (Keras' <c>stateful=True</c>).
    /// </summary>
    public int? BatchSize { get; internal set; }

    /// <summary>The node (layer call) that produced this tensor.</summary>
    public Node Node => Layer.InboundNodes[NodeIndex];

    /// <summary>Keras' connection label, <c>layer_name[node_index][tensor_index]</c>.</summary>
    public string Label => dataLabel ?? $"{Layer.Name}[{NodeIndex}][{TensorIndex}]";

    /// <summary>Describes the tensor with its origin and shape.</summary>
    public override string ToString() => $"{Label} {Shape} {DType.ToKerasName()}";
}
