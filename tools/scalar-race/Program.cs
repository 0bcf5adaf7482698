using TorchSharp;
using static TorchSharp.torch;

// Two threads compute y = x.add(v): "implicit" as library code used to (a temporary Scalar from the implicit
// conversion, and TorchSharp's own temporary alpha 1), "kept" with Scalars that stay reachable until the call returns.
// Two other threads allocate short-lived garbage, so garbage collections start while the first ones are inside
// libtorch and the finalizer thread frees unreachable temporaries that libtorch is still reading.
// Usage: dotnet run --project tools/scalar-race -c Release -- implicit|kept SECONDS
var mode = args.Length > 0 ? args[0] : "implicit";
var seconds = args.Length > 1 ? int.Parse(args[1]) : 10;
var stop = DateTime.UtcNow.AddSeconds(seconds);
long ops = 0, wrong = 0, errors = 0;
var gc = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
{
    while (DateTime.UtcNow < stop)
    {
        // Short-lived garbage: frequent gen0 collections, as Predict's arrays on other threads cause.
        for (var i = 0; i < 1000; i++)
        {
            GC.KeepAlive(new object[8]);
        }
    }
})).ToArray();
using var one = 1.ToScalar();
var workers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
{
    using var x = zeros(4);
    var value = 0.25 + w;
    while (DateTime.UtcNow < stop)
    {
        try
        {
            using var scope = NewDisposeScope();
            Tensor y;
            if (mode == "implicit")
            {
                y = x.add(value);
            }
            else
            {
                // Both Scalars reachable until the call returns (add(Scalar) alone would make a temporary alpha 1).
                using var s = value.ToScalar();
                y = x.add(s, one);
            }
            if (y.data<float>()[0] != (float)value) Interlocked.Increment(ref wrong);
        }
        catch (Exception e)
        {
            if (Interlocked.Increment(ref errors) == 1)
            {
                Console.WriteLine($"first error: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
        Interlocked.Increment(ref ops);
    }
})).ToArray();
Task.WaitAll(workers.Concat(gc).ToArray());
Console.WriteLine($"scalar-race mode={mode} ops={ops} wrong={wrong} errors={errors}");
