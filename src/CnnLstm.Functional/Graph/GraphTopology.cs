using KerasStyle.Layers;

namespace KerasStyle.Graph;

/// <summary>
/// The part of a graph between given inputs and outputs, ordered as Keras orders it: nodes and layers by depth
/// (distance from the outputs), deepest first, ties in the order the walk found them.
/// </summary>
internal sealed class GraphTopology
{
    private GraphTopology(IReadOnlyList<Node> nodes, IReadOnlyList<Layer> layers, IReadOnlyDictionary<int, List<Node>> nodesByDepth)
    {
        Nodes = nodes;
        Layers = layers;
        NodesByDepth = nodesByDepth;
    }

    /// <summary>Every node, deepest first: an execution order.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>Every layer, deepest first (Keras' <c>model.layers</c>).</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>Nodes grouped by depth.</summary>
    public IReadOnlyDictionary<int, List<Node>> NodesByDepth { get; }

    /// <summary>Walks back from <paramref name="outputs"/> and checks every needed tensor comes from <paramref name="inputs"/>.</summary>
    public static GraphTopology Build(string modelName, IReadOnlyList<KerasTensor> inputs, IReadOnlyList<KerasTensor> outputs)
    {
        var postOrder = new List<Node>();
        var visited = new HashSet<Node>();
        foreach (var output in outputs)
        {
            Visit(output.Node, visited, postOrder);
        }

        // Depths as Keras' _map_graph_network: outputs at 0, inbound nodes one deeper, a shared layer at its deepest node.
        var nodeDepth = new Dictionary<Node, int>();
        var layerDepth = new Dictionary<Layer, int>();
        for (var i = postOrder.Count - 1; i >= 0; i--)
        {
            var node = postOrder[i];
            var depth = Math.Max(nodeDepth.GetValueOrDefault(node), layerDepth.GetValueOrDefault(node.Layer));
            nodeDepth[node] = depth;
            layerDepth[node.Layer] = depth;
            foreach (var inbound in node.InboundNodes)
            {
                nodeDepth[inbound] = Math.Max(depth + 1, nodeDepth.GetValueOrDefault(inbound));
            }
        }

        var discovery = postOrder.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var nodes = postOrder.OrderByDescending(n => nodeDepth[n]).ThenBy(n => discovery[n]).ToArray();
        var layerOrder = postOrder.Select(n => n.Layer).Distinct().Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        var layers = layerOrder.Keys.OrderByDescending(l => layerDepth[l]).ThenBy(l => layerOrder[l]).ToArray();
        var byDepth = nodes.GroupBy(n => nodeDepth[n]).ToDictionary(g => g.Key, g => g.ToList());

        CheckConnected(modelName, inputs, nodes);
        CheckUniqueNames(modelName, layers);
        return new GraphTopology(nodes, layers, byDepth);
    }

    private static void Visit(Node node, HashSet<Node> visited, List<Node> postOrder)
    {
        if (!visited.Add(node))
        {
            return;
        }

        foreach (var inbound in node.InboundNodes)
        {
            Visit(inbound, visited, postOrder);
        }

        postOrder.Add(node);
    }

    private static void CheckConnected(string modelName, IReadOnlyList<KerasTensor> inputs, IReadOnlyList<Node> nodes)
    {
        var computable = new HashSet<KerasTensor>(inputs, ReferenceEqualityComparer.Instance);
        var reached = new List<string>();
        foreach (var node in nodes)
        {
            if (node.Layer is InputLayer)
            {
                var tensor = node.Outputs[0];
                if (!computable.Contains(tensor))
                {
                    var consumer = nodes.FirstOrDefault(n => n.Inputs.Contains(tensor));
                    var needer = consumer is null ? "as a model output" : $"at layer '{consumer.Layer.Name}' ({consumer.Layer.ClassName})";
                    throw new GraphDisconnectedException(
                        $"Graph disconnected in model '{modelName}': cannot obtain value for tensor {tensor.Label} with shape {tensor.Shape} from InputLayer '{tensor.Layer.Name}', needed {needer}. "
                        + $"It is not among the model inputs [{string.Join(", ", inputs.Select(t => t.Label))}]. "
                        + $"Layers reached without issue: [{string.Join(", ", reached)}].");
                }

                reached.Add(node.Layer.Name);
                continue;
            }

            foreach (var x in node.Inputs.Where(x => !computable.Contains(x)))
            {
                throw new GraphDisconnectedException(
                    $"Graph disconnected in model '{modelName}': cannot obtain value for tensor {x.Label} with shape {x.Shape} at layer '{node.Layer.Name}' ({node.Layer.ClassName}). "
                    + $"Layers reached without issue: [{string.Join(", ", reached)}].");
            }

            foreach (var output in node.Outputs)
            {
                computable.Add(output);
            }

            reached.Add(node.Layer.Name);
        }
    }

    private static void CheckUniqueNames(string modelName, IReadOnlyList<Layer> layers)
    {
        var clash = layers.GroupBy(l => l.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new ArgumentException(
                $"Model '{modelName}': the layer name '{clash.Key}' is used by {clash.Count()} layers ({string.Join(", ", clash.Select(l => l.ClassName))}); all layer names in a model must be unique.");
        }
    }
}
