using System.Reflection;
using KerasStyle.Datasets;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Preprocessing;
using KerasStyle.Saving.Onnx.Proto;
using KerasStyle.Saving.Onnx;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;

namespace KerasStyle.Tests.Saving.Onnx;

/// <summary>What an exported file declares (opset, dynamic batch, names, operators), the seed models on real data, and export's errors.</summary>
public class OnnxExportFileTests
{
    private string path = string.Empty;

    [SetUp]
    public void FreshFile()
    {
        Backend.ClearSession();
        path = Path.Combine(Path.GetTempPath(), $"ks-onnx-file-{Guid.NewGuid():N}.onnx");
    }

    [TearDown]
    public void RemoveFile() => File.Delete(path);

    [Test]
    public void Export_SeedSentiment_DeclaresOpset17DynamicBatchAndLayerNames()
    {
        using var model = CnnLstmModels.Sentiment();
        model.Export(path);

        var info = OnnxFileInfo.Read(path);
        Assert.That((info.IrVersion, info.Opset), Is.EqualTo((8L, 17L)));
        Assert.That(info.Inputs.Select(i => i.ToString()), Is.EqualTo(new[] { $"{model.Inputs[0].Layer.Name} int64 (batch, 100)" }));
        Assert.That(info.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { $"{model.Outputs[0].Layer.Name} float32 (batch, 1)" }));
        Assert.That(info.Operators, Does.Contain("Gather").And.Contain("Conv").And.Contain("MaxPool").And.Contain("LSTM").And.Contain("Sigmoid"));

