using KerasStyle.Training;
using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training;

public class ProgressBarTests
{
    private static readonly KeyValuePair<string, double>[] LossAndAccuracy =
    {
        new("loss", 0.389641),
        new("accuracy", 0.821512),
    };

    [Test]
    public void Format_Done_IsKeras2FinalBarLine()
    {
        var values = LossAndAccuracy.Concat(new KeyValuePair<string, double>[] { new("val_loss", 0.35), new("val_accuracy", 0.84) });
        Assert.That(ProgressBar.Format(750, 750, 12.3, values),
            Is.EqualTo("750/750 [==============================] - 12s 16ms/step - loss: 0.3896 - accuracy: 0.8215 - val_loss: 0.3500 - val_accuracy: 0.8400"));
    }

    [Test]
    public void Format_NotDone_ShowsArrowAndEta()
    {
        Assert.That(ProgressBar.Format(300, 750, 3.0, LossAndAccuracy),
            Is.EqualTo("300/750 [===========>..................] - ETA: 4s - loss: 0.3896 - accuracy: 0.8215"));
    }

    [Test]
    public void Format_CountIsRightAlignedToTheTargetWidth_AndAnEmptyBarHasNoArrow()
    {
        Assert.That(ProgressBar.Format(5, 750, 0.05, Array.Empty<KeyValuePair<string, double>>()),
            Is.EqualTo("  5/750 [..............................] - ETA: 7s"));
    }

    [TestCase(65.5, "1:05")]
    [TestCase(3665.2, "1:01:05")]
    [TestCase(59.9, "59s")]
    public void Format_Eta_UsesKerasForms(double eta, string expected)
    {
        // One step of two done, so the ETA equals the elapsed time.
        Assert.That(ProgressBar.Format(1, 2, eta, Array.Empty<KeyValuePair<string, double>>()),
            Is.EqualTo($"1/2 [==============>...............] - ETA: {expected}"));
    }

    [TestCase(1.5, "2s 2s/step")]
    [TestCase(0.0123, "0s 12ms/step")]
    [TestCase(0.0005, "0s 500us/step")]
    [TestCase(0.0, "0s 0s/step")]
    public void Format_TimePerStep_UsesSecondsMillisecondsOrMicroseconds(double seconds, string expected)
    {
        Assert.That(ProgressBar.Format(1, 1, seconds, Array.Empty<KeyValuePair<string, double>>()),
            Is.EqualTo($"1/1 [==============================] - {expected}"));
    }

    [TestCase(0.000123, "1.2300e-04")]
    [TestCase(0.001, "1.0000e-03")]
    [TestCase(0.0, "0.0000e+00")]
    [TestCase(-0.0005, "-5.0000e-04")]
    [TestCase(-0.5, "-0.5000")]
    [TestCase(12345.67891, "12345.6789")]
    [TestCase(double.NaN, "nan")]
    [TestCase(double.PositiveInfinity, "inf")]
    [TestCase(double.NegativeInfinity, "-inf")]
    public void Format_Values_AreFourDecimals_OrFourDigitExponentAtMost1e3(double value, string expected)
    {
        Assert.That(ProgressBar.Format(1, 1, 1, new KeyValuePair<string, double>[] { new("loss", value) }),
            Does.EndWith($" - loss: {expected}"));
    }

    [Test]
    public void Format_Verbose2_IsCountTimeValuesThenTimePerEpochAndStep()
    {
        Assert.That(ProgressBar.Format(750, 750, 12.3, LossAndAccuracy, withBar: false),
            Is.EqualTo("750/750 - 12s - loss: 0.3896 - accuracy: 0.8215 - 12s/epoch - 16ms/step"));
    }

    [Test]
    public void Format_Verbose2_PrintsNegativeValuesInExponentForm_AsKeras()
    {
        // tf.keras compares 'avg > 1e-3' (no abs) in verbose 2.
        Assert.That(ProgressBar.Format(1, 1, 0.4, new KeyValuePair<string, double>[] { new("loss", -0.5) }, withBar: false),
            Is.EqualTo("1/1 - 0s - loss: -5.0000e-01 - 400ms/epoch - 400ms/step"));
    }

    [Test]
    public void Format_FinalizedEarly_ShowsTimePerStepInsteadOfEta()
    {
        Assert.That(ProgressBar.Format(2, 5, 1.0, LossAndAccuracy, finalize: true),
            Is.EqualTo("2/5 [===========>..................] - 1s 500ms/step - loss: 0.3896 - accuracy: 0.8215"));
    }

