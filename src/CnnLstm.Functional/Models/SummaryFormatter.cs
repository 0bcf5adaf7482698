using System.Globalization;
using System.Text;
using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Models;

/// <summary>
/// Keras 2's <c>print_summary</c> text table, reproduced field by field, or Keras 3.16's box-drawn table (rich) under
/// <see cref="ConsoleStyle.Keras3"/>.
/// </summary>
internal static class SummaryFormatter
{
    /// <summary>The table of <see cref="Backend.ConsoleStyle"/>.</summary>
    public static string FormatForStyle(Model model, IReadOnlyList<Layer> layers, IReadOnlyCollection<Node> relevantNodes, bool chainLike) =>
        Backend.ConsoleStyle == ConsoleStyle.Keras3 ? FormatKeras3(model, layers, relevantNodes, chainLike) : Format(model, layers, relevantNodes, chainLike);

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

        var (trainable, nonTrainable) = ParamCounts(layers);
        Line(string.Create(CultureInfo.InvariantCulture, $"Total params: {trainable + nonTrainable:N0}"));
        Line(string.Create(CultureInfo.InvariantCulture, $"Trainable params: {trainable:N0}"));
        Line(string.Create(CultureInfo.InvariantCulture, $"Non-trainable params: {nonTrainable:N0}"));
        Line(new string('_', width));
        return text.ToString();
    }

    /// <summary>
    /// Trainable and non-trainable parameters, per weight: a model used as a layer lists its layers' weights, each
    /// trainable or not on its own.
    /// </summary>
    private static (long Trainable, long NonTrainable) ParamCounts(IReadOnlyList<Layer> layers)
    {
        var weights = layers.SelectMany(l => l.Weights.Select(w => (Trainable: l.Trainable && w.Trainable, w.Count))).ToList();
        return (weights.Where(w => w.Trainable).Sum(w => w.Count), weights.Where(w => !w.Trainable).Sum(w => w.Count));
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

    /// <summary>
    /// The shape of the layer's outputs (with a fixed batch size, as Keras prints it), or <c>multiple</c> when its
    /// calls produced different shapes.
    /// </summary>
    private static string OutputShapeText(Layer layer)
    {
        var perNode = layer.InboundNodes.Select(n => n.Outputs.Select(t => t.Shape.With(0, t.BatchSize)).ToArray()).ToList();
        if (perNode.Count == 0 || perNode.Skip(1).Any(shapes => !shapes.SequenceEqual(perNode[0])))
        {
            return "multiple";
        }

        var shapes = perNode[0];
        return shapes.Length == 1 ? shapes[0].ToString() : $"[{string.Join(", ", shapes.Select(s => s.ToString()))}]";
    }

    /// <summary>
    /// Keras 3.16's <c>print_summary</c> (keras/src/utils/summary_utils.py) as rich renders it on an 80-column
    /// console, a pipe or a file (Keras takes the terminal's width less 4, at most 88 or 108): the model name, a
    /// heavy-headed table with a line between rows, cells wrapped at spaces and cut with an ellipsis, and the
    /// parameter counts with their float32 sizes.
    /// </summary>
    public static string FormatKeras3(Model model, IReadOnlyList<Layer> layers, IReadOnlyCollection<Node> relevantNodes, bool chainLike)
    {
        const int consoleColumns = 80;
        var lineLength = Math.Min(chainLike ? 88 : 108, consoleColumns - 4);
        double[] positions = chainLike ? new[] { 0.45, 0.80, 1.0 } : new[] { 0.3, 0.56, 0.74, 1.0 };
        string[] header = chainLike
            ? new[] { "Layer (type)", "Output Shape", "Param #" }
            : new[] { "Layer (type)", "Output Shape", "Param #", "Connected to" };
        var rightAligned = new[] { false, false, true, false };
        var widths = Keras3ColumnWidths(positions, lineLength);

        var text = new StringBuilder();
        void Line(string s) => text.Append(s).Append('\n');
        string Border(char left, char fill, char join, char right) => left + string.Join(join, widths.Select(w => new string(fill, w + 2))) + right;
        void Cells(IReadOnlyList<string> fields, char bar)
        {
            var wrapped = fields.Select((f, i) => Wrap(f, widths[i], rightAligned[i])).ToArray();
            for (var row = 0; row < wrapped.Max(c => c.Count); row++)
            {
                Line(bar + string.Join(bar, wrapped.Select((c, i) => " " + (row < c.Count ? c[row] : new string(' ', widths[i])) + " ")) + bar);
            }
        }

        Line($"Model: \"{model.Name}\"");
        Line(Border('┏', '━', '┳', '┓'));
        Cells(header, '┃');
        Line(Border('┡', '━', '╇', '┩'));
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            var fields = new List<string> { $"{layer.Name} ({layer.ClassName})", Keras3OutputShape(layer), layer.CountParams().ToString("N0", CultureInfo.InvariantCulture) };
            if (!chainLike)
            {
                var connections = layer.InboundNodes.Where(relevantNodes.Contains).SelectMany(n => n.Inputs.Select(t => t.Label)).ToList();
                fields.Add(connections.Count == 0 ? "-" : string.Join(", ", connections));
            }

            Cells(fields, '│');
            Line(i == layers.Count - 1 ? Border('└', '─', '┴', '┘') : Border('├', '─', '┼', '┤'));
        }

        var (trainable, nonTrainable) = ParamCounts(layers);
        Line(string.Create(CultureInfo.InvariantCulture, $" Total params: {trainable + nonTrainable:N0} ({MemorySize((trainable + nonTrainable) * 4.0)})"));
        Line(string.Create(CultureInfo.InvariantCulture, $" Trainable params: {trainable:N0} ({MemorySize(trainable * 4.0)})"));
        Line(string.Create(CultureInfo.InvariantCulture, $" Non-trainable params: {nonTrainable:N0} ({MemorySize(nonTrainable * 4.0)})"));
        return text.ToString();
    }

    /// <summary>
    /// Keras' column widths from the positions, then rich's fit of fixed-width columns (each with one space of
    /// padding a side) into the line between the borders: the excess taken evenly (<c>ratio_reduce</c>, Python's
    /// round half to even).
    /// </summary>
    private static int[] Keras3ColumnWidths(IReadOnlyList<double> positions, int lineLength)
    {
        var padded = new int[positions.Count];
        var current = 0;
        for (var i = 0; i < positions.Count; i++)
        {
            var width = (int)(positions[i] * lineLength) - current;
            padded[i] = width + 2;
            current += width;
        }

        var excess = padded.Sum() - (lineLength - (positions.Count + 1));
        var remainingRatio = positions.Count;
        for (var i = 0; i < padded.Length && excess > 0; i++)
        {
            var taken = (int)Math.Min(padded[i], Math.Round((double)excess / remainingRatio, MidpointRounding.ToEven));
            padded[i] -= taken;
            excess -= taken;
            remainingRatio--;
        }

        return padded.Select(w => w - 2).ToArray();
    }

    /// <summary>
    /// rich's <c>Text.wrap</c> with <c>overflow="ellipsis"</c>: words (with their trailing spaces) fill a line while
    /// they fit; a longer word stays alone and is cut to width - 1 characters and an ellipsis; then left or right
    /// justified in the width.
    /// </summary>
    private static List<string> Wrap(string text, int width, bool right)
    {
        var lines = new List<string>();
        var (lineStart, position) = (0, 0);
        foreach (System.Text.RegularExpressions.Match word in System.Text.RegularExpressions.Regex.Matches(text, @"\s*\S+\s*"))
        {
            var length = word.Value.TrimEnd().Length;
            if (position + length <= width)
            {
                position += word.Length;
            }
            else if (length > width || position > 0)
            {
                if (word.Index > 0)
                {
                    lines.Add(text[lineStart..word.Index]);
                    lineStart = word.Index;
                }

                position = word.Length;
            }
        }

        lines.Add(text[lineStart..]);
        return lines.Select(line =>
        {
            if (line.Length > width)
            {
                // rich's rstrip_end: trailing spaces beyond the width go.
                line = line[..^Math.Min(line.Length - line.TrimEnd().Length, line.Length - width)];
            }

            line = right ? line.TrimEnd() : line;
            line = line.Length > width ? line[..(width - 1)] + "…" : line;
            return right ? line.PadLeft(width) : line.PadRight(width);
        }).ToList();
    }

    /// <summary>Keras 3's output shape: the last call's, a list of shapes for several outputs.</summary>
    private static string Keras3OutputShape(Layer layer)
    {
        if (layer.InboundNodes.Count == 0)
        {
            return "?";
        }

        var shapes = layer.InboundNodes[^1].Outputs.Select(t => t.Shape.ToString()).ToArray();
        return shapes.Length == 1 ? shapes[0] : $"[{string.Join(", ", shapes)}]";
    }

    /// <summary>Keras' <c>readable_memory_size</c>: B, KB, MB, ... by 1024, two decimals.</summary>
    private static string MemorySize(double bytes)
    {
        var units = new[] { "B", "KB", "MB", "GB", "TB", "PB" };
        var unit = 0;
        while (unit < units.Length - 1 && bytes / 1024 >= 1)
        {
            bytes /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes:F2} {units[unit]}");
    }
}
