using System.CommandLine;
using KerasStyle.Engine;

namespace KerasStyle.Examples.Commands;

/// <summary><c>doctor</c>: what a bug report needs about this machine and the engine (SystemReport.Describe).</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", "Print OS, CPU and instruction sets, .NET, TorchSharp and libtorch versions, threads, the native fix and every kernel check; paste it into bug reports.");
        command.SetAction(_ =>
        {
            Console.Write(SystemReport.Describe());
            return 0;
        });
        return command;
    }
}
