using KerasStyle.Graph;
using KerasStyle.Layers;
using KerasStyle.Saving.Onnx;
using KerasStyle.Tests.Saving.Onnx;

namespace KerasStyle.Tests.Models;

/// <summary>
/// A mask made inside a model used as a layer comes out of it, as Keras 3's Functional.compute_mask: real Keras 3.16
/// gives the nested model exactly the flat masked model's output (found by a new-user trial; before the fix the
/// outer LSTM ran unmasked, 1.3e-2 away from Keras).
/// </summary>
public class NestedModelMaskTests
{
    [SetUp]
    public void Fresh() => Backend.ClearSession();

    [Test]
    public void MaskMadeInsideANestedModel_ReachesTheOuterLstm_AsInTheFlatModel()
    {
        var ids = new long[,] { { 0, 0, 0, 0, 5, 6, 7, 8, 9 }, { 0, 0, 3, 1, 4, 1, 5, 9, 2 } };
        var embedding = new Embedding(30, 5, maskZero: true);
        var lstm = new LSTM(4);
        var dense = new Dense(1);
        var innerInput = new Input(9, DType.Int64);
        using var inner = new KerasStyle.Models.Model(innerInput, embedding.Call(innerInput), name: "embedder");
        var outerInput = new Input(9, DType.Int64);
        var nestedOutput = inner.Call(outerInput);
        Assert.That(nestedOutput.HasMask, Is.True, "the symbolic output carries the inner Embedding's mask");
        using var nested = new KerasStyle.Models.Model(outerInput, dense.Call(lstm.Call(nestedOutput)));

        var flatInput = new Input(9, DType.Int64);
        using var flat = new KerasStyle.Models.Model(flatInput, dense.Call(lstm.Call(embedding.Call(flatInput))));
        var unmaskedEmbedding = new Embedding(30, 5);
        var plainInput = new Input(9, DType.Int64);
        using var unmasked = new KerasStyle.Models.Model(plainInput, dense.Call(lstm.Call(unmaskedEmbedding.Call(plainInput))));
        unmaskedEmbedding.SetWeights(embedding.GetWeights());

        var fromNested = nested.Predict<float[,]>(ids).Cast<float>().ToArray();
        Assert.That(fromNested, Is.EqualTo(flat.Predict<float[,]>(ids).Cast<float>()).Within(1e-7));
        Assert.That(fromNested, Is.Not.EqualTo(unmasked.Predict<float[,]>(ids).Cast<float>()).Within(1e-4), "the mask changes the result");

        var path = Path.Combine(Path.GetTempPath(), $"ks-nested-mask-{Guid.NewGuid():N}.onnx");
        try
        {
            nested.Export(path);
            Assert.That(OnnxFileInfo.Read(path).Operators, Does.Contain("Scan"), "the outer LSTM reads the mask");
            OnnxCheck.AssertFileMatchesPredict(path, nested, new Array[] { ids });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MasksCrossModelsNestedTwice_InBothDirections_AsInTheFlatModel_AndInAnEagerCall()
    {
        // One graph run: the outer model's node for `middle` runs middle's graph, whose node for `inner` runs inner's,
        // each with its caller's masks; the inner LSTM skips the outer Embedding's padding.
        var ids = new long[,] { { 0, 0, 0, 5, 6, 7 }, { 0, 3, 1, 4, 1, 5 } };
        var embedding = new Embedding(10, 3, maskZero: true);
        var lstm = new LSTM(4);
        var innerInput = new Input(shape: (6, 3));
        using var inner = new KerasStyle.Models.Model(innerInput, lstm.Call(innerInput), name: "inner");
        var middleInput = new Input(shape: (6, 3));
        using var middle = new KerasStyle.Models.Model(middleInput, inner.Call(middleInput), name: "middle");
        var outerInput = new Input(6, DType.Int64);
        using var nested = new KerasStyle.Models.Model(outerInput, middle.Call(embedding.Call(outerInput)));
        var flatInput = new Input(6, DType.Int64);
        using var flat = new KerasStyle.Models.Model(flatInput, lstm.Call(embedding.Call(flatInput)));

        var expected = flat.Predict<float[,]>(ids).Cast<float>().ToArray();
        Assert.That(nested.Predict<float[,]>(ids).Cast<float>(), Is.EqualTo(expected).Within(1e-7));
        using var vectors = embedding.Invoke(TorchSharp.torch.tensor(ids.Cast<long>().ToArray(), new long[] { 2, 6 }));
        using var mask = TorchSharp.torch.tensor(ids.Cast<long>().Select(id => id != 0).ToArray(), new long[] { 2, 6 });
        using var eager = middle.Invoke(vectors, mask: mask);
        Assert.That(eager.data<float>().ToArray(), Is.EqualTo(expected).Within(1e-6), "the eager call on a nested model takes the mask too");
    }
}
