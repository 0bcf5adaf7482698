using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using KerasStyle.Datasets;

namespace KerasStyle.Tests.Examples;

/// <summary>End to end: the built examples program on the real shared data, with short runs.</summary>
public class ExamplesProgramTests
{
    private static readonly byte[] PngSignature = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    private static readonly string[] Reviews = { "a wonderful film", "a dull boring film" };

    private DirectoryInfo scratch = null!;
    private ProgramRun? sentimentRun;

    private string SentimentModel => Path.Combine(scratch.FullName, "sentiment-model.keras");

    [OneTimeSetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-examples-");

    [OneTimeTearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    [Test]
    public void Regression_TwoEpochs_PrintsResultLineAndWritesThePng()
    {
        var plot = Path.Combine(scratch.FullName, "regression.png");

        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null,
            "regression", "--epochs", "2", "--verbose", "0", "--plot", plot, "--data", TestPaths.SharedData);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Stdout, Does.Contain("Airline passengers: 144 months (1949-01 to 1960-12)"), run.ToString());
        var results = run.StdoutLines.Where(l => l.StartsWith("result ", StringComparison.Ordinal)).ToArray();
        Assert.That(results, Has.Length.EqualTo(1), run.ToString());
        var result = Regex.Match(results[0],
            @"^result task=regression train_rmse=(?<train>\d+\.\d{3}) test_rmse=(?<test>\d+\.\d{3}) naive_test_rmse=(?<naive>\d+\.\d{3}) seconds=(?<seconds>\d+\.\d)$");
        Assert.That(result.Success, Is.True, results[0]);
        Assert.That(double.Parse(result.Groups["train"].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0));
        Assert.That(double.Parse(result.Groups["test"].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0));
        Assert.That(result.Groups["naive"].Value, Is.EqualTo(NaiveTestRmse().ToString("F3", CultureInfo.InvariantCulture)));

        Assert.That(File.Exists(plot), Is.True, $"{plot} was not written");
        var png = File.ReadAllBytes(plot);
        Assert.That(png[..8], Is.EqualTo(PngSignature));
        // IHDR: width and height, big-endian, right after the signature and the chunk's length and type.
        Assert.That((BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))), Is.EqualTo((900, 800)));
    }

    [Test]
    public void Sentiment_OnTwoHundredReviews_PrintsResultLineAndSavesTheModel()
    {
        var run = Sentiment();

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("200 train sequences").And.Contain("200 test sequences"), run.ToString());
        Assert.That(run.StdoutLines, Does.Contain("x_train shape: (200, 100)").And.Contain("x_test shape: (200, 100)"), run.ToString());
        var results = run.StdoutLines.Where(l => l.StartsWith("result ", StringComparison.Ordinal)).ToArray();
        Assert.That(results, Has.Length.EqualTo(1), run.ToString());
        var result = Regex.Match(results[0],
            @"^result task=sentiment architecture=seed test_loss=(?<loss>\d+\.\d{4}) test_accuracy=(?<accuracy>\d\.\d{4}) train_seconds=(?<seconds>\d+\.\d) seconds_per_epoch=\d+\.\d samples_per_second=(?<rate>\d+\.\d) data=memory peak_working_set_mb=\d+$");
        Assert.That(result.Success, Is.True, results[0]);
        Assert.That(double.Parse(result.Groups["accuracy"].Value, CultureInfo.InvariantCulture), Is.InRange(0.0, 1.0));
        Assert.That(double.Parse(result.Groups["rate"].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0));
        Assert.That(new FileInfo(SentimentModel).Length, Is.GreaterThan(0), "the saved weights");
    }

    [Test]
    public void Sentiment_AttentionArchitecture_OnTwoHundredReviews_PrintsAttentionResultLineAndSavesTheModel()
    {
        var model = Path.Combine(scratch.FullName, "attention.keras");
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null,
            "sentiment", "--architecture", "attention", "--limit", "200", "--epochs", "1", "--verbose", "0", "--output", model, "--data", TestPaths.SharedData);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.Stdout, Does.Contain("self_attention (Attention)"), "the summary shows the Attention layer: " + run);
        var result = Regex.Match(run.StdoutLines.Single(l => l.StartsWith("result ", StringComparison.Ordinal)),
            @"^result task=sentiment architecture=attention test_loss=\d+\.\d{4} test_accuracy=(?<accuracy>\d\.\d{4}) train_seconds=\d+\.\d seconds_per_epoch=\d+\.\d samples_per_second=\d+\.\d data=memory peak_working_set_mb=\d+$");
        Assert.That(result.Success, Is.True, run.ToString());
        Assert.That(double.Parse(result.Groups["accuracy"].Value, CultureInfo.InvariantCulture), Is.InRange(0.0, 1.0));
        Assert.That(new FileInfo(model).Length, Is.GreaterThan(0), "the saved model");
    }

    [Test]
    public void Sentiment_UnknownArchitecture_IsRefusedNamingTheChoices()
    {
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null,
            "sentiment", "--architecture", "transformer", "--limit", "10", "--epochs", "1", "--data", TestPaths.SharedData);

        Assert.That(run.ExitCode, Is.Not.EqualTo(0), run.ToString());
        Assert.That(run.Stderr, Does.Contain("transformer").And.Contain("attention"), run.ToString());
    }

    [Test]
    public void Sentiment_Streamed_OnTwoHundredReviews_PrintsResultLineWithPeakWorkingSet()
    {
        var model = Path.Combine(scratch.FullName, "streamed.keras");
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null,
            "sentiment", "--stream", "--limit", "200", "--epochs", "1", "--verbose", "0", "--output", model, "--data", TestPaths.SharedData);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Has.Some.EqualTo("200 train sequences (streamed, 7 batches)"), run.ToString());
        Assert.That(run.StdoutLines, Has.One.Match(@"^result task=sentiment architecture=seed test_loss=\d+\.\d{4} test_accuracy=\d\.\d{4} train_seconds=\d+\.\d seconds_per_epoch=\d+\.\d samples_per_second=\d+\.\d data=stream peak_working_set_mb=\d+$"), run.ToString());
        Assert.That(new FileInfo(model).Length, Is.GreaterThan(0));
    }

    [Test]
    public void Predict_WithTheSavedModel_PrintsProbabilityAndLabelPerReview()
    {
        Assert.That(Sentiment().ExitCode, Is.EqualTo(0), Sentiment().ToString());

        // The data folder from KERASSTYLE_DATA this time.
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData,
            "predict", "--model", SentimentModel, Reviews[0], Reviews[1]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Has.Length.EqualTo(2), run.ToString());
        for (var i = 0; i < Reviews.Length; i++)
        {
            var line = Regex.Match(run.StdoutLines[i], @"^(?<p>[01]\.\d{4})\t(?<label>positive|negative)\t(?<text>.*)$");
            Assert.That(line.Success, Is.True, run.StdoutLines[i]);
            var probability = double.Parse(line.Groups["p"].Value, CultureInfo.InvariantCulture);
            Assert.That(probability, Is.InRange(0.0, 1.0));
            Assert.That(line.Groups["label"].Value, Is.EqualTo(probability > 0.5 ? "positive" : "negative"), run.StdoutLines[i]);
            Assert.That(line.Groups["text"].Value, Is.EqualTo(Reviews[i]));
        }
    }

    [Test]
    public void Export_ThenPredictOnTheOnnxFile_PrintsWhatPredictPrintsOnTheKerasFile()
    {
        Assert.That(Sentiment().ExitCode, Is.EqualTo(0), Sentiment().ToString());
        var onnx = Path.Combine(scratch.FullName, "sentiment.onnx");

        var export = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null, "export", "--model", SentimentModel, "--output", onnx);
        Assert.That(export.ExitCode, Is.EqualTo(0), export.ToString());
        Assert.That(export.StdoutLines, Has.Some.Match(@"^input   \S+ int64 \(batch, 100\)$"), export.ToString());
        Assert.That(export.StdoutLines, Has.Some.Match(@"^output  \S+ float32 \(batch, 1\)$"), export.ToString());
        Assert.That(export.StdoutLines, Has.Some.StartsWith("opset   ai.onnx 17 (IR 8)"), export.ToString());
        Assert.That(export.StdoutLines, Has.Some.Match($@"^size    {new FileInfo(onnx).Length} bytes"), export.ToString());

        var fromKeras = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, "predict", "--model", SentimentModel, Reviews[0], Reviews[1]);
        var fromOnnx = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, "predict", "--model", onnx, Reviews[0], Reviews[1]);
        Assert.That(fromOnnx.ExitCode, Is.EqualTo(0), fromOnnx.ToString());
        Assert.That(fromOnnx.StdoutLines, Is.EqualTo(fromKeras.StdoutLines), fromOnnx.ToString());
    }

    [Test]
    public void ExportAndPredict_WithBadModelFiles_PrintOneLineAndExitWithTwo()
    {
        Assert.That(Sentiment().ExitCode, Is.EqualTo(0), Sentiment().ToString());
        var truncatedKeras = Path.Combine(scratch.FullName, "truncated.keras");
        File.WriteAllBytes(truncatedKeras, File.ReadAllBytes(SentimentModel)[..1000]);
        var truncatedOnnx = Path.Combine(scratch.FullName, "truncated.onnx");
        File.WriteAllBytes(truncatedOnnx, new byte[] { 0x08, 0x08, 0x12 });
        var runs = new[]
        {
            ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null, "export", "--model", SentimentModel, "--output", Path.Combine(scratch.FullName, "missing", "x.onnx")),
            ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null, "export", "--model", truncatedKeras, "--output", Path.Combine(scratch.FullName, "x.onnx")),
            ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, "predict", "--model", truncatedOnnx, "fine"),
        };

        foreach (var run in runs)
        {
            Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
            Assert.That(run.Stderr, Does.Not.Contain("   at "), "no stack trace: " + run);
            Assert.That(run.Stderr.Trim(), Is.Not.Empty, run.ToString());
        }
    }

    [Test]
    public void Predict_OneReview_WritesNoLibtorchNoiseToStandardError()
    {
        Assert.That(Sentiment().ExitCode, Is.EqualTo(0), Sentiment().ToString());

        // One sample: libtorch would probe NNPACK here, which printed "Could not initialize NNPACK!" on AMD Zen 5.
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, "predict", "--model", SentimentModel, Reviews[0]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(OtherThanLibraryWarnings(run.Stderr), Is.Empty, run.ToString());
    }

    /// <summary>
    /// Issue 27: a fresh process that uses the library before libtorch gets GOMP_SPINCOUNT=10000 in its native
    /// environment (libgomp's idle threads otherwise spin for milliseconds and take the core the library's kernels
    /// split their work onto), and a user's own GOMP_SPINCOUNT or OMP_WAIT_POLICY is left as it is; an empty one
    /// counts as unset (the variable is set, over an empty GOMP_SPINCOUNT). libgomp's own report of the spin count it
    /// read (OMP_DISPLAY_ENV=VERBOSE, on standard error as it loads) shows what took effect.
    /// </summary>
    [TestCase(null, null, "openmp spin: GOMP_SPINCOUNT=10000, set by the library", "10000")]
    [TestCase("", null, "openmp spin: GOMP_SPINCOUNT=10000, set by the library", "10000")]
    [TestCase(null, "", "openmp spin: GOMP_SPINCOUNT=10000, set by the library", "10000")]
    [TestCase("2000", null, "openmp spin: left to the user's GOMP_SPINCOUNT=2000", "2000")]
    [TestCase(null, "PASSIVE", "openmp spin: left to the user's OMP_WAIT_POLICY=PASSIVE", "0")]
    public void Doctor_OpenMpSpin_SetByTheLibraryUnlessTheUserChose(string? spinCount, string? waitPolicy, string expected, string libGompSpinCount)
    {
        var run = ChildProcess.Run(ChildProcess.DotnetHost, new[] { ExamplesProgram.Dll, "doctor" }, TimeSpan.FromMinutes(5), scratch.FullName, environment =>
        {
            foreach (var (name, value) in new[] { ("GOMP_SPINCOUNT", spinCount), ("OMP_WAIT_POLICY", waitPolicy), ("OMP_DISPLAY_ENV", "VERBOSE") })
            {
                if (value is null)
                {
                    environment.Remove(name);
                }
                else
                {
                    environment[name] = value;
                }
            }
        });

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(run.StdoutLines, Has.One.StartsWith(expected), run.ToString());
        Assert.That(run.Stderr, Does.Contain($"GOMP_SPINCOUNT = '{libGompSpinCount}'"), run.ToString());
    }

    [Test]
    public void Doctor_PrintsMachineEngineAndEveryKernelCheck()
    {
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null, "doctor");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        foreach (var prefix in new[] { "os: ", "cpu: ", "cpu isa: ", ".net: ", "kerasstyle: ", "torchsharp: 0.107.0", "libtorch: 2.10", "threads: ", "native fix: ", "openmp spin: " })
        {
            Assert.That(run.StdoutLines, Has.One.StartsWith(prefix), run.ToString());
        }

        Assert.That(run.StdoutLines, Has.One.Match(@$"^kernel checks: \d+ of {KerasStyle.Engine.KernelChecks.Kernels.Count + 8} passed$"),
            "every kernel, the convolution family's four at ranks 1, 2 and 3");
        foreach (var kernel in KerasStyle.Engine.KernelChecks.Kernels)
        {
            Assert.That(run.StdoutLines, Has.Some.Match(@$"^  {Regex.Escape(kernel)} \(.*\): (passed|FAILED), max difference \S+ \(tolerance \S+\), \d+\.\d ms"), run.ToString());
        }

        Assert.That(OtherThanLibraryWarnings(run.Stderr), Is.Empty, run.ToString());
    }

    [Test]
    public void Predict_MissingModelFile_ExitsWithTwoNamingIt()
    {
        var model = Path.Combine(scratch.FullName, "never-trained.keras");

        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, "predict", "--model", model, "fine");

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stderr, Does.Contain(model));
        Assert.That(run.Stdout, Is.Empty);
    }

    [TestCase("regression", true)]
    [TestCase("sentiment", true)]
    [TestCase("predict", true)]
    [TestCase("regression", false)]
    public void Command_WithAMissingDataFolderTheUserNamed_ExitsWithTwoNamingIt_WithoutTryingOthers(string command, bool byOption)
    {
        // A --data (or KERASSTYLE_DATA) folder that does not exist used to be skipped with a note, and the command
        // trained on the default data.
        var named = Path.Combine(scratch.FullName, "no-data-here");
        var model = Path.Combine(scratch.FullName, "placeholder.keras");
        File.WriteAllText(model, "not read");
        var args = new List<string> { command };
        if (byOption)
        {
            args.AddRange(new[] { "--data", named });
        }

        if (command == "predict")
        {
            args.AddRange(new[] { "--model", model, "a review" });
        }

        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, byOption ? TestPaths.SharedData : named, args.ToArray());

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stderr, Does.Contain($"Data folder '{named}' (from {(byOption ? "--data" : "KERASSTYLE_DATA")}) does not exist."), run.ToString());
        Assert.That(run.Stderr, Does.Not.Match(@"(?m)^\s+at "), "no stack trace");
        Assert.That(run.Stdout, Does.Not.Contain("result "));
    }

    [Test]
    public void Command_WithNoDataFolderAnywhere_ExitsWithTwoListingThePathTried()
    {
        // A copy of the program outside the repository, so that no ../shared/data beside it exists either. Only the
        // managed files are copied (no deps.json, no native libraries): the folder is resolved before any is needed.
        var app = scratch.CreateSubdirectory("app-nowhere");
        foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(ExamplesProgram.Dll)!)
                     .Where(f => !f.EndsWith(".deps.json", StringComparison.Ordinal)))
        {
            File.Copy(file, Path.Combine(app.FullName, Path.GetFileName(file)));
        }

        var run = ExamplesProgram.Run(Path.Combine(app.FullName, "CnnLstm.Examples.dll"), app.FullName, null, "regression");

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stderr, Does.Contain("No data folder found. Tried:\n(none)").And.Contain("--data DIR or KERASSTYLE_DATA"), run.ToString());
        Assert.That(run.Stderr, Does.Not.Match(@"(?m)^\s+at "), "no stack trace");
    }

    [TestCase("regression --verbose 5", "--verbose must be 0, 1 or 2.")]
    [TestCase("sentiment --verbose -1", "--verbose must be 0, 1 or 2.")]
    [TestCase("regression --dropout 1.5", "--dropout must be at least 0 and below 1, but 1.5 was given.")]
    [TestCase("regression --epochs 0", "--epochs must be at least 1.")]
    [TestCase("predict --model x.png good", "--model must be a .keras (or legacy .h5) model file or an .onnx export, but 'x.png' was given.")]
    [TestCase("regresion", "'regresion' is not a command or argument here. Did you mean 'regression'?")]
    public void BadCommandLine_PrintsOneLineAndExitsWithTwo_BeforeRunning(string commandLine, string expected)
    {
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, TestPaths.SharedData, commandLine.Split(' '));

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { expected, "Run with --help for the commands and options." }), run.ToString());
        Assert.That(run.Stdout, Is.Empty, "nothing ran and no help was printed");
    }

    [Test]
    public void Regression_DataFolderWithoutTheSeries_ExitsWithTwoNamingTheMissingFile()
    {
        var empty = scratch.CreateSubdirectory("empty-data");

        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null, "regression", "--data", empty.FullName);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.Stderr, Does.Contain(empty.FullName).And.Contain("timeseries/airline-passengers.csv"), run.ToString());
    }

    /// <summary>Standard error without the library's own kernel-check warnings, which a CPU with a wrong kernel shows.</summary>
    private static string[] OtherThanLibraryWarnings(string stderr) =>
        stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0 && !l.StartsWith("Warning: kernel check failed", StringComparison.Ordinal)).ToArray();

    // The naive forecast (next month = this month) over the test windows, computed here from the series: the first
    // 67% of months train, the test windows start 3 months later.
    private static double NaiveTestRmse()
    {
        var (_, passengers) = CsvSeries.Read(TestPaths.DataFile("timeseries/airline-passengers.csv"));
        var firstTarget = (int)(passengers.Count * 0.67) + 3;
        var errors = Enumerable.Range(firstTarget, passengers.Count - firstTarget).Select(t => passengers[t] - passengers[t - 1]).ToArray();
        Assert.That(errors, Has.Length.EqualTo(45));
        return Math.Sqrt(errors.Average(e => e * e));
    }

    private ProgramRun Sentiment() => sentimentRun ??= ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null,
        "sentiment", "--limit", "200", "--epochs", "1", "--verbose", "0", "--output", SentimentModel, "--data", TestPaths.SharedData);
}
