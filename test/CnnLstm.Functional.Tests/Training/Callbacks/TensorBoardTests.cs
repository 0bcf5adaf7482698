using System.Text.RegularExpressions;
using KerasStyle.Training.Callbacks;
using KerasStyle.Training.Callbacks.TensorBoardEvents;

namespace KerasStyle.Tests.Training.Callbacks;

public class TensorBoardTests
{
    private string logDir = string.Empty;

    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(61);
        logDir = Path.Combine(Path.GetTempPath(), "kerasstyle-tensorboard-" + Guid.NewGuid().ToString("N"));
    }

    [TearDown]
    public void Delete()
    {
        if (Directory.Exists(logDir))
        {
            Directory.Delete(logDir, recursive: true);
        }
    }

    [Test]
    public void EpochValues_GoToTrainAndValidationFiles_UnderKeras3TagsAndSteps()
    {
        using var model = CallbackTesting.CompiledMlp(learningRate: 0.1);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var board = new TensorBoard(logDir);
        var history = CallbackTesting.Fit(model, 3, board);
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        var trainFile = Directory.GetFiles(Path.Combine(logDir, "train")).Single();
        var validationFile = Directory.GetFiles(Path.Combine(logDir, "validation")).Single();
        Assert.That(board.EventFiles, Is.EqualTo(new[] { trainFile, validationFile }));
        var name = new Regex(@"^events\.out\.tfevents\.(\d{10})\." + Regex.Escape(System.Net.Dns.GetHostName()) + @"\." + Environment.ProcessId + @"\.\d+\.v2$");
        Assert.That(Path.GetFileName(trainFile), Does.Match(name));
        Assert.That(Path.GetFileName(validationFile), Does.Match(name));
        var fileSeconds = long.Parse(name.Match(Path.GetFileName(trainFile)).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(fileSeconds, Is.InRange((long)before, (long)after));

        var train = TensorBoardEventFile.Read(trainFile);
        Assert.That(train[0].FileVersion, Is.EqualTo("brain.Event:2"));
        Assert.That(train[1].Tag, Is.EqualTo("keras"), "write_graph: the model's JSON at step 0");
        Assert.That((train[1].Step, train[1].Plugin, train[1].DataType, train[1].Text), Is.EqualTo((0L, "graph_keras_model", 7, model.ToJson())));
        Assert.That(train[1].PluginContent, Is.EqualTo("1"u8.ToArray()));

        var scalars = train.Skip(2).ToList();
        Assert.That(scalars.Select(e => $"{e.Tag}@{e.Step}"), Is.EqualTo(new[]
        {
            "epoch_loss@0", "epoch_accuracy@0", "epoch_learning_rate@0",
            "epoch_loss@1", "epoch_accuracy@1", "epoch_learning_rate@1",
            "epoch_loss@2", "epoch_accuracy@2", "epoch_learning_rate@2",
        }));
        Assert.That(scalars.Where(e => e.Tag == "epoch_loss").Select(e => e.Value), Is.EqualTo(history["loss"].Select(v => (float)v)));
        Assert.That(scalars.Where(e => e.Tag == "epoch_accuracy").Select(e => e.Value), Is.EqualTo(history["accuracy"].Select(v => (float)v)));
        Assert.That(scalars.Where(e => e.Tag == "epoch_learning_rate").Select(e => e.Value), Is.All.EqualTo(0.1f));
        AssertScalarTensors(scalars);

        // One batch per epoch, so the iteration count after epoch e is e + 1.
        var validation = TensorBoardEventFile.Read(validationFile);
        Assert.That(validation[0].FileVersion, Is.EqualTo("brain.Event:2"));
        Assert.That(validation.Skip(1).Select(e => $"{e.Tag}@{e.Step}"), Is.EqualTo(new[]
        {
            "evaluation_loss_vs_iterations@1", "evaluation_accuracy_vs_iterations@1", "epoch_loss@0", "epoch_accuracy@0",
            "evaluation_loss_vs_iterations@2", "evaluation_accuracy_vs_iterations@2", "epoch_loss@1", "epoch_accuracy@1",
            "evaluation_loss_vs_iterations@3", "evaluation_accuracy_vs_iterations@3", "epoch_loss@2", "epoch_accuracy@2",
        }));
        Assert.That(validation.Where(e => e.Tag == "epoch_loss").Select(e => e.Value), Is.EqualTo(history["val_loss"].Select(v => (float)v)));
        Assert.That(validation.Where(e => e.Tag == "evaluation_accuracy_vs_iterations").Select(e => e.Value), Is.EqualTo(history["val_accuracy"].Select(v => (float)v)));
        AssertScalarTensors(validation.Skip(1));

        Assert.That(train.Concat(validation).Select(e => e.WallTime), Is.All.InRange(before - 1, after + 1), "wall_time is Unix seconds");
        Assert.That(history.Values.Keys, Does.Not.Contain("learning_rate"), "the rate is added to TensorBoard's copy of the logs only");
    }

    [Test]
    public void UpdateFreqBatch_WritesEveryBatchLossAndMetric_AtTheGlobalBatchCountFromOne()
    {
        var (steps, tags, losses) = BatchEvents(new TensorBoard(logDir, updateFreq: "batch", writeGraph: false));
        Assert.That(steps, Is.EqualTo(new long[] { 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6 }));
        Assert.That(tags.Distinct(), Is.EqualTo(new[] { "batch_loss", "batch_accuracy" }), "Keras 3's batch logs have no batch index or size");
        Assert.That(losses.Select(v => v!.Value), Is.EqualTo(recordedBatchLosses.Select(v => (float)v)));
    }

    [Test]
    public void UpdateFreqN_WritesEveryNthBatch()
    {
        var (steps, _, losses) = BatchEvents(new TensorBoard(logDir, updateFreq: 4, writeGraph: false));
        Assert.That(steps.Distinct(), Is.EqualTo(new long[] { 4 }));
        Assert.That(losses.Single(), Is.EqualTo((float)recordedBatchLosses[3]));
    }

    [Test]
    public void UpdateFreqEpoch_WritesNoBatchValues()
    {
        var (steps, _, _) = BatchEvents(new TensorBoard(logDir, writeGraph: false));
        Assert.That(steps, Is.Empty);
        Assert.That(TensorBoardEventFile.Read(Directory.GetFiles(Path.Combine(logDir, "train")).Single()).Count(e => e.Tag?.StartsWith("epoch_", StringComparison.Ordinal) == true), Is.EqualTo(2 * 3));
    }

    [Test]
    public void WithoutValidation_NoValidationFolderIsCreated_AndEachFitWritesANewFile()
    {
        using var model = CallbackTesting.CompiledMlp();
        var (x, y) = TinyModels.Blobs(8);
        var board = new TensorBoard(logDir);
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, callbacks: new[] { board });
        var first = board.EventFiles.Single();
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, callbacks: new[] { board });

        Assert.That(Directory.Exists(Path.Combine(logDir, "validation")), Is.False);
        Assert.That(Directory.GetFiles(Path.Combine(logDir, "train")), Has.Length.EqualTo(2));
        Assert.That(board.EventFiles.Single(), Is.Not.EqualTo(first));
        Assert.That(TensorBoardEventFile.Read(first).Select(e => e.Tag), Is.EqualTo(new[] { null, "keras", "epoch_loss", "epoch_accuracy", "epoch_learning_rate" }));
    }

    [Test]
    public void ScheduledRates_AreTheLearningRatesWritten()
    {
        using var model = CallbackTesting.CompiledMlp(learningRate: 0.1);
        CallbackTesting.Fit(model, 3, new LearningRateScheduler((_, lr) => lr / 2), new TensorBoard(logDir, writeGraph: false));
        var rates = TensorBoardEventFile.Read(Directory.GetFiles(Path.Combine(logDir, "train")).Single()).Where(e => e.Tag == "epoch_learning_rate").Select(e => e.Value);
        Assert.That(rates, Is.EqualTo(new[] { 0.05f, 0.025f, 0.0125f }));
    }

    [Test]
    public void MaskedCrc32C_MatchesPublishedValuesAndTorchSharpsImplementation()
    {
        // CRC-32C check value and the RFC 3720 (iSCSI) B.4 vectors.
        Assert.That(MaskedCrc32C.Crc("123456789"u8), Is.EqualTo(0xE3069283u));
        Assert.That(MaskedCrc32C.Crc(new byte[32]), Is.EqualTo(0x8A9136AAu));
        Assert.That(MaskedCrc32C.Crc(Enumerable.Repeat((byte)0xFF, 32).ToArray()), Is.EqualTo(0x62A8AB43u));
        Assert.That(MaskedCrc32C.Crc(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()), Is.EqualTo(0x46DD794Eu));
        var random = new Random(5);
        for (var length = 0; length < 70; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.That(MaskedCrc32C.Masked(data), Is.EqualTo(TensorBoardEventFile.MaskedCrc(data)), $"length {length}");
        }
    }

    [Test]
    public void ACorruptedByte_IsCaughtByTheRecordChecksum()
    {
        using var model = CallbackTesting.CompiledMlp();
        CallbackTesting.Fit(model, 1, new TensorBoard(logDir));
        var file = Directory.GetFiles(Path.Combine(logDir, "train")).Single();
        Assert.That(TensorBoardEventFile.Records(file), Has.Count.EqualTo(5));
        var bytes = File.ReadAllBytes(file);
        bytes[^6] ^= 0x01; // inside the last event's data
        File.WriteAllBytes(file, bytes);
        Assert.That(() => TensorBoardEventFile.Records(file), Throws.InstanceOf<AssertionException>().With.Message.Contains("masked CRC of the data"));
    }

    [Test]
    public void Ctor_RefusesBadArguments()
    {
        Assert.That(() => new TensorBoard(logDir, updateFreq: "often"), Throws.ArgumentException.With.Message.Contains("\"epoch\" or \"batch\""));
        Assert.That(() => new TensorBoard(logDir, updateFreq: 0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("updateFreq"));
        Assert.That(() => new TensorBoard(" "), Throws.ArgumentException);
        Assert.That(new TensorBoard().LogDir, Is.EqualTo("logs"), "Keras' default log_dir");
        Assert.That(new TensorBoard(logDir, "batch").BatchFrequency, Is.EqualTo(1));
        Assert.That(new TensorBoard(logDir).BatchFrequency, Is.Null);
    }

    private static void AssertScalarTensors(IEnumerable<TensorBoardEventFile.Event> events)
    {
        foreach (var e in events)
        {
            Assert.That((e.Plugin, e.DataType, e.Shape!.Length), Is.EqualTo(("scalars", 1, 0)), $"{e}: a float32 tensor of shape () with the scalars plugin, as tf.summary.scalar writes");
        }
    }

    private readonly List<double> recordedBatchLosses = new();

    /// <summary>Two epochs of three batches of 4; returns the batch events of the train file.</summary>
    private (long[] Steps, string[] Tags, float?[] Losses) BatchEvents(TensorBoard board)
    {
        using var model = CallbackTesting.CompiledMlp();
        var (x, y) = TinyModels.Blobs(12);
        recordedBatchLosses.Clear();
        var recorder = new LambdaCallback(onBatchEnd: (_, logs) => recordedBatchLosses.Add(logs["loss"]));
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, callbacks: new ICallback[] { recorder, board });
        var events = TensorBoardEventFile.Read(Directory.GetFiles(Path.Combine(logDir, "train")).Single()).Where(e => e.Tag?.StartsWith("batch_", StringComparison.Ordinal) == true).ToList();
        return (events.Select(e => e.Step).ToArray(), events.Select(e => e.Tag!).ToArray(), events.Where(e => e.Tag == "batch_loss").Select(e => e.Value).ToArray());
    }
}
