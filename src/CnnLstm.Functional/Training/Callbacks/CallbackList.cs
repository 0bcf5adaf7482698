using System.Collections;
using KerasStyle.Models;

namespace KerasStyle.Training.Callbacks;

/// <summary>
/// Several callbacks called as one, in order, as Keras' <c>keras.callbacks.CallbackList</c>
/// (keras/src/callbacks/callback_list.py): every hook of the list calls that hook of each callback, with the same
/// logs, so a callback sees the entries earlier ones added. <c>Fit</c> runs its callbacks through one.
/// </summary>
/// <remarks>
/// As Keras' <c>_add_default_callbacks</c>: with <c>addHistory</c> a <see cref="Training.History"/> is appended
/// unless the list already holds one, and with <c>addProgbar</c> a <see cref="ProgbarLogger"/> (verbose from the
/// parameters' <c>verbose</c>, 1 without it) unless the list already holds one. Keras' asynchronous batch-end dispatch
/// (for thread-safe backends only, not torch) is not done: every hook runs on the calling thread.
/// </remarks>
public sealed class CallbackList : ICallback, IReadOnlyList<ICallback>
{
    private readonly List<ICallback> callbacks;

    /// <summary>Wraps callbacks, as Keras' <c>CallbackList(callbacks, add_history, add_progbar, model, **params)</c>.</summary>
    /// <param name="callbacks">The callbacks, called in this order; null for none.</param>
    /// <param name="addHistory">Append a <see cref="Training.History"/> unless one is in <paramref name="callbacks"/>.</param>
    /// <param name="addProgbar">Append a <see cref="ProgbarLogger"/> unless one is in <paramref name="callbacks"/>.</param>
    /// <param name="model">When given, passed with <paramref name="parameters"/> to every callback's <see cref="ICallback.SetContext"/>.</param>
    /// <param name="parameters">Keras' <c>params</c> (see <see cref="ICallback.SetContext"/>); empty when null.</param>
    /// <exception cref="ArgumentNullException">A callback is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="addProgbar"/> with a <c>verbose</c> parameter other than 1 or 2.</exception>
    public CallbackList(IEnumerable<ICallback>? callbacks = null, bool addHistory = false, bool addProgbar = false, Model? model = null,
        IReadOnlyDictionary<string, object>? parameters = null)
    {
        this.callbacks = callbacks?.ToList() ?? new List<ICallback>();
        if (this.callbacks.Any(c => c is null))
        {
            throw new ArgumentNullException(nameof(callbacks), "CallbackList: a callback is null.");
        }

        History = this.callbacks.OfType<History>().FirstOrDefault();
        if (History is null && addHistory)
        {
            History = new History();
            this.callbacks.Add(History);
        }

        if (addProgbar && !this.callbacks.OfType<ProgbarLogger>().Any())
        {
            var verbose = parameters?.GetValueOrDefault("verbose") is { } given ? Convert.ToInt32(given, System.Globalization.CultureInfo.InvariantCulture) : 1;
            this.callbacks.Add(new ProgbarLogger(verbose));
        }

        if (model is not null)
        {
            SetContext(model, parameters ?? new Dictionary<string, object>());
        }
    }

    /// <summary>The list's <see cref="Training.History"/> (given or added), or null; what <c>Fit</c> returns.</summary>
    public History? History { get; }

    /// <summary>How many callbacks the list calls.</summary>
    public int Count => callbacks.Count;

    /// <summary>The callback at <paramref name="index"/>, in call order.</summary>
    /// <param name="index">From 0.</param>
    public ICallback this[int index] => callbacks[index];

    /// <inheritdoc/>
    public IEnumerator<ICallback> GetEnumerator() => callbacks.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public void SetContext(Model model, IReadOnlyDictionary<string, object> parameters)
    {
        foreach (var callback in callbacks)
        {
            callback.SetContext(model, parameters);
        }
    }

    /// <inheritdoc/>
    public void OnTrainBegin(Dictionary<string, double> logs)
    {
        foreach (var callback in callbacks)
        {
            callback.OnTrainBegin(logs);
        }
    }

    /// <inheritdoc/>
    public void OnTrainEnd(Dictionary<string, double> logs)
    {
        foreach (var callback in callbacks)
        {
            callback.OnTrainEnd(logs);
        }
    }

    /// <inheritdoc/>
    public void OnEpochBegin(int epoch, Dictionary<string, double> logs)
    {
        foreach (var callback in callbacks)
        {
            callback.OnEpochBegin(epoch, logs);
        }
    }

    /// <inheritdoc/>
    public void OnEpochEnd(int epoch, Dictionary<string, double> logs)
    {
        foreach (var callback in callbacks)
        {
            callback.OnEpochEnd(epoch, logs);
        }
    }

    /// <inheritdoc/>
    public void OnBatchBegin(int batch, Dictionary<string, double> logs)
    {
        foreach (var callback in callbacks)
        {
            callback.OnBatchBegin(batch, logs);
        }
    }

    /// <inheritdoc/>
    public void OnBatchEnd(int batch, Dictionary<string, double> logs)
    {
        foreach (var callback in callbacks)
        {
            callback.OnBatchEnd(batch, logs);
        }
    }
}
