using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Configs crafted to exhaust the stack or memory (issue 20): JSON nested 100,000 deep, layers calling each other in a
/// cycle, a config.json declaring a few bytes but inflating to megabytes. Each is a typed error naming what is wrong.
/// </summary>
public class HostileConfigTests : SavingTestBase
{
    private static readonly string Deep = new string('[', 100_000) + new string(']', 100_000);

    [Test]
    public void FromJson_NestedHundredThousandDeep_IsAFormatException()
    {
        Assert.That(Assert.Throws<FormatException>(() => Model.FromJson(Deep))!.Message, Does.Contain("not valid JSON").And.Contain("depth"));
        var wrapped = """{"class_name": "Functional", "config": {"layers": """ + Deep + "}}";
        Assert.That(Assert.Throws<FormatException>(() => Model.FromJson(wrapped))!.Message, Does.Contain("depth"));
    }

    [Test]
    public void Load_KerasArchiveWhoseConfigIsNestedHundredThousandDeep_IsAKerasFileException()
    {
        var path = PathOf("deep.keras");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var entry = zip.CreateEntry("config.json").Open();
            entry.Write(Encoding.UTF8.GetBytes(Deep));
        }

        Assert.That(Assert.Throws<KerasFileException>(() => Model.Load(path))!.Message, Does.Contain("config.json is not valid JSON").And.Contain("depth"));
    }

    [Test]
    public void Load_LegacyFileWhoseModelConfigIsNestedHundredThousandDeep_IsAKerasFileException() =>
        Assert.That(Assert.Throws<KerasFileException>(() => Model.Load(Path.Combine(TestContext.CurrentContext.TestDirectory, "Saving", "BreakFiles", "deep_config.h5")))!.Message,
            Does.Contain("model_config: not valid JSON").And.Contain("depth"));

    [Test]
    public void FromJson_LayersCallingEachOtherInACycle_IsAFormatExceptionNotAHang()
    {
        const string json = """
            {"class_name": "Functional", "config": {"name": "m", "layers": [
              {"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_shape": [null, 3]}, "inbound_nodes": []},
              {"class_name": "Dense", "name": "a", "config": {"name": "a", "units": 3}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["b", 0, 0]}}], "kwargs": {}}]},
              {"class_name": "Dense", "name": "b", "config": {"name": "b", "units": 3}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0, 0]}}], "kwargs": {}}]}],
              "input_layers": [["in", 0, 0]], "output_layers": [["b", 0, 0]]}}
            """;

        Assert.That(Assert.Throws<FormatException>(() => Model.FromJson(json))!.Message, Does.Contain("which is never created"));
    }

    [Test]
    public void Load_ConfigEntryInflatingFarBeyondTheSizeItDeclares_IsReadToThatSizeOnlyAndRefused()
    {
        // config.json's sizes (local header and central directory) say 100 bytes; its deflate stream makes 8 MiB. .NET
        // stops inflating at the declared size (ReadEntry would cut it off too), and the CRC-32 then fails.
        var path = PathOf("liar.keras");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var entry = zip.CreateEntry("config.json", CompressionLevel.SmallestSize).Open();
            entry.Write(new byte[8 << 20]);
        }

        var bytes = File.ReadAllBytes(path);
        for (var at = 0; at + 4 <= bytes.Length; at++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            var sizeAt = signature switch { 0x04034b50 => at + 22, 0x02014b50 => at + 24, _ => -1 };
            if (sizeAt > 0)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(sizeAt), 100);
            }
        }

        File.WriteAllBytes(path, bytes);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);

        var error = Assert.Throws<KerasFileException>(() => Model.Load(path));

        Assert.That(error!.Message, Does.Contain("config.json is corrupted: 100 bytes with CRC-32"));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - allocated, Is.LessThan(4L << 20), "the 8 MiB are never held");
    }

    [Test]
    public void FromJson_ModelsNestedEightyDeep_LoadsAndPredicts_WithinTheDepthBound()
    {
        // 80 models inside models is JSON 247 deep (three levels a model, as Keras 3 writes them): inside ModelConfig.MaxJsonDepth.
        var json = NestedModels(80);
        Assert.That(JsonDepth(json), Is.LessThanOrEqualTo(ModelConfig.MaxJsonDepth).And.GreaterThan(200));
        using var model = Model.FromJson(json);
        model.SetWeights(new[] { new KerasStyle.Layers.WeightArray(new[] { 2, 2 }, new float[] { 1, 0, 0, 1 }) });
        Assert.That((float[,])model.Predict(new float[,] { { 1.5f, -2 } }), Is.EqualTo(new float[,] { { 1.5f, -2 } }));
    }

    [Test]
    public void FromJson_ModelsNestedBeyondTheDepthBound_IsAFormatExceptionNamingTheDepth()
    {
        var json = NestedModels(90);
        Assert.That(JsonDepth(json), Is.GreaterThan(ModelConfig.MaxJsonDepth));
        Assert.That(Assert.Throws<FormatException>(() => Model.FromJson(json))!.Message, Does.Contain("not valid JSON").And.Contain("depth"));
    }

    /// <summary>A Dense(2) inside <paramref name="levels"/> functional models, each wrapping the previous one.</summary>
    private static string NestedModels(int levels)
    {
        static string Input(string name) => $$$"""{"class_name": "InputLayer", "name": "{{{name}}}", "config": {"name": "{{{name}}}", "batch_shape": [null, 2], "dtype": "float32"}, "inbound_nodes": []}""";
        static string Node(string source) => $$$"""[{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 2], "dtype": "float32", "keras_history": ["{{{source}}}", 0, 0]}}], "kwargs": {}}]""";
        var entry = $$$"""{"module": "keras.layers", "class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2, "use_bias": false}, "inbound_nodes": """ + Node("in0") + "}";
        var inner = $$$"""{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "m0", "layers": [{{{Input("in0")}}}, {{{entry}}}], "input_layers": [["in0", 0, 0]], "output_layers": [["d", 0, 0]]}""";
        for (var level = 1; level < levels; level++)
        {
            var wrapped = inner + $$$""", "name": "m{{{level - 1}}}", "inbound_nodes": """ + Node($"in{level}") + "}";
            inner = $$$"""{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"name": "m{{{level}}}", "layers": [{{{Input($"in{level}")}}}, {{{wrapped}}}], "input_layers": [["in{{{level}}}", 0, 0]], "output_layers": [["m{{{level - 1}}}", 1, 0]]}""";
        }

        return inner + "}";
    }

    private static int JsonDepth(string json)
    {
        int depth = 0, deepest = 0;
        var quoted = false;
        foreach (var c in json)
        {
            quoted ^= c == '"';
            if (!quoted && c is '{' or '[')
            {
                deepest = Math.Max(deepest, ++depth);
            }
            else if (!quoted && c is '}' or ']')
            {
                depth--;
            }
        }

        return deepest;
    }
}
