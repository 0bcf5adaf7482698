using KerasStyle.Layers;

namespace KerasStyle.Graph;

/// <summary>One call of a layer on symbolic tensors: the inputs it consumed and the outputs it made.</summary>
public sealed class Node
{
    internal Node(Layer layer, int index, IReadOnlyList<KerasTensor> inputs, IReadOnlyList<KerasTensor> outputs)
    {
        Layer = layer;
        Index = index;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>The layer that was called.</summary>
    public Layer Layer { get; }

    /// <summary>The position of this node in <see cref="Layers.Layer.InboundNodes"/>.</summary>
    public int Index { get; }

    /// <summary>The symbolic tensors the call consumed (empty for an input layer).</summary>
    public IReadOnlyList<KerasTensor> Inputs { get; }

    /// <summary>The symbolic tensors the call produced.</summary>
    public IReadOnlyList<KerasTensor> Outputs { get; }

    /// <summary>The nodes that produced this node's inputs.</summary>
    public IEnumerable<Node> InboundNodes => Inputs.Select(t => t.Node);
}
