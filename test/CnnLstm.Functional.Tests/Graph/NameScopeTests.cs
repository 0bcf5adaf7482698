using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;

namespace KerasStyle.Tests.Graph;

public class NameScopeTests
{
    [SetUp]
    public void FreshNames() => Backend.ClearSession();

    [Test]
    public void DefaultNames_AreKeras2SnakeCaseWithCounterFromOne()
    {
        Assert.That(new Input(new[] { 1, 3 }).Layer.Name, Is.EqualTo("input_1"));
        Assert.That(new Dropout(0.25).Name, Is.EqualTo("dropout_1"));
        Assert.That(new Conv1D(10, 1).Name, Is.EqualTo("conv1d_1"));
        Assert.That(new MaxPooling1D(1).Name, Is.EqualTo("max_pooling1d_1"));
        Assert.That(new LSTM(70).Name, Is.EqualTo("lstm_1"));
        Assert.That(new Dense(1).Name, Is.EqualTo("dense_1"));
        Assert.That(new Activation("sigmoid").Name, Is.EqualTo("activation_1"));
        Assert.That(new Embedding(10, 2).Name, Is.EqualTo("embedding_1"));
    }

    [Test]
    public void Counters_ArePerPrefix()
    {
        var names = new[]
        {
            new Dense(1).Name, new Dense(1).Name, new Conv1D(2, 1).Name, new Dense(1).Name, new Conv1D(2, 1).Name,
        };
        Assert.That(names, Is.EqualTo(new[] { "dense_1", "dense_2", "conv1d_1", "dense_3", "conv1d_2" }));
    }

    [Test]
    public void ExplicitName_IsKeptAndDoesNotUseACounter()
    {
        Assert.That(new Dense(1, name: "head").Name, Is.EqualTo("head"));
        Assert.That(new Dense(1).Name, Is.EqualTo("dense_1"));
        Assert.That(new Input(new[] { 3 }, name: "features").Layer.Name, Is.EqualTo("features"));
        Assert.That(new Input(new[] { 3 }).Layer.Name, Is.EqualTo("input_1"));
    }

    [TestCase("")]
    [TestCase("  ")]
    public void EmptyName_Throws(string name) =>
        Assert.Throws<ArgumentException>(() => new Dense(1, name: name));

    [Test]
    public void ClearSession_RestartsEveryCounter()
    {
        Assert.That(new Dense(1).Name, Is.EqualTo("dense_1"));
        Assert.That(new Dense(1).Name, Is.EqualTo("dense_2"));
        Assert.That(new Input(new[] { 2 }).Layer.Name, Is.EqualTo("input_1"));

        Backend.ClearSession();

        Assert.That(new Dense(1).Name, Is.EqualTo("dense_1"));
        Assert.That(new Input(new[] { 2 }).Layer.Name, Is.EqualTo("input_1"));
    }

    [Test]
    public void ClearSession_KeepsExistingNames()
    {
        var dense = new Dense(1);
        Backend.ClearSession();
        Assert.That(dense.Name, Is.EqualTo("dense_1"));
    }

    [Test]
    public void ModelNames_CountLikeLayers()
    {
        var input = new Input(new[] { 2 });
        var output = new Dense(1).Call(input);
        Assert.That(new Model(input, output).Name, Is.EqualTo("model_1"));
        Assert.That(new Model(input, output).Name, Is.EqualTo("model_2"));
        Assert.That(new Sequential().Name, Is.EqualTo("sequential_1"));
    }

    // Keras' _to_snake_case: re.sub('(.)([A-Z][a-z0-9]+)', r'\1_\2'), then re.sub('([a-z])([A-Z])', r'\1_\2'), lower.
    [TestCase("Conv1D", "conv1d")]
    [TestCase("MaxPooling1D", "max_pooling1d")]
    [TestCase("LSTM", "lstm")]
    [TestCase("InputLayer", "input_layer")]
    [TestCase("Dense", "dense")]
    [TestCase("GlobalMaxPooling1D", "global_max_pooling1d")]
    [TestCase("BatchNormalization", "batch_normalization")]
    [TestCase("SimpleRNN", "simple_rnn")]
    [TestCase("PReLU", "p_re_lu")]
    [TestCase("ConvLSTM2D", "conv_lst_m2d")]
    public void ToSnakeCase_MatchesKeras(string className, string expected) =>
        Assert.That(NameScope.ToSnakeCase(className), Is.EqualTo(expected));
}
