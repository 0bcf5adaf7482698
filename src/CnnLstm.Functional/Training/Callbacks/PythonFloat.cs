using System.Globalization;

namespace KerasStyle.Training.Callbacks;

/// <summary>Numbers as Python's <c>repr(float)</c> prints them, for messages that Keras prints with f-strings.</summary>
internal static class PythonFloat
{
    /// <summary>
    /// The shortest text that reads back as <paramref name="value"/>, in Python's layout: <c>0.1</c>, <c>2.0</c>,
    /// <c>0.0001</c>, <c>1e-05</c>, <c>1.5e+16</c>, <c>nan</c>, <c>inf</c>, in any culture.
    /// </summary>
    public static string Repr(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        var sign = double.IsNegative(value) ? "-" : string.Empty;
        if (value == 0)
        {
            return sign + "0.0";
        }

        // .NET's "R" gives the shortest round-trip digits, in its own layout ("1E-05", "0.0001", "123.45").
        var text = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var whole = dot < 0 ? text : text[..dot];
        var all = whole + (dot < 0 ? string.Empty : text[(dot + 1)..]);
        var leadingZeros = all.Length - all.TrimStart('0').Length;
        var digits = all.Trim('0');

        // value = 0.<digits> x 10^point; Python switches to exponent form below 1e-4 and from 1e16 on.
        var point = whole.Length + exponent - leadingZeros;
        if (point <= -4 || point > 16)
        {
            var mantissa = digits.Length == 1 ? digits : $"{digits[0]}.{digits[1..]}";
            var power = point - 1;
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{mantissa}e{(power < 0 ? '-' : '+')}{Math.Abs(power):D2}");
        }

        if (point <= 0)
        {
            return $"{sign}0.{new string('0', -point)}{digits}";
        }

        return point >= digits.Length
            ? $"{sign}{digits}{new string('0', point - digits.Length)}.0"
            : $"{sign}{digits[..point]}.{digits[point..]}";
    }
}
