using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Layers.Recurrent;

/// <summary>
/// Keras 2's CuDNNLSTM and CuDNNGRU: loaded as LSTM / GRU(reset_after=True) with their weights converted as Keras 2's
/// <c>_convert_rnn_weights</c> converts them.
/// </summary>
[TestFixture]
public class CuDNNTests
{
    private static readonly string Fixtures = Path.Combine(TestContext.CurrentContext.TestDirectory, "Layers", "KerasFixtures", "cudnn");

    private static string RealModels => Path.GetFullPath(Path.Combine(TestPaths.RepositoryRoot, "..", "shared", "real-models", "set2"));

    /// <summary>The published CuDNNLSTM models predict what ../shared/real-models/set2/ORACLE.txt's oracle predicted.</summary>
    [TestCase("xingxiaoxuan__anomaly-detection__attention_model.h5")]
    [TestCase("xingxiaoxuan__anomaly-detection__cool.h5")]
    [TestCase("xingxiaoxuan__anomaly-detection__multi_attention_model.h5")]
    public void RealCuDNNLSTMFiles_PredictAsKeras(string name)
    {
        var file = Path.Combine(RealModels, name);
        if (!Directory.Exists(RealModels))
        {
            Assert.Ignore($"{RealModels} is absent.");
        }

        using var model = Model.Load(file, compile: false);
        var inputs = new List<Array> { NpyFile.Read(file + ".x.npy") };
        for (var i = 1; File.Exists($"{file}.x{i}.npy"); i++)
        {
            inputs.Add(NpyFile.Read($"{file}.x{i}.npy"));
        }

        var actual = Flat(model.Predict(inputs.ToArray())[0]);
        var expected = Flat(NpyFile.Read(file + ".y.npy"));
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.That(actual[k], Is.EqualTo(expected[k]).Within(1e-4 * Math.Max(1, Math.Abs(expected[k]))), $"value {k}");
        }

