using System.IO.Compression;
using System.Text.Json.Nodes;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers;

/// <summary>
/// Weights too large for the machine are refused before anything is allocated: a Dense of int.MaxValue units ended
/// the process with SIGSEGV inside libtorch's allocator, an LSTM of 1,000,000 units gave a raw ExternalException.
/// </summary>
public class WeightSizeTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void Call_DenseWithIntMaxUnits_ThrowsNamingLayerAndBytes_WithoutBuilding()
    {
        var dense = new Dense(int.MaxValue);
        var input = new Input(new[] { 2 });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => dense.Call(input));
        Assert.That(error!.Message, Does.Contain("Dense 'dense_1'").And.Contain("kernel").And.Contain("bytes"));
        Assert.That(dense.Built, Is.False);
        Assert.That(dense.InboundNodes, Is.Empty, "a refused call records no node");
        Assert.That(dense.Weights, Is.Empty);
    }

    [Test]
    public void Call_LstmOfAMillionUnits_ThrowsNamingLayer()
    {
        var lstm = new LSTM(1_000_000);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => lstm.Call(new Input(new[] { 1, 3 })));
        Assert.That(error!.Message, Does.Contain("LSTM 'lstm_1'").And.Contain("recurrent_kernel"));
        Assert.That(lstm.Built, Is.False);
    }

    [Test]
    public void Call_RnnOverAStackWhoseSecondCellIsTooLarge_ThrowsNamingTheRnn_AndLeavesEveryCellUnbuilt()
    {
        // The stack's cells are checked together, with the RNN's own check, before the first cell's weights exist.
        var small = new LSTMCell(4);
        var huge = new GRUCell(1_000_000);
        var stack = new StackedRNNCells(new RecurrentCell[] { small, huge });
        var rnn = new RNN(stack);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => rnn.Call(new Input(new[] { 2, 3 })));
        Assert.That(error!.Message, Does.Contain("RNN 'rnn_1'").And.Contain("'recurrent_kernel' of shape (1000000, 3000000)").And.Contain("bytes"));
        Assert.That(new Layer[] { rnn, stack, small, huge }.Select(l => (l.Built, l.Weights.Count)), Is.All.EqualTo((false, 0)));
    }

    [Test]
    public void Call_RnnOverAStackRefusedForItsInput_LeavesNothing_AndBuildsOnAnInputThatFits()
    {
        // 2^30 features make the first cell's kernel larger than an array; the refused build leaves no weight behind.
        var rnn = new RNN(new StackedRNNCells(new RecurrentCell[] { new LSTMCell(4), new GRUCell(2) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => rnn.Call(new Input(new[] { 2, 1 << 30 })));
        rnn.Call(new Input(new[] { 2, 3 }));
        Assert.That(rnn.Weights.Select(w => $"{w.Name} ({string.Join(", ", w.Shape)})"),
            Is.EqualTo(new[] { "kernel (3, 16)", "recurrent_kernel (4, 16)", "bias (16)", "kernel (4, 6)", "recurrent_kernel (2, 6)", "bias (2, 6)" }));
        Assert.That(rnn.Weights.All(w => w.Variable.shape.Aggregate(1L, (a, d) => a * d) == w.Count));
    }

    [Test]
    public void Call_LstmWhoseGateColumnsPassIntMaxValue_ThrowsNamingTheLstm_WithoutBuilding()
    {
        // 4 × units does not fit a dimension: refused with the layer the user called, not a wrapped size.
        var lstm = new LSTM(int.MaxValue / 2);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => lstm.Call(new Input(new[] { 1, 3 })));
        Assert.That(error!.Message, Does.Contain("LSTM 'lstm_1'").And.Contain("'kernel' has shape (3, 4294967292)"));
        Assert.That((lstm.Built, lstm.Cell.Built, lstm.Weights.Count), Is.EqualTo((false, false, 0)));
    }

    [Test]
    public void Call_Conv1DWithTooManyFilters_ThrowsNamingTheKernelAndBytes_WithoutBuilding()
    {
        var conv = new Conv1D(1 << 30, 64);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => conv.Call(new Input(new[] { 100, 16 })));
        Assert.That(error!.Message, Does.Contain("Conv1D 'conv1d_1'").And.Contain("'kernel' of shape (64, 16, 1073741824)").And.Contain("bytes"));
        Assert.That((conv.Built, conv.Weights.Count), Is.EqualTo((false, 0)));
    }

    [Test]
    public void Call_EmbeddingWithValidDimensionsButTooManyFloats_ThrowsNamingWeightAndBytes()
    {
        // 2^30 x 64 floats (256 GiB): each dimension is valid, the whole is not.
        var embedding = new Embedding(1 << 30, 64);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Call(new Input(new[] { 5 }, DType.Int64)));
        Assert.That(error!.Message, Does.Contain("Embedding 'embedding_1'").And.Contain("'embeddings' of shape (1073741824, 64)")
            .And.Contain("274,877,906,944 bytes").And.Contain("more than one array can hold"));
    }

    [Test]
    public void Load_ArchiveDeclaringAHugeDense_ThrowsKerasFileExceptionNamingFileAndLayer()
    {
        var directory = Directory.CreateTempSubdirectory("ks-size-").FullName;
        try
        {
            var path = Path.Combine(directory, "huge.keras");
            var input = new Input(new[] { 3 });
            using (var model = new Model(input, new Dense(2, name: "head").Call(input)))
            {
                model.Save(path);
            }

            using (var archive = ZipFile.Open(path, ZipArchiveMode.Update))
            {
                var entry = archive.GetEntry("config.json")!;
                JsonNode config;
                using (var reader = new StreamReader(entry.Open()))
                {
                    config = JsonNode.Parse(reader.ReadToEnd())!;
                }

                config["config"]!["layers"]![1]!["config"]!["units"] = int.MaxValue;
                entry.Delete();
                using var writer = new StreamWriter(archive.CreateEntry("config.json").Open());
                writer.Write(config.ToJsonString());
            }

            var error = Assert.Throws<KerasFileException>(() => Model.Load(path));
            Assert.That(error!.Message, Does.Contain(path).And.Contain("Dense 'head'").And.Contain("bytes"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
