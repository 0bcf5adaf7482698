namespace KerasStyle.Tests;

/// <summary>Checks that a docs page shows a test file's example verbatim, so the documented code is the tested code.</summary>
internal static class DocExamples
{
    /// <summary>
    /// Asserts that the first <c>```csharp</c> block after the line of <paramref name="docPage"/> that names
    /// <paramref name="testFile"/> equals that file's lines between <c>// doc:begin</c> and <c>// doc:end</c>.
    /// </summary>
    /// <param name="docPage">The page under docs/, e.g. <c>saving.md</c>.</param>
    /// <param name="testFile">The file under test/CnnLstm.Functional.Tests/, as the page names it, e.g. <c>Layers/BahdanauAttention.cs</c>.</param>
    public static void AssertShownVerbatim(string docPage, string testFile)
    {
        var doc = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "docs", docPage));
        var marker = Array.FindIndex(doc, l => l.Contains(testFile, StringComparison.Ordinal));
        Assert.That(marker, Is.GreaterThanOrEqualTo(0), $"docs/{docPage} names the test file its example is copied from ({testFile})");
        var start = Array.FindIndex(doc, marker, l => l == "```csharp") + 1;
        var documented = doc[start..Array.FindIndex(doc, start, l => l == "```")];

        var source = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "test", "CnnLstm.Functional.Tests", testFile));
        var begin = Array.IndexOf(source, "// doc:begin") + 1;
        var tested = source[begin..Array.IndexOf(source, "// doc:end")];
        Assert.That(documented, Is.EqualTo(tested), $"the example in docs/{docPage} and test/.../{testFile} between doc:begin and doc:end");
    }
}
