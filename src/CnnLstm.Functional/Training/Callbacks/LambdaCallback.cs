namespace KerasStyle.Training.Callbacks;

/// <summary>
/// A callback made of delegates, as Keras' <c>keras.callbacks.LambdaCallback</c>
/// (<c>keras/src/callbacks/lambda_callback.py</c>): each hook given runs at its point of <c>Fit</c>, and the hooks
/// not given do nothing. Epoch and batch indices count from 0; the logs are the dictionaries <c>Fit</c> passes, so a
/// delegate may read them and add entries, as any callback may.
/// </summary>
/// <example>
/// <code>
/// var log = new StreamWriter("loss_log.jsonl");
/// var lambda = new LambdaCallback(
///     onEpochEnd: (epoch, logs) =&gt; log.WriteLine($"{{\"epoch\": {epoch}, \"loss\": {logs["loss"]}}}"),
///     onTrainEnd: _ =&gt; log.Dispose());
/// </code>
/// </example>
public sealed class LambdaCallback : Callback
{
    private readonly Action<int, Dictionary<string, double>>? onEpochBegin;
    private readonly Action<int, Dictionary<string, double>>? onEpochEnd;
    private readonly Action<Dictionary<string, double>>? onTrainBegin;
    private readonly Action<Dictionary<string, double>>? onTrainEnd;
    private readonly Action<int, Dictionary<string, double>>? onBatchBegin;
    private readonly Action<int, Dictionary<string, double>>? onBatchEnd;

    /// <summary>Creates the callback; every delegate is optional (null does nothing), as in Keras.</summary>
    /// <param name="onEpochBegin">Called with (epoch, logs) at the start of each epoch (Keras' <c>on_epoch_begin</c>).</param>
    /// <param name="onEpochEnd">Called with (epoch, logs) at the end of each epoch, after validation (<c>on_epoch_end</c>).</param>
    /// <param name="onTrainBegin">Called with the (empty) logs when training starts (<c>on_train_begin</c>).</param>
    /// <param name="onTrainEnd">Called with the last epoch's logs when training ends (<c>on_train_end</c>).</param>
    /// <param name="onBatchBegin">Called with (batch, logs) before each training batch (<c>on_train_batch_begin</c>).</param>
    /// <param name="onBatchEnd">Called with (batch, logs) after each training batch (<c>on_train_batch_end</c>).</param>
    public LambdaCallback(
        Action<int, Dictionary<string, double>>? onEpochBegin = null,
        Action<int, Dictionary<string, double>>? onEpochEnd = null,
        Action<Dictionary<string, double>>? onTrainBegin = null,
        Action<Dictionary<string, double>>? onTrainEnd = null,
        Action<int, Dictionary<string, double>>? onBatchBegin = null,
        Action<int, Dictionary<string, double>>? onBatchEnd = null)
    {
        this.onEpochBegin = onEpochBegin;
        this.onEpochEnd = onEpochEnd;
        this.onTrainBegin = onTrainBegin;
        this.onTrainEnd = onTrainEnd;
        this.onBatchBegin = onBatchBegin;
        this.onBatchEnd = onBatchEnd;
    }

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch, Dictionary<string, double> logs) => onEpochBegin?.Invoke(epoch, logs);

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, Dictionary<string, double> logs) => onEpochEnd?.Invoke(epoch, logs);

    /// <inheritdoc/>
    public override void OnTrainBegin(Dictionary<string, double> logs) => onTrainBegin?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnTrainEnd(Dictionary<string, double> logs) => onTrainEnd?.Invoke(logs);

    /// <inheritdoc/>
    public override void OnBatchBegin(int batch, Dictionary<string, double> logs) => onBatchBegin?.Invoke(batch, logs);

    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, Dictionary<string, double> logs) => onBatchEnd?.Invoke(batch, logs);
}
