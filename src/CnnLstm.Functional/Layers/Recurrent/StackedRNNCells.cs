using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;
using static TorchSharp.torch;

namespace KerasStyle.Layers;

/// <summary>
/// Cells stacked into one cell, as Keras' <c>keras.layers.StackedRNNCells</c> (keras/src/layers/rnn/stacked_rnn_cells.py):
/// at each step the first cell reads the input, each next cell the previous cell's output; the output is the last
/// cell's. The states are every cell's states in order (an LSTMCell then a GRUCell: h₁, c₁, h₂), which
/// <c>RNN(..., returnState: true)</c> returns flattened after the output. Weights: the cells' in order, under
/// <c>cell/cells/&lt;lstm_cell, gru_cell, lstm_cell_1...&gt;/vars</c> in a Keras 3 weights file.
/// </summary>
[KerasLayer("StackedRNNCells")]
public sealed class StackedRNNCells : RecurrentCell
{
    /// <summary>Stacks cells.</summary>
    /// <param name="cells">The cells, first to last; at least one, none stacked twice or already in an RNN.</param>
    /// <param name="name">Cell name; defaults to <c>stacked_rnn_cells_N</c>.</param>
    /// <exception cref="ArgumentException">No cells, a null one, or one listed twice or already used by an RNN.</exception>
    public StackedRNNCells(IReadOnlyList<RecurrentCell> cells, string? name = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Count == 0 || cells.Any(c => c is null))
        {
            throw new ArgumentException($"StackedRNNCells: expected a list of cells, got {(cells.Count == 0 ? "none" : "a null cell")}.", nameof(cells));
        }

        if (cells.Distinct(ReferenceEqualityComparer.Instance).Count() != cells.Count)
        {
            throw new ArgumentException("StackedRNNCells: a cell is listed twice; each cell runs in one place only.", nameof(cells));
        }

        if (cells.FirstOrDefault(c => c.Owner is not null) is { } used)
        {
            throw new ArgumentException($"StackedRNNCells: {used.ClassName} '{used.Name}' already runs in {used.Owner!.ClassName} '{used.Owner.Name}'; a cell runs in one place only.", nameof(cells));
        }

        Cells = cells.ToArray();
        foreach (var cell in Cells)
        {
            cell.Owner = this;
        }
    }

    /// <summary>The cells, first to last.</summary>
    public IReadOnlyList<RecurrentCell> Cells { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<int> StateSize => Cells.SelectMany(c => c.StateSize).ToArray();

    /// <inheritdoc/>
    public override int OutputSize => Cells[^1].OutputSize;

    internal override int InputDim => Cells[0].InputDim;

    internal override IReadOnlyList<string> StateNames =>
        Cells.SelectMany((c, i) => c.StateNames.Select(n => $"{n}{i + 1}")).ToArray();

    /// <summary>Each cell below <c>cells/&lt;snake_case class&gt;</c>, then this cell's own (empty) <c>vars</c>, as Keras 3 writes them.</summary>
    internal override IEnumerable<(string Path, IReadOnlyList<LayerWeight> Weights)> KerasVarGroups =>
        Keras3WeightsH5.Paths(Cells).SelectMany(p => p.Layer.KerasVarGroups.Select(g => ($"cells/{p.Path}/{g.Path}", g.Weights)))
            .Append(("vars", Array.Empty<LayerWeight>()));

    internal override IEnumerable<Layer> WeightOwners => Cells.SelectMany(c => c.WeightOwners).Prepend(this);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["cells"] = new JsonArray(Cells.Select(c => (JsonNode)ModelConfig.SerializeLayer(c, c.Built ? new Shape(null, c.InputDim) : null)).ToArray());
        return config;
    }

    /// <summary>Creates the cell from a Keras 2 or Keras 3 config: each cell from its serialized entry.</summary>
    internal static StackedRNNCells FromConfig(LayerConfig config)
    {
        var entries = config.GetRaw("cells") as JsonArray ?? throw config.Error("'cells' must be a list of serialized cells.");
        var cells = new List<RecurrentCell>();
        try
        {
            foreach (var entry in entries)
            {
                var layer = ModelConfig.DeserializeLayer(entry, $"{config.Describe()}: 'cells'", config.Keras2);
                cells.Add(layer as RecurrentCell ?? throw DisposeAnd(layer, config.Error($"'cells' holds {layer.ClassName} '{layer.Name}', which is not a recurrent cell.")));
            }

            return new StackedRNNCells(cells, config.Name);
        }
        catch
        {
            cells.ForEach(c => c.Dispose());
            throw;
        }
    }

    /// <summary>Builds each cell on the previous cell's output, as Keras' StackedRNNCells.build, and lists their weights.</summary>
    protected override void Build(KerasTensor input)
    {
        var step = input;
        foreach (var cell in Cells)
        {
            var spec = cell.BuildInside(this, step)[0];
            step = new KerasTensor(spec.Shape, spec.DType, this, 0, 0);
        }

        AdoptWeights(Cells.SelectMany(c => c.Weights));
    }

    /// <summary>The cells own the variables.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var cell in Cells)
            {
                cell.Dispose();
            }
        }
    }

    internal override CellRun Start(Tensor sequence, bool training)
    {
        // Every cell's masks in order, each cell's input shaped as the previous cell's output (Keras'
        // RNN._maybe_config_dropout_masks).
        var step = sequence.dim() == 3 ? sequence.select(1, 0) : sequence;
        var runs = new CellRun[Cells.Count];
        for (var i = 0; i < Cells.Count; i++)
        {
            runs[i] = Cells[i].Start(i == 0 ? step : zeros(step.shape[0], Cells[i - 1].OutputSize, dtype: step.dtype, device: step.device), training);
        }

        return new Run(runs, Cells.Select(c => c.StateSize.Count).ToArray());
    }

    internal override int OutputState => StateSize.Count - Cells[^1].StateSize.Count;

    internal override (string Output, string[] States) OnnxStep(OnnxGraph body, string x, string[] states, string scope)
    {
        var next = new List<string>();
        var offset = 0;
        foreach (var cell in Cells)
        {
            var count = cell.StateSize.Count;
            (x, var cellStates) = cell.OnnxStep(body, x, states[offset..(offset + count)], scope);
            next.AddRange(cellStates);
            offset += count;
        }

        return (x, next.ToArray());
    }

    private static Exception DisposeAnd(Layer layer, Exception error)
    {
        layer.Dispose();
        return error;
    }

    private sealed class Run(CellRun[] runs, int[] stateCounts) : CellRun
    {
        public override bool DropsState => runs.Any(r => r.DropsState);

        public override Tensor Drop(Tensor inputs) => runs[0].Drop(inputs);

        public override Tensor Project(Tensor dropped) => runs[0].Project(dropped);

        public override (Tensor Output, Tensor[] States) Step(Tensor projected, Tensor[] states)
        {
            var next = new List<Tensor>(states.Length);
            Tensor output = projected;
            var offset = 0;
            for (var i = 0; i < runs.Length; i++)
            {
                var input = i == 0 ? projected : runs[i].Project(runs[i].Drop(output));
                (output, var cellStates) = runs[i].Step(input, states[offset..(offset + stateCounts[i])]);
                next.AddRange(cellStates);
                offset += stateCounts[i];
            }

            return (output, next.ToArray());
        }
    }
}
