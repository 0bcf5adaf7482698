using KerasStyle.Models;
using KerasStyle.Training;
using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

/// <summary>
/// <see cref="CallbackList"/>, as Keras' <c>keras.callbacks.CallbackList</c> (keras/src/callbacks/callback_list.py):
/// every hook reaches every callback in list order with the same logs, History and ProgbarLogger are added only
/// when missing, and Fit calls the hooks in Keras' order.
/// </summary>
public class CallbackListTests
{
    [SetUp]
    public void Seed()
    {
        Backend.ClearSession();
        Utils.SetRandomSeed(3);
    }

    [Test]
    public void EveryHook_CallsEachCallbackInListOrder_WithTheSameLogs()
    {
        var calls = new List<string>();
        var first = new Probe("a", calls);
        var second = new Probe("b", calls);
        var list = new CallbackList(new ICallback[] { first, second });
        var logs = new Dictionary<string, double>();

        list.OnTrainBegin(logs);
        list.OnEpochBegin(0, logs);
        list.OnBatchBegin(0, logs);
        list.OnBatchEnd(0, logs);
        list.OnEpochEnd(0, logs);
        list.OnTrainEnd(logs);

        Assert.That(calls, Is.EqualTo(new[]
        {
            "a train_begin", "b train_begin", "a epoch_begin 0", "b epoch_begin 0", "a batch_begin 0", "b batch_begin 0",
            "a batch_end 0", "b batch_end 0", "a epoch_end 0", "b epoch_end 0", "a train_end", "b train_end",
        }));
        // Each probe writes its name into the logs it is given: b saw a's entry, so both got one dictionary.
        Assert.That(second.SawEntriesOf, Is.All.Contains("a"));
    }

    [Test]
    public void Constructor_AddsHistoryThenProgbar_AfterTheGivenCallbacks_WithVerboseFromTheParameters()
    {
        var own = new Probe("a", new List<string>());

        var list = new CallbackList(new[] { own }, addHistory: true, addProgbar: true, parameters: new Dictionary<string, object> { ["verbose"] = 2 });

        Assert.That(list, Has.Count.EqualTo(3));
        Assert.That(list[0], Is.SameAs(own));
        Assert.That(list[1], Is.SameAs(list.History));
        Assert.That(list[2], Is.InstanceOf<ProgbarLogger>());
        Assert.That(((ProgbarLogger)list[2]).Verbose, Is.EqualTo(2));
        Assert.That(new CallbackList().Count, Is.Zero, "nothing is added unless asked");
        Assert.That(new CallbackList().History, Is.Null);
    }

    [Test]
    public void Constructor_KeepsAGivenHistoryAndProgbar_InsteadOfAddingOthers()
    {
        var history = new History();
        var progbar = new ProgbarLogger(2, TextWriter.Null);

        var list = new CallbackList(new ICallback[] { progbar, history }, addHistory: true, addProgbar: true);

        Assert.That(list, Is.EqualTo(new ICallback[] { progbar, history }));
        Assert.That(list.History, Is.SameAs(history));
    }

    [Test]
    public void Constructor_WithAModel_SetsTheContextOfEveryCallback()
    {
        using var model = TinyModels.Mlp();
        var calls = new List<string>();
        var parameters = new Dictionary<string, object> { ["epochs"] = 3 };

        _ = new CallbackList(new ICallback[] { new Probe("a", calls), new Probe("b", calls) }, model: model, parameters: parameters);

        Assert.That(calls, Is.EqualTo(new[] { "a set_context 3", "b set_context 3" }));
    }

    [Test]
    public void Constructor_WithANullCallback_ThrowsArgumentNullException()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new CallbackList(new ICallback[] { new History(), null! }));

        Assert.That(error!.Message, Does.StartWith("CallbackList: a callback is null."));
    }

    [Test]
    public void Fit_CallsTheHooksInKerasOrder_ThroughTheList()
    {
        using var model = Compiled();
        var calls = new List<string>();
        var (x, y) = TinyModels.Blobs(6);

        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false, validationData: (x, y), callbacks: new ICallback[] { new Probe("a", calls), new Probe("b", calls) });

        var expected = new List<string> { "a set_context 2", "b set_context 2", "a train_begin", "b train_begin" };
        foreach (var epoch in new[] { 0, 1 })
        {
            expected.AddRange(new[] { $"a epoch_begin {epoch}", $"b epoch_begin {epoch}" });
            foreach (var batch in new[] { 0, 1 })
            {
                expected.AddRange(new[] { $"a batch_begin {batch}", $"b batch_begin {batch}", $"a batch_end {batch}", $"b batch_end {batch}" });
            }

            expected.AddRange(new[] { $"a epoch_end {epoch}", $"b epoch_end {epoch}" });
        }

        expected.AddRange(new[] { "a train_end", "b train_end" });
        Assert.That(calls, Is.EqualTo(expected));
    }

    [Test]
    public void Fit_WithAGivenHistory_FillsAndReturnsIt()
    {
        using var model = Compiled();
        var history = new History();
        var (x, y) = TinyModels.Blobs(8);

        var returned = model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, callbacks: new[] { history });

        Assert.That(returned, Is.SameAs(history));
        Assert.That(history["loss"], Has.Count.EqualTo(2));
    }

    [Test]
    public void Fit_WithAGivenProgbarLogger_AndVerbose1_PrintsOnlyThroughIt()
    {
        using var model = Compiled();
        using var writer = new StringWriter();
        var (x, y) = TinyModels.Blobs(8);

        using (var console = new ConsoleCapture())
        {
            model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 1, callbacks: new[] { new ProgbarLogger(2, writer) });
            Assert.That(console.Text, Is.Empty, "no second progress bar on standard output");
        }

        Assert.That(writer.ToString(), Does.StartWith("Epoch 1/1"));
    }

    private static Model Compiled()
    {
        var model = TinyModels.Mlp();
        model.Compile("sgd", "binary_crossentropy");
        return model;
    }

    /// <summary>Records each hook as "name hook index" and writes its name into the logs it is given.</summary>
    private sealed class Probe(string name, List<string> calls) : Callback
    {
        public List<string[]> SawEntriesOf { get; } = new();

        public override void SetContext(Model model, IReadOnlyDictionary<string, object> parameters)
        {
            base.SetContext(model, parameters);
            calls.Add($"{name} set_context {parameters["epochs"]}");
        }

        public override void OnTrainBegin(Dictionary<string, double> logs) => Record("train_begin", logs);

        public override void OnTrainEnd(Dictionary<string, double> logs) => Record("train_end", logs);

        public override void OnEpochBegin(int epoch, Dictionary<string, double> logs) => Record($"epoch_begin {epoch}", logs);

        public override void OnEpochEnd(int epoch, Dictionary<string, double> logs) => Record($"epoch_end {epoch}", logs);

        public override void OnBatchBegin(int batch, Dictionary<string, double> logs) => Record($"batch_begin {batch}", logs);

        public override void OnBatchEnd(int batch, Dictionary<string, double> logs) => Record($"batch_end {batch}", logs);

        private void Record(string hook, Dictionary<string, double> logs)
        {
            calls.Add($"{name} {hook}");
            SawEntriesOf.Add(logs.Keys.ToArray());
            logs[name] = 1;
        }
    }
}
