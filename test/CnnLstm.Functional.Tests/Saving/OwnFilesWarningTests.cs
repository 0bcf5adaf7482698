using System.Reflection;
using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Saving;

namespace KerasStyle.Tests.Saving;

/// <summary>
/// Loading a file this library wrote raises no warning (issue 21, point 7): every initializer a layer writes is the
/// one it uses, so none is reported as differing (BatchNormalization's and LayerNormalization's <c>Ones</c> were).
/// </summary>
public class OwnFilesWarningTests : SavingTestBase
{
    /// <summary>One model holding every layer class of the library: token ids, float sequences and images.</summary>
    private static Model EveryLayerKind()
    {
        var ids = new Input(new[] { 8 }, DType.Int64, name: "ids");
        var h = new Embedding(30, 6).Call(new Hashing(30, maskValue: 0L, salt: new[] { 133L, 137L }).Call(ids));
        h = new Dropout(0.1).Call(h);
        h = new Conv1D(4, 3, padding: "same").Call(h);
        h = new MaxPooling1D(2).Call(h);
        h = new LSTM(5, returnSequences: true).Call(h);
        h = new GRU(4, returnSequences: true).Call(h);
        h = new SimpleRNN(3, returnSequences: true).Call(h);
        h = new RNN(new SimpleRNNCell(3), returnSequences: true).Call(h);
        h = new RNN(new StackedRNNCells(new RecurrentCell[] { new LSTMCell(3), new GRUCell(3) }), returnSequences: true).Call(h);
        h = new Bidirectional(new LSTM(2, returnSequences: true)).Call(h);
        h = new TimeDistributed(new Dense(3)).Call(h);
        h = new LayerNormalization().Call(h);
        h = new BatchNormalization().Call(h);
        h = new GaussianNoise(0.1).Call(h);
        h = new SpatialDropout1D(0.1).Call(h);
        h = new AlphaDropout(0.1).Call(new GaussianDropout(0.1).Call(new Identity().Call(h)));
        h = new ActivityRegularization(0.01).Call(new UnitNormalization().Call(new RMSNormalization().Call(new GroupNormalization(1).Call(h))));
        h = new Lambda(Layers.Normalization.NormalizationFixtureTests.RegisterDoublePlusOne()).Call(h);
        h = new ZeroPadding1D(1).Call(h);
        h = new Cropping1D(1).Call(h);
        h = new UpSampling1D(2).Call(h);
        h = new AveragePooling1D(2).Call(h);
        h = new SeparableConv1D(4, 3, padding: "same").Call(h);
        h = new AdditiveAttention().Call(new Attention(useScale: true, scoreMode: "concat").Call(h, h), h);
        h = new EinsumDense("abc,cd->abd", new int?[] { null, 4 }, biasAxes: "d").Call(new MultiHeadAttention(2, 3, useCausalMask: true).Call(h, h));
        var sequenceMean = new GlobalAveragePooling1D().Call(h);
        h = new Permute(new[] { 2, 1 }).Call(h);
        h = new Reshape(new[] { 16 }).Call(h);
        h = new Activation("relu").Call(new Dense(4).Call(h));
        h = new Softmax().Call(new ELU(0.5).Call(new PReLU().Call(new LeakyReLU(0.1).Call(new ReLU(6.0, 0.1, 0.5).Call(h)))));
        var repeated = new RepeatVector(2).Call(h);
        var a = new GlobalMaxPooling1D().Call(repeated);
        var b = new Dense(4).Call(new Flatten().Call(repeated));

        var steps = new Input(new[] { 6, 3 }, name: "steps");
        var c = new Dense(4).Call(new LSTM(2).Call(new Masking().Call(steps)));
        // Keras 2's cuDNN layers, saved as the LSTM and GRU they compute.
        var cudnn = new Dense(4).Call(new CuDNNLSTM(2).Call(new CuDNNGRU(3, returnSequences: true).Call(steps)));

        var image = new Input(new[] { 8, 8, 2 }, name: "image");
        var grown = new UpSampling2D(2, "bilinear").Call(new Cropping2D(1).Call(new ZeroPadding2D(1).Call(new SpatialDropout2D(0.1).Call(image))));
        var pooled = new AveragePooling2D((2, 2)).Call(new MaxPooling2D((4, 4)).Call(new Conv2D(4, 3, padding: "same").Call(grown)));
        var d = new Add().Call(new GlobalMaxPooling2D().Call(pooled), new GlobalAveragePooling2D().Call(pooled));
        var volume = new UpSampling3D(2).Call(new Cropping3D(1).Call(new ZeroPadding3D(1).Call(new Reshape(new[] { 2, 8, 8, 1 }).Call(image))));
        var cubes = new AveragePooling3D(2).Call(new MaxPooling3D().Call(new SpatialDropout3D(0.1).Call(volume)));
        var e = new Dense(4).Call(new Add().Call(new GlobalMaxPooling3D().Call(cubes), new GlobalAveragePooling3D().Call(cubes)));
        // The convolutional LSTMs over a sequence of 2 images (2-D), signals (1-D) and volumes (3-D).
        var frames = new Reshape(new[] { 2, 4, 8, 2 }).Call(image);
        var lstm2d = new Flatten().Call(new ConvLSTM2D(2, 3, padding: "same").Call(frames));
        var lstm1d = new Flatten().Call(new ConvLSTM1D(2, 3).Call(new Reshape(new[] { 2, 16, 4 }).Call(image)));
        var lstm3d = new Flatten().Call(new ConvLSTM3D(1, 2, padding: "same").Call(new Reshape(new[] { 2, 4, 4, 2, 2 }).Call(image)));
        e = new Concatenate().Call(new[] { e, lstm2d, lstm1d, lstm3d });
        // The convolution family (issue 24): transposed, depthwise, separable 2-D, 3-D and grouped convolutions.
        var upsampled = new Conv2DTranspose(4, 3, strides: 2, padding: "same").Call(image);
        var separated = new SeparableConv2D(4, 3, padding: "same").Call(new DepthwiseConv2D(3, depthMultiplier: 2).Call(upsampled));
        var groupedImage = new GlobalAveragePooling2D().Call(new Conv2D(4, (3, 3), (2, 2), "same", groups: 2).Call(separated));
        var convVolume = new Conv3DTranspose(2, 2, strides: 2).Call(new Conv3D(2, 2).Call(new Reshape(new[] { 2, 8, 8, 1 }).Call(image)));
        var groupedSteps = new Conv1D(4, 2, groups: 2).Call(new DepthwiseConv1D(2, depthMultiplier: 2).Call(new Conv1DTranspose(3, 2, strides: 2).Call(steps)));
        var convs = new Concatenate().Call(new[] { groupedImage, new GlobalMaxPooling3D().Call(convVolume), new GlobalAveragePooling1D().Call(groupedSteps) });
        // The image preprocessing layers (issue 24): a crop to the aspect ratio, and a centre crop taller than its input (resized).
        var resized = new GlobalAveragePooling2D().Call(new CenterCrop(10, 6).Call(new Resizing(6, 7, "nearest", cropToAspectRatio: true).Call(image)));

        // The text layers (issue 26), vocabularies given so that every format holds them.
        var text = new Input(Array.Empty<int>(), DType.String, name: "text");
        var word = new Input(new[] { 1 }, DType.String, name: "word");
        var texts = new Flatten().Call(new Embedding(4, 2).Call(new TextVectorization(outputSequenceLength: 3, vocabulary: new[] { "a", "b" }).Call(text)));
        var words = new Flatten().Call(new Embedding(2, 2).Call(new StringLookup(vocabulary: new[] { "a" }).Call(word)));
        var strings = new Concatenate().Call(new[] { texts, words, new IntegerLookup(vocabulary: new long[] { 1, 2 }, outputMode: "multi_hot").Call(ids) });

        // The numeric preprocessing layers (issue 26).
        var numeric = new Concatenate().Call(new[]
        {
            new CategoryEncoding(30, "count").Call(ids),
            new Flatten().Call(new Discretization(new[] { -0.5, 0.5 }, "one_hot").Call(new Normalization().Call(new Rescaling(0.5, 0.1).Call(steps)))),
        });
        var merged = new Concatenate().Call(new[]
        {
            strings,
            new Subtract().Call(a, b), new Multiply().Call(a, c), new Average().Call(b, c), new Maximum().Call(c, d),
            new Minimum().Call(a, d), new Dot(1).Call(b, d), sequenceMean, cudnn, e, convs, resized, numeric,
            // tf.keras 2's op layer, saved as the Add it computes.
            new TFOpLambda("__operators__.add").Call(a, b),
        });
        return new Model(new[] { ids, steps, image, text, word }, new Dense(1).Call(merged));
    }

