using KerasStyle.Graph;
using KerasStyle.Layers;

namespace KerasStyle.Tests.Graph;

public class ShapeTests
{
    [Test]
    public void ToString_PrintsAPythonTupleWithNoneForUnknown()
    {
        Assert.That(new Shape(null, 1, 3).ToString(), Is.EqualTo("(None, 1, 3)"));
        Assert.That(new Shape(null, 70).ToString(), Is.EqualTo("(None, 70)"));
        Assert.That(new Shape(null, null, 8).ToString(), Is.EqualTo("(None, None, 8)"));
        Assert.That(new Shape(2, 3).ToString(), Is.EqualTo("(2, 3)"));
    }

    [Test]
    public void ToString_OfOneDimension_HasTheTrailingComma()
    {
        Assert.That(new Shape(new int?[] { null }).ToString(), Is.EqualTo("(None,)"));
        Assert.That(new Shape(5).ToString(), Is.EqualTo("(5,)"));
    }

    [Test]
    public void ToString_UsesInvariantDigits()
    {
        Assert.That(new Shape(null, 20000, 128).ToString(), Is.EqualTo("(None, 20000, 128)"));
    }

    [Test]
    public void Input_Shape_HasAnUnknownBatchDimension()
    {
        Assert.That(new Input(new[] { 1, 3 }).Shape.ToString(), Is.EqualTo("(None, 1, 3)"));
        Assert.That(new Input(new[] { 100 }, DType.Int64).Shape.ToString(), Is.EqualTo("(None, 100)"));
    }

    [Test]
    public void WithBatch_PrependsNone()
    {
        var shape = Shape.WithBatch(new int?[] { 100, 128 });
        Assert.That(shape, Is.EqualTo(new Shape(null, 100, 128)));
        Assert.That(shape.Rank, Is.EqualTo(3));
        Assert.That(shape.Last, Is.EqualTo(128));
        Assert.That(shape.SampleDims, Is.EqualTo(new int?[] { 100, 128 }));
    }

    [Test]
    public void With_ReplacesOneDimensionAndLeavesTheOriginal()
    {
        var shape = new Shape(null, 100, 128);
        var changed = shape.With(2, 64);
        Assert.That(changed.ToString(), Is.EqualTo("(None, 100, 64)"));
        Assert.That(shape.ToString(), Is.EqualTo("(None, 100, 128)"));
    }

    [Test]
    public void Equality_IsByDimensions()
    {
        Assert.That(new Shape(null, 3), Is.EqualTo(new Shape(null, 3)));
        Assert.That(new Shape(null, 3).GetHashCode(), Is.EqualTo(new Shape(null, 3).GetHashCode()));
        Assert.That(new Shape(null, 3), Is.Not.EqualTo(new Shape(1, 3)));
        Assert.That(new Shape(null, 3), Is.Not.EqualTo(new Shape(null, 3, 1)));
    }

    [Test]
    public void Constructor_CopiesTheArray()
    {
        var dims = new int?[] { null, 4 };
        var shape = new Shape(dims);
        dims[1] = 9;
        Assert.That(shape[1], Is.EqualTo(4));
    }
}
