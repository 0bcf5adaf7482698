using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KerasStyle.Models;
using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Consumers;

/// <summary>
/// docs/deploying.md's ASP.NET Core server (the blocks after <c>&lt;!-- deploying-csproj --&gt;</c> and
/// <c>&lt;!-- deploying-example --&gt;</c>) built as a web project of its own, which references ONNX Runtime and not
/// this library, serving an exported sentiment model: its scores are Predict's, and malformed requests get 400.
/// </summary>
[NonParallelizable]
public class OnnxServingExampleTests
{
    private const string Doc = "docs/deploying.md";

    private static readonly string[] Reviews =
    {
        "A wonderful film with great acting; I loved every minute of it.",
        "The worst movie I have ever seen: dull, far too long and badly acted.",
    };

    [Test]
    public async Task WebProject_FromDeployingMd_ServesTheExportedModelAsPredictDoes()
    {
        var directory = Directory.CreateTempSubdirectory("ks-serving-").FullName;
        Process? server = null;
        var log = new StringBuilder();
        try
        {
            Utils.SetRandomSeed(7);
            using var model = CnnLstmModels.Sentiment();
            var tokens = Tokens();
            var expected = model.Predict<float[,]>(tokens);
            var modelPath = Path.Combine(directory, "sentiment.onnx");
            model.Export(modelPath);

            File.WriteAllText(Path.Combine(directory, "SentimentServer.csproj"), ConsumerProjects.MarkedBlock(Doc, "<!-- deploying-csproj -->", "xml"));
            File.WriteAllText(Path.Combine(directory, "Program.cs"), ConsumerProjects.MarkedBlock(Doc, "<!-- deploying-example -->"));
            var build = ConsumerProjects.Dotnet(directory, "build", "-c", "Release", "-p:TreatWarningsAsErrors=true");
            Assert.That(build.ExitCode, Is.EqualTo(0), build.Output);

            server = StartServer(directory, modelPath, log, out var listening);
            var address = await listening.WaitAsync(TimeSpan.FromMinutes(1));
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

            var rows = Enumerable.Range(0, tokens.GetLength(0)).Select(i => Enumerable.Range(0, tokens.GetLength(1)).Select(j => tokens[i, j]).ToArray()).ToArray();
            var (status, body) = await Post(client, JsonSerializer.Serialize(new { tokens = rows }));
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
            var scores = JsonDocument.Parse(body).RootElement.GetProperty("scores").EnumerateArray().Select(s => s.GetSingle()).ToArray();
            Assert.That(scores, Is.EqualTo(Enumerable.Range(0, rows.Length).Select(i => expected[i, 0]).ToArray()).Within(1e-5), body);
            Assert.That(scores.Max() - scores.Min(), Is.GreaterThan(1e-4), "the rows score differently, so the comparison tells them apart");

            // One row alone: the batch axis is dynamic.
            (status, body) = await Post(client, JsonSerializer.Serialize(new { tokens = rows[1..2] }));
            Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body);
            Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("scores")[0].GetSingle(), Is.EqualTo(expected[1, 0]).Within(1e-5), body);

            var shortRow = rows[0][1..];
            var tooLarge = rows[0].ToArray();
            tooLarge[^1] = 20000;
            var malformed = new (string Body, string Error)[]
            {
                (JsonSerializer.Serialize(new { tokens = new[] { rows[0], shortRow } }), "tokens[1] has 99 ids; the model takes exactly 100"),
                (JsonSerializer.Serialize(new { tokens = new[] { tooLarge } }), "tokens[0][99] is 20000"),
                (JsonSerializer.Serialize(new { tokens = Array.Empty<int[]>() }), "'tokens' must hold 1 to 64 rows"),
                ("{\"tokens\": [[1.5, 2]]}", "could not be converted to System.Int32"),
                ("{\"tokens\": [[1, 2", "Expected a JSON body"),
                ("{}", "'tokens' must hold"),
            };
            foreach (var (request, error) in malformed)
            {
                (status, body) = await Post(client, request);
                Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), $"{request}: {body}");
                Assert.That(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), Does.Contain(error), request);
            }

            Assert.That(server.HasExited, Is.False, "the server is still up after the bad requests");
        }
        catch (Exception) when (log.Length > 0)
        {
            TestContext.Out.WriteLine($"Server output:\n{Snapshot(log)}");
            throw;
        }
        finally
        {
            if (server is not null)
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                }

                server.WaitForExit();
                server.Dispose();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The two reviews encoded as the examples encode them, and a row of ids drawn from the whole vocabulary.</summary>
    private static int[,] Tokens()
    {
        var encoder = new ImdbEncoder(ImdbEncoder.LoadWordIndex(TestPaths.DataFile("imdb/imdb_word_index.json")), numWords: 20000);
        var random = new Random(3);
        var sequences = Reviews.Select(encoder.Encode).Append(Enumerable.Range(0, 100).Select(_ => random.Next(20000)).ToArray()).ToArray();
        return Sequences.PadSequences(sequences, maxLen: 100);
    }

    /// <summary>Starts the built server on a free loopback port; <paramref name="listening"/> completes with its address.</summary>
    private static Process StartServer(string directory, string modelPath, StringBuilder log, out Task<Uri> listening)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(directory, "bin", "Release", "net10.0", "SentimentServer.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");   // Kestrel picks the port and logs it
        start.Environment["ModelPath"] = modelPath;

        var address = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Received(e.Data);
        process.ErrorDataReceived += (_, e) => Received(e.Data);
        process.Exited += (_, _) => address.TrySetException(new InvalidOperationException($"The server exited before it listened:\n{Snapshot(log)}"));
        process.EnableRaisingEvents = true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        listening = address.Task;
        return process;

        void Received(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(line);
            }

            var match = Regex.Match(line, @"Now listening on: (http://\S+)");
            if (match.Success)
            {
                address.TrySetResult(new Uri(match.Groups[1].Value));
            }
        }
    }

    private static string Snapshot(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)> Post(HttpClient client, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/predict", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
