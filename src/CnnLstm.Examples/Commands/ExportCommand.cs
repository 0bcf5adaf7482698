using System.CommandLine;
using System.Globalization;
using KerasStyle.Models;
using KerasStyle.Saving.Onnx;

namespace KerasStyle.Examples.Commands;

/// <summary><c>export</c>: writes a saved model as an ONNX file (<see cref="Model.Export"/>) and prints what the file declares.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The model to export (.keras, or a legacy .h5 model file).", DefaultValueFactory = _ => "sentiment.keras" };
        var output = new Option<string>("--output") { Description = "The ONNX file to write.", DefaultValueFactory = _ => "sentiment.onnx" };
        var command = new Command("export", "Export a saved model to ONNX (opset 17, dynamic batch) for ONNX Runtime hosts; prints inputs, outputs, opset and file size.")
        {
            model, output,
        };
        command.SetAction(result => ModelFileErrors.Report(() => Run(result.GetValue(model)!, result.GetValue(output)!)));
        return command;
    }

    private static int Run(string modelPath, string outputPath)
    {
        if (!File.Exists(modelPath))
        {
            Console.Error.WriteLine($"Model file '{Path.GetFullPath(modelPath)}' does not exist; train one with the sentiment command or pass --model.");
            return 2;
        }

        using var model = Model.Load(modelPath, compile: false);
        model.Export(outputPath);

        var info = OnnxFileInfo.Read(outputPath);
        Console.WriteLine($"wrote {Path.GetFullPath(outputPath)}");
        foreach (var input in info.Inputs)
        {
            Console.WriteLine($"input   {input}");
        }

        foreach (var value in info.Outputs)
        {
            Console.WriteLine($"output  {value}");
        }

        var bytes = new FileInfo(outputPath).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"opset   ai.onnx {info.Opset} (IR {info.IrVersion}), {info.NodeCount} nodes: {string.Join(", ", info.Operators)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"size    {bytes} bytes ({bytes / 1048576.0:F2} MiB)"));
        return 0;
    }
}
