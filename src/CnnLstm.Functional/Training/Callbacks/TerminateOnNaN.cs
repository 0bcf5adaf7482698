namespace KerasStyle.Training.Callbacks;

/// <summary>Stops training as soon as a batch loss is NaN or infinite, as Keras' <c>TerminateOnNaN</c>.</summary>
public sealed class TerminateOnNaN : Callback
{
    /// <summary>Whether training was stopped by this callback.</summary>
    public bool Terminated { get; private set; }

    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, Dictionary<string, double> logs)
    {
        if (logs.TryGetValue("loss", out var loss) && !double.IsFinite(loss))
        {
            Console.WriteLine($"Batch {batch}: Invalid loss, terminating training");
            Terminated = true;
            TrainingModel.StopTraining = true;
        }
    }
}
