using static TorchSharp.torch;

namespace KerasStyle.Training;

/// <summary>Checked input and target tensors for training or evaluation; disposes the tensors it created.</summary>
internal sealed class DataSet : IDisposable
{
    private readonly List<Tensor> owned;

    public DataSet(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> targets, List<Tensor> owned, Tensor? sampleWeights = null)
    {
        Inputs = inputs;
        Targets = targets;
        SampleWeights = sampleWeights;
        this.owned = owned;
    }

    public IReadOnlyList<Tensor> Inputs { get; }

    public IReadOnlyList<Tensor> Targets { get; }

    /// <summary>One weight per sample (float32, shape (samples,)), from <c>sampleWeight</c> or <c>classWeight</c>; null when none.</summary>
    public Tensor? SampleWeights { get; }

    public long Count => Inputs[0].shape[0];

    /// <summary>
    /// Whether this is a stand-in batch of a data-parallel rank that has no samples in the last global batch: it runs
    /// so that every rank makes the same collective calls, and counts zero in the gradients and logged values.
    /// </summary>
    public bool StandIn { get; set; }

    /// <summary>Samples [start, start + length) as views that share this set's memory.</summary>
    public DataSet Slice(long start, long length)
    {
        var inputs = Inputs.Select(t => t.narrow(0, start, length)).ToArray();
        var targets = Targets.Select(t => t.narrow(0, start, length)).ToArray();
        var weights = SampleWeights?.narrow(0, start, length);
        return new DataSet(inputs, targets, inputs.Concat(targets).Concat(weights is null ? Array.Empty<Tensor>() : new[] { weights }).ToList(), weights);
    }

    /// <summary>The same samples with these sample weights; the new set owns only the weights (this one keeps its tensors).</summary>
    public DataSet WithSampleWeights(Tensor? weights) =>
        new(Inputs, Targets, weights is null ? new List<Tensor>() : new List<Tensor> { weights }, weights);

    /// <summary>The samples at <paramref name="indices"/>, copied (for shuffled batches).</summary>
    public DataSet Take(Tensor indices)
    {
        var inputs = Inputs.Select(t => t.index_select(0, indices)).ToArray();
        var targets = Targets.Select(t => t.index_select(0, indices)).ToArray();
        var weights = SampleWeights?.index_select(0, indices);
        return new DataSet(inputs, targets, inputs.Concat(targets).Concat(weights is null ? Array.Empty<Tensor>() : new[] { weights }).ToList(), weights);
    }

    public void Dispose()
    {
        foreach (var t in owned)
        {
            t.Dispose();
        }

        owned.Clear();
    }
}
