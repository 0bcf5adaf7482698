using KerasStyle.Graph;

namespace KerasStyle;

/// <summary>Session-wide state, as Keras' backend module.</summary>
public static class Backend
{
    /// <summary>
    /// Resets the default-name counters, so the next layers are named <c>input_1</c>, <c>dense_1</c>, ... again
    /// (Keras' <c>clear_session()</c>). Existing layers and models keep their names.
    /// </summary>
    public static void ClearSession() => NameScope.Reset();
}
