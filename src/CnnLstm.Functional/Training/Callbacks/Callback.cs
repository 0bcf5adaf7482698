using KerasStyle.Models;

namespace KerasStyle.Training.Callbacks;

/// <summary>Base class for callbacks: every hook does nothing until overridden.</summary>
public abstract class Callback : ICallback
{
    /// <summary>The model being trained (set before training starts).</summary>
    protected Model? Model { get; private set; }

    /// <summary>The run's parameters (Keras' <c>params</c>).</summary>
    protected IReadOnlyDictionary<string, object> Params { get; private set; } = new Dictionary<string, object>();

    /// <inheritdoc/>
    public virtual void SetContext(Model model, IReadOnlyDictionary<string, object> parameters)
    {
        Model = model;
        Params = parameters;
    }

    /// <inheritdoc/>
    public virtual void OnTrainBegin(Dictionary<string, double> logs)
    {
    }

    /// <inheritdoc/>
    public virtual void OnTrainEnd(Dictionary<string, double> logs)
    {
    }

    /// <inheritdoc/>
    public virtual void OnEpochBegin(int epoch, Dictionary<string, double> logs)
    {
    }

    /// <inheritdoc/>
    public virtual void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
    }

    /// <inheritdoc/>
    public virtual void OnBatchBegin(int batch, Dictionary<string, double> logs)
    {
    }

    /// <inheritdoc/>
    public virtual void OnBatchEnd(int batch, Dictionary<string, double> logs)
    {
    }

    /// <summary>The model, or an error if the callback is used outside training.</summary>
    protected Model TrainingModel => Model ?? throw new InvalidOperationException($"{GetType().Name} is used outside Fit.");
}