    [Test]
    public void ProgbarLogger_TrainingStoppedMidEpoch_StillEndsTheEpochsLine()
    {
        using var model = TinyModels.Linear(new float[,] { { 1f } });
        model.Compile(new KerasStyle.Training.Optimizers.SGD(learningRate: 1000), "mse");
        using var writer = new StringWriter { NewLine = "\n" };
        using var console = new ConsoleCapture();
        var x = new float[40, 1];
        for (var i = 0; i < 40; i++)
        {
            x[i, 0] = 10;
        }

        model.Fit(x, new float[40], batchSize: 1, epochs: 1, verbose: 0, shuffle: false, callbacks: new ICallback[] { new TerminateOnNaN(), new ProgbarLogger(1, writer) });
        Assert.That(writer.ToString(), Does.Match(@"^Epoch 1/1\n *\d+/40 \[=*>?\.*\] - \d+s \d+(s|ms|us)/step - loss: (inf|nan)\n$"));
    }

    [Test]
    public void Update_NotDynamic_WritesOnlyTheFinalBarLine()
    {
        using var writer = new StringWriter { NewLine = "\n" };
        var bar = new ProgressBar(3, writer, dynamic: false);
        bar.Update(1, LossAndAccuracy);
        bar.Update(2, LossAndAccuracy);
        Assert.That(writer.ToString(), Is.Empty);
        bar.Update(3, LossAndAccuracy);
        Assert.That(writer.ToString(), Does.Match(@"^3/3 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: 0\.3896 - accuracy: 0\.8215\n$"));
    }

    [Test]
    public void Update_Verbose2_WritesOnlyTheVerbose2Line_EvenWhenDynamic()
    {
        using var writer = new StringWriter { NewLine = "\n" };
        var bar = new ProgressBar(2, writer, dynamic: true, verbose: 2);
        bar.Update(1, LossAndAccuracy);
        bar.Update(2, LossAndAccuracy);
        Assert.That(writer.ToString(), Does.Match(@"^2/2 - \d+s - loss: 0\.3896 - accuracy: 0\.8215 - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step\n$"));
    }

    [Test]
    public void Update_Dynamic_RedrawsInPlaceWithCarriageReturnsAndEndsWithNewline()
    {
        using var writer = new StringWriter { NewLine = "\n" };
        var bar = new ProgressBar(2, writer, dynamic: true);
        bar.Update(1, new KeyValuePair<string, double>[] { new("loss", 0.5), new("accuracy", 0.25) });
        bar.Update(2, new KeyValuePair<string, double>[] { new("loss", 0.5) });
        var text = writer.ToString();
        Assert.That(text, Does.StartWith("\r1/2 [==============>...............] - ETA: "));
        var final = text[text.LastIndexOf('\r')..];
        Assert.That(final, Does.Match(@"^\r2/2 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: 0\.5000 *\n$"));
        var firstLength = text.IndexOf('\r', 1);
        Assert.That(final.TrimEnd('\n').Length, Is.GreaterThanOrEqualTo(firstLength), "a shorter final line is padded over the longer one");
        Assert.That(text.Count(c => c == '\n'), Is.EqualTo(1));
    }

    [Test]
    public void Ctor_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProgressBar(-1, TextWriter.Null, false));
        Assert.Throws<ArgumentNullException>(() => new ProgressBar(1, null!, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProgressBar(1, TextWriter.Null, false, verbose: 0));
    }

    [Test]
    public void ProgbarLogger_Verbose1WithWriter_PrintsEpochHeaderAndFinalBarPerEpoch()
    {
        // Seeded: an unseeded model can end the epoch at accuracy 0, which Keras prints as 0.0000e+00.
        Utils.SetRandomSeed(2);
        var (x, y) = TinyModels.Blobs(20);
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        using var writer = new StringWriter { NewLine = "\n" };
        model.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0, validationData: (x, y), callbacks: new[] { new ProgbarLogger(1, writer) });
        var lines = writer.ToString().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(5));
        Assert.That(lines[0], Is.EqualTo("Epoch 1/2"));
        Assert.That(lines[1], Does.Match(@"^3/3 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$"));
        Assert.That(lines[2], Is.EqualTo("Epoch 2/2"));
        Assert.That(lines[4], Is.Empty);
    }

    [Test]
    public void ProgbarLogger_Verbose2_PrintsVerbose2LinePerEpoch()
    {
        // Seeded: an unseeded model can end the epoch at accuracy 0, which Keras prints as 0.0000e+00.
        Utils.SetRandomSeed(2);
        var (x, y) = TinyModels.Blobs(20);
        using var model = TinyModels.Mlp();
        model.Compile("adam", "binary_crossentropy", new[] { "accuracy" });
        using var writer = new StringWriter { NewLine = "\n" };
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, callbacks: new[] { new ProgbarLogger(2, writer) });
        Assert.That(writer.ToString(), Does.Match(@"^Epoch 1/1\n3/3 - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step\n$"));
    }
}
