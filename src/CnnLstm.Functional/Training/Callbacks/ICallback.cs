using KerasStyle.Models;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// A training callback, as Keras' <c>keras.callbacks.Callback</c>. Epoch and batch numbers count from 0; logs hold
/// the named values Keras puts there (<c>loss</c>, metrics, <c>val_</c> versions at epoch end).
/// </summary>
public interface ICallback
{
    /// <summary>Called once before training with the model and the run's parameters.</summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="parameters">Keras' <c>params</c>: batch_size, epochs, steps, samples, verbose, do_validation, metrics.</param>
    void SetContext(Model model, IReadOnlyDictionary<string, object> parameters);

    /// <summary>Called when training starts.</summary>
    /// <param name="logs">Empty logs.</param>
    void OnTrainBegin(Dictionary<string, double> logs);

    /// <summary>Called when training ends.</summary>
    /// <param name="logs">The last epoch's logs.</param>
    void OnTrainEnd(Dictionary<string, double> logs);

    /// <summary>Called at the start of an epoch.</summary>
    /// <param name="epoch">The epoch index, from 0.</param>
    /// <param name="logs">Empty logs.</param>
    void OnEpochBegin(int epoch, Dictionary<string, double> logs);

    /// <summary>Called at the end of an epoch, after validation.</summary>
    /// <param name="epoch">The epoch index, from 0.</param>
    /// <param name="logs">Epoch means of loss and metrics, and their <c>val_</c> versions; callbacks may add entries (e.g. <c>lr</c>).</param>
    void OnEpochEnd(int epoch, Dictionary<string, double> logs);

    /// <summary>Called before a training batch.</summary>
    /// <param name="batch">The batch index within the epoch, from 0.</param>
    /// <param name="logs">Holds <c>batch</c> and <c>size</c>.</param>
    void OnBatchBegin(int batch, Dictionary<string, double> logs);

    /// <summary>Called after a training batch.</summary>
    /// <param name="batch">The batch index within the epoch, from 0.</param>
    /// <param name="logs">Holds <c>batch</c>, <c>size</c>, and this batch's loss and metrics.</param>
    void OnBatchEnd(int batch, Dictionary<string, double> logs);
}
