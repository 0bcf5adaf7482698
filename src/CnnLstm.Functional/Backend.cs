using KerasStyle.Graph;

namespace KerasStyle;

/// <summary>The console forms <see cref="Backend.ConsoleStyle"/> selects.</summary>
public enum ConsoleStyle
{
    /// <summary>
    /// The seed's Keras 2 forms (the default): names <c>dense_1</c>, <c>input_1</c>, <c>model_1</c>; Keras 2's
    /// summary table; <c>750/750 [====...] - 12s 16ms/step - loss: ...</c>; <c>learning_rate</c> kept out of the
    /// progress line.
    /// </summary>
    Keras2,

    /// <summary>
    /// Keras 3.16's forms: names <c>dense</c>, <c>dense_1</c>, <c>input_layer</c>, <c>functional</c>; the box-drawn
    /// summary table; <c>750/750 ━━━━ 12s 16ms/step - loss: ...</c> with Keras 3's terminal escapes; the
    /// <c>learning_rate</c> a callback put in the epoch logs shown on the epoch's line.
    /// </summary>
    Keras3,
}

/// <summary>Session-wide state, as Keras' backend module.</summary>
public static class Backend
{
    private static volatile ConsoleStyle consoleStyle = ConsoleStyle.Keras2;

    /// <summary>
    /// The one switch between Keras 2 and Keras 3 console forms: default layer and model names, <c>Summary()</c>,
    /// the progress lines of <c>Fit</c>/<c>Evaluate</c>, and whether <c>learning_rate</c> shows on them (see
    /// <see cref="KerasStyle.ConsoleStyle"/>). Default <see cref="ConsoleStyle.Keras2"/>, the seed's forms. Set it
    /// before building models: names are given when a layer is made. Files, configs, weights, callback logs and CSV
    /// columns are the same under both.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="KerasStyle.ConsoleStyle"/>.</exception>
    public static ConsoleStyle ConsoleStyle
    {
        get => consoleStyle;
        set => consoleStyle = Enum.IsDefined(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Backend.ConsoleStyle: expected ConsoleStyle.Keras2 or ConsoleStyle.Keras3.");
    }

    /// <summary>
    /// Resets the default-name counters, so the next layers are named <c>input_1</c>, <c>dense_1</c>, ... again
    /// (<c>input_layer</c>, <c>dense</c>, ... under <see cref="ConsoleStyle.Keras3"/>), as Keras'
    /// <c>clear_session()</c>. Existing layers and models keep their names. The console style stays.
    /// </summary>
    public static void ClearSession() => NameScope.Reset();
}
