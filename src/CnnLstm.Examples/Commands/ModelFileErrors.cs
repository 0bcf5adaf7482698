using KerasStyle.Saving;
using Microsoft.ML.OnnxRuntime;

namespace KerasStyle.Examples.Commands;

/// <summary>Turns the typed errors of reading and writing model files into one line on standard error and exit code 2.</summary>
internal static class ModelFileErrors
{
    public static int Report(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is KerasFileException or IOException or UnauthorizedAccessException or ArgumentException
            or NotSupportedException or OnnxRuntimeException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