    [Test]
    public void EveryLayerKind_Model_CoversEveryLibraryLayerClass()
    {
        using var model = EveryLayerKind();
        var cells = model.Layers.OfType<RNN>().Select(r => r.Cell).ToArray();
        var used = model.Layers.Concat(model.Layers.OfType<TimeDistributed>().Select(t => t.Layer))
            .Concat(cells).Concat(cells.OfType<StackedRNNCells>().SelectMany(s => s.Cells)).Select(l => KerasLayerAttribute.ClassNameOf(l.GetType())).ToHashSet();
        var library = typeof(Layer).Assembly.GetTypes().Select(t => t.GetCustomAttribute<KerasLayerAttribute>()?.ClassName).OfType<string>();
        Assert.That(library.Where(c => !used.Contains(c)), Is.Empty, "a new layer class belongs in this model");
    }

    [TestCase("model.keras", H5Format.Keras3)]
    [TestCase("model.h5", H5Format.Keras3)]
    [TestCase("model.h5", H5Format.TfKeras2)]
    public void Load_FileThisLibraryWrote_WithEveryLayerKind_RaisesNoWarning(string file, H5Format format)
    {
        using var model = EveryLayerKind();
        model.Save(PathOf(file), format);
        Assert.That(RaisedWarnings, Is.Empty, "building and saving");

        using var loaded = Model.Load(PathOf(file));
        Assert.That(RaisedWarnings, Is.Empty, "loading");
        Assert.That(loaded.Layers.Select(l => l.ClassName), Is.EqualTo(model.Layers.Select(l => l.ClassName)));
    }
}
