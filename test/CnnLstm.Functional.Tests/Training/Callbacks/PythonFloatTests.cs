using KerasStyle.Training.Callbacks;

namespace KerasStyle.Tests.Training.Callbacks;

public class PythonFloatTests
{
    // Expected texts are what CPython 3.11's repr() printed for the same doubles.
    [TestCase(0.1, "0.1")]
    [TestCase(2.0, "2.0")]
    [TestCase(100.0, "100.0")]
    [TestCase(1e-4, "0.0001")]
    [TestCase(0.000123, "0.000123")]
    [TestCase(1e-5, "1e-05")]
    [TestCase(3.14e-10, "3.14e-10")]
    [TestCase(1e15, "1000000000000000.0")]
    [TestCase(1e16, "1e+16")]
    [TestCase(1.5e16, "1.5e+16")]
    [TestCase(1.2345678901234568e17, "1.2345678901234568e+17")]
    [TestCase(1e22, "1e+22")]
    [TestCase(0.10001000149011612, "0.10001000149011612")]
    [TestCase(12345.678, "12345.678")]
    [TestCase(-0.5, "-0.5")]
    [TestCase(5e-324, "5e-324")]
    [TestCase(1.7976931348623157e308, "1.7976931348623157e+308")]
    [TestCase(0.0, "0.0")]
    [TestCase(double.NaN, "nan")]
    [TestCase(double.NegativeInfinity, "-inf")]
    public void Repr_PrintsAsPython(double value, string expected) => Assert.That(PythonFloat.Repr(value), Is.EqualTo(expected));
}
