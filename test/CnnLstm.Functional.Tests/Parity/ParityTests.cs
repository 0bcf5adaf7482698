using System.Globalization;
using KerasStyle.Models;

namespace KerasStyle.Tests.Parity;

/// <summary>
/// Numerical parity with TensorFlow.js (@tensorflow/tfjs, CPU backend): every fixture under Parity/Fixtures, made by
/// tools/parity/generate.js, is rebuilt with the public API, given the same weights (Keras layout and order), run on
/// the same inputs, and trained for the same steps. Forward outputs and losses must agree to 1e-5, weights after
/// training steps to 1e-4. The worst difference of every case is printed as a table at the end
/// (<c>dotnet test --filter FullyQualifiedName~Parity --logger "console;verbosity=detailed"</c>).
/// </summary>
[NonParallelizable]
public class ParityTests
{
    private static string referenceVersion = "?";

    public static IEnumerable<TestCaseData> ForwardCases() =>
        ParityFixture.CaseNames().Where(n => !n.StartsWith("train_", StringComparison.Ordinal)).Select(n => new TestCaseData(n).SetName($"Forward_{n}"));

    public static IEnumerable<TestCaseData> TrainingCases() =>
        ParityFixture.CaseNames().Where(n => n.StartsWith("train_", StringComparison.Ordinal)).Select(n => new TestCaseData(n).SetName($"Training_{n}"));

    [SetUp]
    public void ClearSession() => Backend.ClearSession();

    [OneTimeTearDown]
    public void PrintTable()
    {
        TestContext.Progress.Write(ParityReport.Table(referenceVersion));
    }

    [Test]
    public void Fixtures_AreAllCoveredAndFromTfjs4220()
    {
        var files = Directory.GetFiles(ParityFixture.Folder, "*.json").Select(Path.GetFileNameWithoutExtension).Where(n => n != "index").Order(StringComparer.Ordinal);
        Assert.That(files, Is.EqualTo(ParityFixture.CaseNames().Order(StringComparer.Ordinal)), "every fixture file is listed in index.json and the other way round");
        Assert.That(ParityFixture.Load("embedding").ReferenceVersion, Is.EqualTo("4.22.0"));
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void Forward(string name)
    {
        var fixture = ParityFixture.Load(name);
        referenceVersion = fixture.ReferenceVersion;
        using var model = ParityModels.Build(fixture);
        var forward = fixture.Root.GetProperty("forward").EnumerateArray().ToArray();
        Assert.That(forward, Is.Not.Empty);
        foreach (var batch in forward)
        {
            var size = batch.GetProperty("batch_size").GetInt32();
            var inputs = batch.GetProperty("inputs").EnumerateArray().Select(StoredTensor.Read).Select(t => t.ToArray()).ToArray();
            var expected = batch.GetProperty("outputs").EnumerateArray().Select(StoredTensor.Read).ToArray();
            var actual = model.Predict(inputs, batchSize: size);
            Assert.That(actual, Has.Count.EqualTo(expected.Length), $"{name}: output count");
            for (var o = 0; o < expected.Length; o++)
            {
                Assert.That(ParityAssert.ShapeOf(actual[o]), Is.EqualTo(expected[o].Shape), $"{name}: output {o} shape, batch {size}");
                ParityAssert.Within(name, string.Create(CultureInfo.InvariantCulture, $"forward b={size} output {o}"), expected[o].Floats!, ParityAssert.Flatten(actual[o]), expected[o].Shape, ParityAssert.ForwardTolerance);
            }

            // Predict splits the samples into batches and concatenates the results: the same values, batch by batch.
            if (size > 1)
            {
                var chunk = (size + 1) / 2;
                var chunked = model.Predict(inputs, batchSize: chunk);
                for (var o = 0; o < expected.Length; o++)
                {
                    ParityAssert.Within(name, string.Create(CultureInfo.InvariantCulture, $"forward b={size} in batches of {chunk} output {o}"), expected[o].Floats!, ParityAssert.Flatten(chunked[o]), expected[o].Shape, ParityAssert.ForwardTolerance);
                }
            }
        }
    }

    [TestCaseSource(nameof(TrainingCases))]
    public void Training(string name)
    {
        var fixture = ParityFixture.Load(name);
        referenceVersion = fixture.ReferenceVersion;
        var training = fixture.Training;
        var x = StoredTensor.Read(training.GetProperty("x")).ToArray();
        var y = StoredTensor.Read(training.GetProperty("y")).ToArray();
        var loss = training.GetProperty("loss").GetString()!;
        var steps = training.GetProperty("steps").EnumerateArray().ToArray();

        // Step by step with TrainOnBatch: the loss each step reports (before its update), the weights after it.
        using (var model = ParityModels.Build(fixture))
        {
            model.Compile(ParityModels.CreateOptimizer(training.GetProperty("optimizer")), loss);
            foreach (var step in steps)
            {
                var number = step.GetProperty("step").GetInt32();
                var logs = model.TrainOnBatch(x, y);
                ParityAssert.ScalarWithin(name, $"trainOnBatch loss step {number}", step.GetProperty("loss").GetDouble(), logs["loss"], ParityAssert.ForwardTolerance);
                if (step.TryGetProperty("weights", out var weights))
                {
                    CompareWeights(name, $"trainOnBatch weights step {number}", weights, model);
                }
            }
        }

        // The same steps as epochs of Fit over the one batch, unshuffled.
        Backend.ClearSession();
        using (var model = ParityModels.Build(fixture))
        {
            model.Compile(ParityModels.CreateOptimizer(training.GetProperty("optimizer")), loss);
            var batch = x.GetLength(0);
            var history = model.Fit(x, y, batchSize: batch, epochs: steps.Length, verbose: 0, shuffle: false);
            for (var i = 0; i < steps.Length; i++)
            {
                ParityAssert.ScalarWithin(name, $"fit loss epoch {i + 1}", steps[i].GetProperty("loss").GetDouble(), history["loss"][i], ParityAssert.ForwardTolerance);
            }

            CompareWeights(name, $"fit weights step {steps.Length}", steps[^1].GetProperty("weights"), model);
            var predictions = StoredTensor.Read(training.GetProperty("final_predictions"));
            ParityAssert.Within(name, "fit predictions after training", predictions.Floats!, ParityAssert.Flatten(model.Predict(x, batchSize: batch)), predictions.Shape, ParityAssert.WeightTolerance);
        }
    }

    private static void CompareWeights(string name, string check, System.Text.Json.JsonElement stored, Model model)
    {
        var expected = stored.EnumerateArray().ToArray();
        var actual = model.GetWeights();
        var names = model.Layers.SelectMany(l => l.Weights.Select(w => $"{w.Layer.Name}/{w.Name}")).ToArray();
        Assert.That(actual, Has.Count.EqualTo(expected.Length), $"{name}: weight count");
        for (var i = 0; i < expected.Length; i++)
        {
            var data = Convert.FromBase64String(expected[i].GetProperty("data").GetString()!);
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray();
            var label = $"{expected[i].GetProperty("layer").GetString()}/{expected[i].GetProperty("name").GetString()}";
            ParityAssert.Within(name, $"{check} {label} (KerasStyle {names[i]})", values, actual[i].Data, actual[i].Shape, ParityAssert.WeightTolerance);
        }
    }
}
