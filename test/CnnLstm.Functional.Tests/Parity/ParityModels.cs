using KerasStyle.Engine;
using System.Globalization;
using System.Text.Json;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Training.Optimizers;

namespace KerasStyle.Tests.Parity;

/// <summary>
/// Builds a fixture's model through the public API: either the library factory of a seed model
/// (<see cref="CnnLstmModels"/>) or, from the fixture's Keras configuration, Input / layer constructors / Call /
/// new Model(inputs, outputs). Then checks the configuration and the Keras weight order, and sets the weights.
/// </summary>
internal static class ParityModels
{
    public static Model Build(ParityFixture fixture)
    {
        var model = fixture.Factory is { } factory ? FromFactory(factory) : FromGraph(fixture.Graph);
        try
        {
            CheckConfiguration(fixture, model);
            CheckWeightOrder(fixture, model);
            model.SetWeights(fixture.Weights.Select(w => w.ToWeightArray()).ToArray());
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static Optimizer CreateOptimizer(JsonElement spec)
    {
        var c = spec.GetProperty("config");
        return spec.GetProperty("class_name").GetString() switch
        {
            "Adam" => new Adam(c.GetProperty("learning_rate").GetDouble(), c.GetProperty("beta_1").GetDouble(), c.GetProperty("beta_2").GetDouble(), c.GetProperty("epsilon").GetDouble()),
            "SGD" => new SGD(c.GetProperty("learning_rate").GetDouble(), c.GetProperty("momentum").GetDouble(), c.GetProperty("nesterov").GetBoolean()),
            var other => throw new NotSupportedException($"optimizer {other}"),
        };
    }

    private static Model FromFactory(JsonElement factory)
    {
        var args = factory.GetProperty("args");
        int Int(string name, int fallback) => args.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
        double Double(string name, double fallback) => args.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;
        return factory.GetProperty("method").GetString() switch
        {
            "Sentiment" => CnnLstmModels.Sentiment(maxFeatures: Int("maxFeatures", 20000), maxLen: Int("maxLen", 100), embeddingSize: Int("embeddingSize", 128)),
            "Regression" => CnnLstmModels.Regression(dropoutRate: Double("dropoutRate", 0.25)),
            var other => throw new NotSupportedException($"factory {other}"),
        };
    }

    private static Model FromGraph(JsonElement graph)
    {
        var tensors = new Dictionary<string, KerasTensor>(StringComparer.Ordinal);
        var inputs = new List<KerasTensor>();
        foreach (var input in graph.GetProperty("inputs").EnumerateArray())
        {
            var name = input.GetProperty("name").GetString()!;
            var shape = input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var dtype = input.GetProperty("dtype").GetString() == "int32" ? DType.Int32 : DType.Float32;
            var tensor = new Input(shape, dtype, name);
            tensors[name] = tensor;
            inputs.Add(tensor);
        }

        var layers = graph.GetProperty("layers").EnumerateArray().ToDictionary(
            l => l.GetProperty("name").GetString()!,
            l => CreateLayer(l.GetProperty("class_name").GetString()!, l.GetProperty("name").GetString()!, l.GetProperty("config")),
            StringComparer.Ordinal);
        foreach (var call in graph.GetProperty("calls").EnumerateArray())
        {
            var layer = layers[call.GetProperty("layer").GetString()!];
            tensors[call.GetProperty("output").GetString()!] = layer.Call(tensors[call.GetProperty("input").GetString()!]);
        }

        var outputs = graph.GetProperty("outputs").EnumerateArray().Select(o => tensors[o.GetString()!]).ToArray();
        return new Model(inputs, outputs, name: "parity");
    }

    /// <summary>A layer from its Keras class name and configuration (snake_case keys).</summary>
    private static Layer CreateLayer(string className, string name, JsonElement c)
    {
        string Str(string key) => c.GetProperty(key).GetString()!;
        int Int(string key) => c.GetProperty(key).GetInt32();
        bool Bool(string key) => c.GetProperty(key).GetBoolean();
        // TF.js follows Keras 2.1's definitions: its hard_sigmoid is Keras 2's.
        string Act(string key) => Str(key) == "hard_sigmoid" ? Activations.Keras2HardSigmoid : Str(key);
        return className switch
        {
            "Conv1D" => new Conv1D(Int("filters"), Int("kernel_size"), Int("strides"), Str("padding"), Int("dilation_rate"), Act("activation"), Bool("use_bias"), name),
            "MaxPooling1D" => new MaxPooling1D(Int("pool_size"), Int("strides"), Str("padding"), name),
            "LSTM" => new LSTM(Int("units"), Act("activation"), Act("recurrent_activation"), Bool("use_bias"), Bool("return_sequences"), unitForgetBias: Bool("unit_forget_bias"), name: name),
            "Dense" => new Dense(Int("units"), Act("activation"), Bool("use_bias"), name),
            "Embedding" => new Embedding(Int("input_dim"), Int("output_dim"), c.TryGetProperty("input_length", out var length) ? length.GetInt32() : null, name),
            "Dropout" => new Dropout(c.GetProperty("rate").GetDouble(), name),
            "Activation" => new Activation(Act("activation"), name),
            _ => throw new NotSupportedException($"layer class {className}"),
        };
    }

    /// <summary>The layer's configuration under Keras' snake_case names.</summary>
    private static Dictionary<string, object?> Describe(Layer layer) => Keras2Names(layer switch
    {
        Conv1D l => new() { ["filters"] = l.Filters, ["kernel_size"] = l.KernelSize, ["strides"] = l.Strides, ["padding"] = l.Padding, ["dilation_rate"] = l.DilationRate, ["activation"] = l.Activation, ["use_bias"] = l.UseBias },
        MaxPooling1D l => new() { ["pool_size"] = l.PoolSize, ["strides"] = l.Strides, ["padding"] = l.Padding },
        LSTM l => new() { ["units"] = l.Units, ["activation"] = l.Activation, ["recurrent_activation"] = l.RecurrentActivation, ["use_bias"] = l.UseBias, ["return_sequences"] = l.ReturnSequences, ["unit_forget_bias"] = l.UnitForgetBias },
        Dense l => new() { ["units"] = l.Units, ["activation"] = l.Activation, ["use_bias"] = l.UseBias },
        Embedding l => new() { ["input_dim"] = l.InputDim, ["output_dim"] = l.OutputDim, ["input_length"] = l.InputLength },
        Dropout l => new() { ["rate"] = l.Rate },
        Activation l => new() { ["activation"] = l.Function },
        _ => new(),
    });

    private static Dictionary<string, object?> Keras2Names(Dictionary<string, object?> config) =>
        config.ToDictionary(kv => kv.Key, kv => kv.Value is Activations.Keras2HardSigmoid ? "hard_sigmoid" : kv.Value);

    /// <summary>The model's non-input layers have the fixture's classes, in order, and its configuration values.</summary>
    private static void CheckConfiguration(ParityFixture fixture, Model model)
    {
        var expected = fixture.Graph.GetProperty("layers").EnumerateArray().ToArray();
        var actual = model.Layers.Where(l => l is not InputLayer).ToArray();
        Assert.That(actual.Select(l => l.ClassName), Is.EqualTo(expected.Select(l => l.GetProperty("class_name").GetString())), $"{fixture.Name}: layer classes");
        for (var i = 0; i < expected.Length; i++)
        {
            var described = Describe(actual[i]);
            foreach (var property in expected[i].GetProperty("config").EnumerateObject())
            {
                Assert.That(described.ContainsKey(property.Name), Is.True, $"{fixture.Name}: {actual[i].Name} has no '{property.Name}'");
                var value = described[property.Name];
                var text = value switch
                {
                    null => "null",
                    bool b => b ? "true" : "false",
                    string s => JsonSerializer.Serialize(s),
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString(),
                };
                Assert.That(text, Is.EqualTo(property.Value.GetRawText()), $"{fixture.Name}: {actual[i].Name} config '{property.Name}'");
            }
        }
    }

    /// <summary>The model's weights, in GetWeights order, are the fixture's (TF.js getWeights order): names and shapes.</summary>
    private static void CheckWeightOrder(ParityFixture fixture, Model model)
    {
        var byName = fixture.Factory is null;
        var actual = model.Layers.SelectMany(l => l.Weights.Select(w => $"{(byName ? l.Name : l.ClassName)}/{w.Name}({string.Join(",", w.Shape)})")).ToArray();
        var classes = fixture.Graph.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!, l => l.GetProperty("class_name").GetString()!);
        var expected = fixture.Weights.Select(w => $"{(byName ? w.Layer : classes[w.Layer])}/{w.Name}({string.Join(",", w.Shape)})").ToArray();
        Assert.That(actual, Is.EqualTo(expected), $"{fixture.Name}: weights in Keras order");
    }
}
