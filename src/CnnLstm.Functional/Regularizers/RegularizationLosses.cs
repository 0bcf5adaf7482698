using KerasStyle.Engine;
using KerasStyle.Layers;
using static TorchSharp.torch;

namespace KerasStyle.Regularizers;

/// <summary>
/// The regularization losses of one forward pass, as Keras 3.16 adds them to the loss (<c>Trainer.compute_loss</c>
/// sums <c>model.losses</c> into the compiled loss): each layer's activity penalty on each output, divided by the
/// output's batch size (<c>Layer.__call__</c>, <c>divide_no_nan</c>), recorded while a collection is open on this
/// thread; and the penalties of the trainable weights that have a regularizer (<c>Layer._get_regularization_losses</c>).
/// </summary>
internal static class RegularizationLosses
{
    [ThreadStatic]
    private static List<Tensor>? collecting;

    /// <summary>Opens a collection of activity penalties on this thread until the returned scope is disposed.</summary>
    internal static Collection Collect()
    {
        var previous = collecting;
        collecting = new List<Tensor>();
        return new Collection(previous, collecting);
    }

    /// <summary>Records the activity penalty of <paramref name="layer"/>'s outputs when a collection is open.</summary>
    internal static void RecordActivity(Layer layer, IReadOnlyList<Tensor> outputs)
    {
        if (collecting is null || layer.ActivityRegularizer is not { } regularizer)
        {
            return;
        }

        foreach (var output in outputs)
        {
            var loss = regularizer.Invoke(output);
            if (output.dim() > 0)
            {
                var batch = output.shape[0];
                loss = batch == 0 ? zeros_like(loss) : Scalars.WithInt(batch, size => loss.div(size));
            }

            collecting.Add(loss);
        }
    }

    /// <summary>The penalties of <paramref name="weights"/> that have a regularizer, in order.</summary>
    internal static IEnumerable<Tensor> WeightPenalties(IEnumerable<LayerWeight> weights) =>
        weights.Where(w => w.Regularizer is not null).Select(w => w.Regularizer!.Invoke(w.Variable));

    /// <summary>An open collection; disposing it restores the previous one.</summary>
    internal readonly struct Collection(List<Tensor>? previous, List<Tensor> losses) : IDisposable
    {
        /// <summary>The activity penalties recorded so far.</summary>
        public IReadOnlyList<Tensor> Losses => losses;

        /// <inheritdoc/>
        public void Dispose() => collecting = previous;
    }
}
