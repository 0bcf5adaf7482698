using System.Globalization;
using System.Text.RegularExpressions;

namespace KerasStyle.Tests.Examples;

/// <summary><c>predict-profile</c> (issue 27) runs to the end and compares the same outputs on both sides.</summary>
public class PredictProfileCommandTests
{
    private DirectoryInfo scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-examples-profile-");

    [TearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    [Test]
    public void PredictProfileQuick_Regression_PrintsEveryStageAndAgreesWithOnnxRuntime()
    {
        var run = ExamplesProgram.Run(ExamplesProgram.Dll, scratch.FullName, null, "predict-profile", "--quick", "--model", "regression");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        var difference = Regex.Match(run.Stdout, @"regression: ONNX Runtime (\S+) from Predict");
        Assert.That(difference.Success, run.ToString());
        Assert.That(double.Parse(difference.Groups[1].Value, CultureInfo.InvariantCulture), Is.LessThan(1e-5));
        foreach (var stage in new[] { "onnx", "predict", "predict_tensors", "graph", "to_tensor", "to_array", "layer3_lstm" })
        {
            Assert.That(run.Stdout, Does.Contain($" {stage}"), stage);
        }

        Assert.That(run.Stdout, Does.Match(@"profile regression_batch_ratio=\d+\.\d\d regression_latency_ratio=\d+\.\d\d"));
        Assert.That(run.Stdout, Does.Not.Contain("sentiment"));
    }
}
