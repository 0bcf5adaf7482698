using KerasStyle.Layers;

namespace KerasStyle.Graph;

/// <summary>One call of a layer on symbolic tensors: the inputs it consumed and the outputs it made.</summary>
public sealed class Node
{
    internal Node(Layer layer, int index, IReadOnlyList<KerasTensor> inputs, IReadOnlyList<KerasTensor> outputs, bool calledOnList = false, int initialStates = 0)
    {
        CalledOnList = calledOnList;
        InitialStates = initialStates;
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

    /// <summary>The dtypes of <see cref="Inputs"/>, made once (every graph run hands them to the layer).</summary>
    internal IReadOnlyList<DType> InputDTypes => inputDTypes ??= Inputs.Select(t => t.DType).ToArray();

    private DType[]? inputDTypes;

    /// <summary>The symbolic tensors the call produced.</summary>
    public IReadOnlyList<KerasTensor> Outputs { get; }

    /// <summary>Whether the layer was called on a list (<c>layer([a, b])</c>), which configs record as one list argument.</summary>
    public bool CalledOnList { get; }

    /// <summary>
    /// How many of <see cref="Inputs"/> (the last ones) are a recurrent layer's <c>initial_state</c>
    /// (<c>LSTM.Call(x, initialState: new[] { h, c })</c>), which configs record under <c>kwargs</c>.
    /// </summary>
    public int InitialStates { get; }

    /// <summary>The nodes that produced this node's inputs.</summary>
    public IEnumerable<Node> InboundNodes => Inputs.Select(t => t.Node);
}
