using System.Globalization;
using System.Text;
using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Models;

/// <summary>Keras 2's <c>print_summary</c> text table, reproduced field by field.</summary>
internal static class SummaryFormatter
{
    public static string Format(Model model, IReadOnlyList<Layer> layers, IReadOnlyCollection<Node> relevantNodes, bool chainLike)
    {
        var width = chainLike ? 65 : 98;
        int[] positions = chainLike ? new[] { 29, 55, 65 } : new[] { 32, 53, 65, 98 };
        string[] header = chainLike
            ? new[] { "Layer (type)", "Output Shape", "Param #" }
            : new[] { "Layer (type)", "Output Shape", "Param #", "Connected to" };

        var text = new StringBuilder();
        void Line(string s) => text.Append(s).Append('\n');

        Line(new string('_', width));
        Line(Row(header, positions));
        Line(new string('=', width));
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var first = new[] { $"{layer.Name} ({layer.ClassName})", OutputShapeText(layer), layer.CountParams().ToString(CultureInfo.InvariantCulture) };
            if (chainLike)
            {
                Line(Row(first, positions));
            }
            else
            {
                var connections = layer.InboundNodes.Where(relevantNodes.Contains)
                    .SelectMany(n => n.Inputs.Select(t => t.Label)).ToList();
                Line(Row(first.Append(connections.FirstOrDefault() ?? string.Empty).ToArray(), positions));
                foreach (var more in connections.Skip(1))
                {
                    Line(Row(new[] { string.Empty, string.Empty, string.Empty, more }, positions));
                }
            }

            Line(new string(i == layers.Count - 1 ? '=' : '_', width));
        }

        // Per weight: a model used as a layer lists its layers' weights, each trainable or not on its own.
        var weights = layers.SelectMany(l => l.Weights.Select(w => (Trainable: l.Trainable && w.Trainable, w.Count))).ToList();
        var trainable = weights.Where(w => w.Trainable).Sum(w => w.Count);
        var nonTrainable = weights.Where(w => !w.Trainable).Sum(w => w.Count);
        Line(string.Create(CultureInfo.InvariantCulture, $"Total params: {trainable + nonTrainable:N0}"));
        Line(string.Create(CultureInfo.InvariantCulture, $"Trainable params: {trainable:N0}"));
        Line(string.Create(CultureInfo.InvariantCulture, $"Non-trainable params: {nonTrainable:N0}"));
        Line(new string('_', width));
        return text.ToString();
    }

    /// <summary>
    /// Keras' chain test: every depth holds one node with at most one inbound layer, and no layer has two nodes here.
    /// </summary>
    public static bool IsChainLike(IReadOnlyDictionary<int, List<Node>> nodesByDepth, IReadOnlyList<Layer> layers)
    {
        if (nodesByDepth.Values.Any(v => v.Count > 1 || (v.Count == 1 && v[0].Inputs.Count > 1)))
        {
            return false;
        }

        var nodes = nodesByDepth.Values.SelectMany(v => v).ToHashSet();
        return layers.All(l => l.InboundNodes.Count(nodes.Contains) <= 1);
    }

    /// <summary>Field by field: the previous field loses its last character to a space, then cut and pad.</summary>
    private static string Row(IReadOnlyList<string> fields, IReadOnlyList<int> positions)
    {
        var line = string.Empty;
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                line = line[..^1] + " ";
            }

            line += fields[i];
            if (line.Length > positions[i])
            {
                line = line[..positions[i]];
            }

            line = line.PadRight(positions[i]);
        }

        return line;
    }

    /// <summary>The shape of the layer's outputs, or <c>multiple</c> when its calls produced different shapes.</summary>
    private static string OutputShapeText(Layer layer)
    {
        var perNode = layer.InboundNodes.Select(n => n.Outputs.Select(t => t.Shape).ToArray()).ToList();
        if (perNode.Count == 0 || perNode.Skip(1).Any(shapes => !shapes.SequenceEqual(perNode[0])))
        {
            return "multiple";
        }

        var shapes = perNode[0];
        return shapes.Length == 1 ? shapes[0].ToString() : $"[{string.Join(", ", shapes.Select(s => s.ToString()))}]";
    }
}