        // ONNX Runtime reads the same declarations: batch dynamic (-1, named), the rest fixed.
        using var session = new InferenceSession(path);
        var input = session.InputMetadata.Single();
        Assert.That(input.Key, Is.EqualTo(model.Inputs[0].Layer.Name));
        Assert.That(input.Value.Dimensions, Is.EqualTo(new[] { -1, 100 }));
        Assert.That(input.Value.SymbolicDimensions[0], Is.EqualTo("batch"));
        Assert.That(session.OutputMetadata.Single().Key, Is.EqualTo(model.Outputs[0].Layer.Name));
    }

    [Test]
    public void Export_SeedSentimentOnImdbReviews_OnnxRuntimeMatchesPredict()
    {
        using var model = CnnLstmModels.Sentiment();
        OnnxExportTests.Randomize(model, seed: 11);
        var encoder = new ImdbEncoder(ImdbEncoder.LoadWordIndex(TestPaths.DataFile("imdb/imdb_word_index.json")), numWords: 20000);
        var reviews = ImdbReviews.Read(TestPaths.DataFile("imdb/imdb_test.tsv.gz")).Take(64).Select(r => r.Text);
        var tokens = Sequences.PadSequences(reviews.Select(encoder.Encode).ToArray(), maxLen: 100);

        OnnxCheck.AssertMatchesPredict(model, new Array[] { tokens });
    }

    [Test]
    public void Export_SeedRegressionOnAirlineWindows_OnnxRuntimeMatchesPredict()
    {
        using var model = CnnLstmModels.Regression();
        OnnxExportTests.Randomize(model, seed: 12);
        var (_, passengers) = CsvSeries.Read(TestPaths.DataFile("timeseries/airline-passengers.csv"));
        var (x, _) = TimeSeriesWindows.Create(new MinMaxScaler().Fit(passengers).Transform(passengers), lookBack: 3);

        OnnxCheck.AssertMatchesPredict(model, new Array[] { x });
    }

    [Test]
    public void Export_MaskedLstm_UsesScan_UnmaskedUsesOnnxLstm()
    {
        var tokens = new Input(shape: 6, dtype: DType.Int64, name: "tokens");
        var embedded = new Embedding(20, 3, maskZero: true).Call(tokens);
        using var masked = new Model(tokens, new LSTM(4).Call(embedded));
        masked.Export(path);
        Assert.That(OnnxFileInfo.Read(path).Operators, Does.Contain("Scan").And.Not.Contain("LSTM"));

        var features = new Input(shape: (6, 3));
        using var plain = new Model(features, new LSTM(4).Call(features));
        plain.Export(path);
        Assert.That(OnnxFileInfo.Read(path).Operators, Does.Contain("LSTM").And.Not.Contain("Scan"));
    }

    [Test]
    public void Export_CustomLayer_ThrowsNotSupportedNamingLayer_AndKeepsTheOldFile()
    {
        File.WriteAllText(path, "previous export");
        var input = new Input(shape: 3);
        using var model = new Model(input, new Doubling("my_doubling").Call(input));

        var error = Assert.Throws<NotSupportedException>(() => model.Export(path));
        Assert.That(error!.Message, Does.Contain("Doubling 'my_doubling'").And.Contain("ONNX"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous export"));
    }

    [Test]
    public void Export_UnknownFormat_ThrowsArgumentExceptionNamingFormats()
    {
        using var model = CnnLstmModels.Regression();
        var error = Assert.Throws<ArgumentException>(() => model.Export(path, format: "tf_saved_model"));
        Assert.That(error!.Message, Does.Contain("'tf_saved_model'").And.Contain("'onnx'"));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void Read_NotAnOnnxFile_ThrowsKerasFileException()
    {
        File.WriteAllBytes(path, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F });
        Assert.Throws<KerasStyle.Saving.KerasFileException>(() => OnnxFileInfo.Read(path));
    }

    /// <summary>Every layer class of the library has an ONNX form, so a layer added without one fails here.</summary>
    [Test]
    public void EveryLayerClass_WritesItsOwnOnnxForm()
    {
        var parameters = new[] { typeof(OnnxGraph), typeof(OnnxCall) };
        var missing = typeof(Layer).Assembly.GetTypes()
            // Models used as layers are written in place by the exporter itself, with their output masks.
            .Where(t => t.IsSubclassOf(typeof(Layer)) && !t.IsAbstract && t != typeof(InputLayer) && t.Name != "ModelLayer")
            .Where(t => t.GetMethod("ExportOnnx", BindingFlags.Instance | BindingFlags.NonPublic, parameters)!.DeclaringType == typeof(Layer))
            .Select(t => t.Name).ToArray();
        Assert.That(missing, Is.Empty);
    }

    /// <summary>A user's layer: the library cannot know its ONNX form.</summary>
    private sealed class Doubling(string name) : Layer(name)
    {
        protected override IReadOnlyList<(Shape Shape, DType DType)> ComputeOutputSpecs(KerasTensor input) => new[] { (input.Shape, input.DType) };

        protected override TorchSharp.torch.Tensor Call(TorchSharp.torch.Tensor input, bool training, TorchSharp.torch.Tensor? mask) => input * 2;
    }

    [Test]
    public void Export_Repeated_LeavesNoLiveTensors()
    {
        using var model = CnnLstmModels.Regression();
        model.Export(path);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var total = TorchSharp.torch.Tensor.TotalCount;

        for (var i = 0; i < 20; i++)
        {
            model.Export(path);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live), "tensors created and not disposed on this thread");
        Assert.That(TorchSharp.torch.Tensor.TotalCount, Is.LessThanOrEqualTo(total), "live tensors in the process");
    }

    [Test]
    public void Export_MaskingBeforeLstm_ComputesTheMaskOnce()
    {
        // Masking writes its output and, separately, its mask from the same comparison; the graph keeps one of each node.
        var input = new Input(shape: (6, 3));
        using var model = new Model(input, new LSTM(4).Call(new Masking().Call(input)));
        model.Export(path);

        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        Assert.That(graph.Node.Count(n => n.OpType == "ReduceMax"), Is.EqualTo(1));
        var scanInputs = graph.Node.Single(n => n.OpType == "Scan").Input;
        Assert.That(graph.Node.Where(n => n.OpType == "ConstantOfShape").Count(n => scanInputs.Contains(n.Output[0])), Is.EqualTo(1), "one zero state for h, c and the previous output");
    }
}
