using Google.Protobuf;
using KerasStyle.Saving;
using KerasStyle.Saving.Onnx;

namespace KerasStyle.Models;

public partial class Model
{
    private const long MaxOnnxParams = 500_000_000;

    /// <summary>
    /// Exports the model for inference, as Keras 3's <c>model.export(path, format="onnx")</c>: an ONNX file (opset 17,
    /// IR 8) that any ONNX Runtime host runs without this library. Graph inputs are named after the Input layers and
    /// typed as they are (float32, int32 or int64), with shape (batch, ...) where <c>batch</c> is dynamic; graph
    /// outputs are float32, named after the layers that make them (<c>name_i</c> for a layer's i-th output when the
    /// name is taken). Weights are float32 initializers. Dropout and noise layers export as their inference form.
    /// The file is written to a temporary file and renamed over <paramref name="path"/> only when complete. What maps
    /// to which ONNX operators: docs/deploying.md.
    /// </summary>
    /// <param name="path">The file to write, usually <c>.onnx</c>.</param>
    /// <param name="format">The export format; <c>onnx</c> (the default) is the only one.</param>
    /// <exception cref="ArgumentException">An empty path, or another format (Keras' <c>tf_saved_model</c> and <c>openvino</c> are not available).</exception>
    /// <exception cref="NotSupportedException">A layer (named, with its class) or a use of it has no ONNX form here, or the
    /// model has more than 500 million parameters (ONNX's inline limit of 2 GiB); nothing is written.</exception>
    /// <exception cref="DirectoryNotFoundException">The target's directory does not exist.</exception>
    /// <exception cref="IOException">The file cannot be written (e.g. <paramref name="path"/> is a folder); any previous file is kept.</exception>
    /// <remarks>Under a <see cref="Distributed.DataParallel"/> distribution, call it on every rank: rank 0 alone writes the
    /// file, then every rank waits for the others (one <c>MPI_Allreduce</c> of rank 0's outcome, a barrier); when rank 0's
    /// write failed, rank 0 throws its exception and the other ranks an <see cref="IOException"/>. Called inside a
    /// distributed <c>Fit</c> or <c>Evaluate</c> (by a callback, which may run on rank 0 only), rank 0 writes and the other
    /// ranks return without writing or waiting (docs/scaling.md).</remarks>
    public void Export(string path, string format = "onnx") =>
        Distributed.RankZeroFiles.Write(this, nameof(Export), path, () => ExportHere(path, format));

    private void ExportHere(string path, string format)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(format);
        ThrowIfDisposed();
        if (format != "onnx")
        {
            throw new ArgumentException($"Export: unknown format '{format}'; this library exports 'onnx' (Keras' 'tf_saved_model' and 'openvino' formats are not available).", nameof(format));
        }

        using var exclusive = EnterTraining(nameof(Export));
        using var weights = ReadWeights();
        _ = Topology;
        // A protobuf message is limited to 2 GiB; larger ONNX models keep weights in external files, not written here.
        if (CountParams() > MaxOnnxParams)
        {
            throw new NotSupportedException($"Export: model '{Name}' has {CountParams():N0} parameters; an ONNX file holds at most {MaxOnnxParams:N0} float32 weights inline (2 GiB), and this exporter does not write ONNX external data.");
        }

        var proto = OnnxExporter.Build(this);
        AtomicFile.Write(path, stream => proto.WriteTo(stream));
    }
}
