namespace KerasStyle.Tests.Consumers;

/// <summary>The streaming example of docs/training.md ("Data larger than memory") builds and trains, so the copy a user takes works.</summary>
[NonParallelizable]
public class TrainingDocsExampleTests
{
    [Test]
    public void StreamingExample_BuildsAndTrainsFromAFileOfFloats()
    {
        var directory = Directory.CreateTempSubdirectory("kerasstyle-streaming-example-").FullName;
        try
        {
            var series = Enumerable.Range(0, 2000).Select(t => (float)Math.Sin(t / 10.0)).ToArray();
            var bytes = new byte[series.Length * sizeof(float)];
            Buffer.BlockCopy(series, 0, bytes, 0, bytes.Length);
            File.WriteAllBytes(Path.Combine(directory, "series.f32"), bytes);
            var program = ConsumerProjects.BuildConsole(directory, ConsumerProjects.MarkedBlock("docs/training.md", "training-streaming-example"));

            var run = ConsumerProjects.Dotnet(directory, program);

            Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
            Assert.That(run.Output, Does.Contain("Epoch 5/5").And.Contain("32/32"), run.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
