using System.Text.Json.Nodes;

namespace KerasStyle.Tests.Datasets;

/// <summary>Keras 3.16's values for the data utilities (tools/keras-fixtures/data_utils.py).</summary>
internal static class DataUtilsFixture
{
    private static readonly Lazy<JsonNode> Root = new(() => JsonNode.Parse(File.ReadAllText(
        Path.Combine(TestContext.CurrentContext.TestDirectory, "Datasets", "KerasFixtures", "data_utils.json")))!);

    public static JsonNode Get(string key) => Root.Value[key]!;
}