        Assert.That(model.Layers.Where(l => l is CuDNNLSTM).Select(l => l.ClassName), Is.Not.Empty.And.All.EqualTo("LSTM"));
    }

    /// <summary>
    /// A Keras 2.2.4 file with CuDNNGRU and Bidirectional(CuDNNLSTM) (tools/keras-fixtures/cudnn.py) predicts what Keras 3
    /// predicts for GRU / LSTM holding the weights converted by Keras 2's code; saved, it reloads as GRU and LSTM.
    /// </summary>
    [Test]
    public void CuDNNGruAndBidirectionalCuDNNLstm_PredictAsConvertedKeras2Weights_AndSaveAsGruLstm()
    {
        var fixture = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures, "cudnn-keras2.json")))!;
        var x = To3D(fixture["x"]!.AsArray());
        var expected = fixture["y"]!.AsArray().Select(row => row![0]!.GetValue<double>()).ToArray();
        using var model = Model.Load(Path.Combine(Fixtures, "cudnn-keras2.h5"), compile: false);
        Assert.That(model.Layers[0], Is.InstanceOf<CuDNNGRU>());
        var bidirectional = (Bidirectional)model.Layers[1];
        Assert.That(bidirectional.ForwardLayer, Is.InstanceOf<CuDNNLSTM>());
        Assert.That(Flat(model.Predict(x)), Is.EqualTo(expected).Within(1e-5));

        var dir = Directory.CreateTempSubdirectory("cudnn").FullName;
        try
        {
            foreach (var saved in new[] { Path.Combine(dir, "m.h5"), Path.Combine(dir, "m.keras") })
            {
                model.Save(saved);
                using var again = Model.Load(saved, compile: false);
                Assert.That(again.Layers[0], Is.InstanceOf<GRU>(), saved);
                Assert.That(((GRU)again.Layers[0]).ResetAfter, Is.True);
                Assert.That(((Bidirectional)again.Layers[1]).ForwardLayer, Is.InstanceOf<LSTM>(), saved);
                Assert.That(Flat(again.Predict(x)), Is.EqualTo(expected).Within(1e-5), saved);
            }

            Assert.That(model.ToJson(), Does.Not.Contain("CuDNN"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The conversion of one gate block is Keras 2's <c>K.T.reshape(K.shape, order='F')</c>, computed by hand.</summary>
    [Test]
    public void KernelConversion_IsKeras2FortranReshape()
    {
        // GRU: features 2, units 1, gates 3: kernel (2, 3); each block (2, 1) reads as (1, 2) and transposes: unchanged.
        // LSTM: features 3, units 2, gates 4: block K = [[a, b], [c, d], [e, f]] -> flat a b c d e f read as (2, 3)
        // [[a, b, c], [d, e, f]] -> transposed [[a, d], [b, e], [c, f]].
        var kernel = new float[3 * 8];
        for (var i = 0; i < kernel.Length; i++)
        {
            kernel[i] = i;
        }

        var recurrent = Enumerable.Range(0, 2 * 8).Select(i => (float)(100 + i)).ToArray();
        var bias = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var converted = CuDNNLSTM.ConvertKeras2Weights(new[]
        {
            new H5Array("k", new[] { 3, 8 }, kernel), new H5Array("r", new[] { 2, 8 }, recurrent), new H5Array("b", new[] { 16 }, bias),
        });
        // Gate 0 of the kernel: rows [0, 1], [8, 9], [16, 17] -> [[0, 9], [1, 16], [8, 17]].
        var k = converted[0].Floats!;
        Assert.That(new[] { k[0], k[1], k[8], k[9], k[16], k[17] }, Is.EqualTo(new float[] { 0, 9, 1, 16, 8, 17 }));
        // Gate 1 (columns 2, 3): [[2, 3], [10, 11], [18, 19]] -> flat 2 3 10 11 18 19 -> [[2, 11], [3, 18], [10, 19]].
        Assert.That(new[] { k[2], k[3], k[10], k[11], k[18], k[19] }, Is.EqualTo(new float[] { 2, 11, 3, 18, 10, 19 }));
        // Recurrent gate 0: [[100, 101], [108, 109]] transposed.
        var r = converted[1].Floats!;
        Assert.That(new[] { r[0], r[1], r[8], r[9] }, Is.EqualTo(new float[] { 100, 108, 101, 109 }));
        Assert.That(converted[2].Shape, Is.EqualTo(new[] { 8 }));
        Assert.That(converted[2].Floats, Is.EqualTo(Enumerable.Range(0, 8).Select(i => (float)(i + i + 8)).ToArray()));

        // LSTM weights (4u bias) pass unchanged.
        var lstm = new[] { new H5Array("k", new[] { 3, 8 }, kernel), new H5Array("r", new[] { 2, 8 }, recurrent), new H5Array("b", new[] { 8 }, new float[8]) };
        Assert.That(CuDNNLSTM.ConvertKeras2Weights(lstm), Is.SameAs(lstm));
    }

    /// <summary>
    /// As Keras 2, CuDNN weights stored for a plain LSTM / GRU(reset_after=True) are converted too, and CuDNNGRU weights
    /// for a GRU(reset_after=False) are refused.
    /// </summary>
    [Test]
    public void Keras2Load_ConvertsForLstmAndGru_RefusesGruResetBefore()
    {
        H5Array[] Stored(int units, int gates) => new[]
        {
            new H5Array("k", new[] { 2, gates * units }, new float[2 * gates * units]),
            new H5Array("r", new[] { units, gates * units }, new float[units * gates * units]),
            new H5Array("b", new[] { 2 * gates * units }, new float[2 * gates * units]),
        };
        using var lstm = new LSTM(2);
        Assert.That(Keras2WeightsH5.ConvertRnnWeights(lstm, Stored(2, 4), "f.h5")[2].Shape, Is.EqualTo(new[] { 8 }));
        using var gru = new GRU(2);
        Assert.That(Keras2WeightsH5.ConvertRnnWeights(gru, Stored(2, 3), "f.h5")[2].Shape, Is.EqualTo(new[] { 2, 6 }));
        using var before = new GRU(2, resetAfter: false);
        Assert.That(() => Keras2WeightsH5.ConvertRnnWeights(before, Stored(2, 3), "f.h5"),
            Throws.TypeOf<KerasFileException>().With.Message.Contains("not compatible with GRU(reset_after=False)"));
        using var dense = new Dense(2);
        var other = Stored(2, 4);
        Assert.That(Keras2WeightsH5.ConvertRnnWeights(dense, other, "f.h5"), Is.SameAs(other));
    }

    /// <summary>Every key of a Keras 2 CuDNNLSTM / CuDNNGRU config is read; other values and keys are refused.</summary>
    [Test]
    public void Config_ReadsEveryKeras2KeyAndRefusesOthers()
    {
        var lstm = (CuDNNLSTM)LayerRegistry.Create(Config("CuDNNLSTM", "c", """{"units": 3, "unit_forget_bias": false, "return_sequences": true, "return_state": true, "go_backwards": true}"""));
        Assert.Multiple(() =>
        {
            Assert.That(lstm.Units, Is.EqualTo(3));
            Assert.That(lstm.UnitForgetBias, Is.False);
            Assert.That(lstm.ReturnSequences && lstm.ReturnState && lstm.GoBackwards, Is.True);
            Assert.That(lstm.Activation, Is.EqualTo("tanh"));
            Assert.That(lstm.Cell.RecurrentActivation, Is.EqualTo("sigmoid"));
            Assert.That(lstm.ClassName, Is.EqualTo("LSTM"));
            Assert.That(lstm.GetConfig()["recurrent_activation"]!.GetValue<string>(), Is.EqualTo("sigmoid"));
        });
        lstm.Dispose();

        var gru = (CuDNNGRU)LayerRegistry.Create(Config("CuDNNGRU", "g", """{"units": 2, "time_major": false}"""));
        Assert.That(gru.Cell.ResetAfter, Is.True);
        Assert.That(gru.ClassName, Is.EqualTo("GRU"));
        gru.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(() => LayerRegistry.Create(Config("CuDNNLSTM", "c", """{"units": 3, "stateful": true}""")), Throws.TypeOf<NotSupportedException>().With.Message.Contains("stateful"));
            Assert.That(() => LayerRegistry.Create(Config("CuDNNLSTM", "c", """{"units": 3, "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}}""")),
                Throws.TypeOf<NotSupportedException>().With.Message.Contains("kernel_regularizer"));
            Assert.That(() => LayerRegistry.Create(Config("CuDNNLSTM", "c", """{"units": 3, "dropout": 0.0}""")), Throws.TypeOf<FormatException>().With.Message.Contains("'dropout'"));
            Assert.That(() => LayerRegistry.Create(Config("CuDNNGRU", "g", """{"units": 3, "unit_forget_bias": true}""")), Throws.TypeOf<FormatException>().With.Message.Contains("'unit_forget_bias'"));
            Assert.That(() => LayerRegistry.Create(Config("CuDNNGRU", "g", """{"units": 3, "reset_after": true}""")), Throws.TypeOf<FormatException>().With.Message.Contains("'reset_after'"));
        });
    }

    /// <summary>As in Keras 2, a cuDNN layer refuses an input that carries a mask.</summary>
    [Test]
    public void MaskedInput_IsRefused()
    {
        var masked = new Masking().Call(new Input(new[] { 4, 2 }));
        using var layer = new CuDNNLSTM(3);
        Assert.That(() => layer.Call(masked), Throws.ArgumentException.With.Message.Contains("does not support masking"));
        using var gru = new CuDNNGRU(3);
        Assert.That(() => gru.Call(masked), Throws.ArgumentException.With.Message.Contains("does not support masking"));
    }

    /// <summary>Inside Bidirectional too: Keras 2's wrapper called the cuDNN layer with the mask, which it refused.</summary>
    [Test]
    public void MaskedInput_ToBidirectionalCuDNNLayer_IsRefused()
    {
        var masked = new Masking().Call(new Input(new[] { 4, 2 }));
        using var lstm = new Bidirectional(new CuDNNLSTM(3));
        Assert.That(() => lstm.Call(masked), Throws.ArgumentException.With.Message.Contains("CuDNNLSTM").And.Message.Contains("does not support masking"));
        using var gru = new Bidirectional(new CuDNNGRU(3));
        Assert.That(() => gru.Call(masked), Throws.ArgumentException.With.Message.Contains("does not support masking"));
        using var plain = new Bidirectional(new LSTM(3));
        Assert.That(plain.Call(masked).Shape.ToString(), Is.EqualTo("(None, 6)"));
    }

    private static LayerConfig Config(string className, string name, string json)
    {
        var values = JsonNode.Parse(json)!.AsObject();
        values["name"] = name;
        return new LayerConfig(className, name, values, keras2: true);
    }

    private static float[,,] To3D(JsonArray rows)
    {
        var a = rows.Select(r => r!.AsArray()).ToArray();
        var result = new float[a.Length, a[0].Count, a[0][0]!.AsArray().Count];
        for (var i = 0; i < result.GetLength(0); i++)
        {
            for (var j = 0; j < result.GetLength(1); j++)
            {
                for (var k = 0; k < result.GetLength(2); k++)
                {
                    result[i, j, k] = a[i][j]![k]!.GetValue<float>();
                }
            }
        }

        return result;
    }

    private static double[] Flat(Array a) => a.Cast<object>().Select(Convert.ToDouble).ToArray();

}
