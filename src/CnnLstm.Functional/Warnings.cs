namespace KerasStyle;

/// <summary>
/// Non-fatal problems the library reports instead of failing, as Python's <c>warnings.warn</c> does for Keras (e.g. a
/// layer skipped by <c>LoadWeights(..., skipMismatch: true)</c>). Without a handler they are written to standard
/// error as <c>Warning: ...</c>. Under a <see cref="Distributed.DataParallel"/> distribution only rank 0 reports
/// warnings (every rank runs the same calls and would repeat them); the other ranks drop them.
/// </summary>
public static class Warnings
{
    /// <summary>Raised for every warning (on rank 0 only under a distribution); when at least one handler is attached, nothing is written to standard error.</summary>
    public static event EventHandler<string>? Raised;

    /// <summary>Reports a warning to the handlers, or to standard error when there are none.</summary>
    internal static void Warn(string message)
    {
        if (Distributed.Distribution.Current is { Rank: not 0 })
        {
            return;
        }

        var handlers = Raised;
        if (handlers is null)
        {
            Console.Error.WriteLine($"Warning: {message}");
            return;
        }

        handlers(null, message);
    }
}
