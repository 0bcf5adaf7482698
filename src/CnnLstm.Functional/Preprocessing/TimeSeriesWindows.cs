namespace KerasStyle.Preprocessing;

/// <summary>Turns a series into supervised windows: the previous <c>lookBack</c> values predict the next one.</summary>
public static class TimeSeriesWindows
{
    /// <summary>
    /// Makes one sample per position t ≥ lookBack: inputs series[t - lookBack .. t - 1], target series[t].
    /// </summary>
    /// <param name="series">The series, in time order.</param>
    /// <param name="lookBack">How many previous values form one input; must be positive.</param>
    /// <param name="asFeatures">True for the seed's layout (samples, 1, lookBack): one step with lookBack features;
    /// false for (samples, lookBack, 1): lookBack steps of one feature.</param>
    /// <returns>Inputs (samples, timesteps, features) and targets (samples).</returns>
    public static (float[,,] X, float[] Y) Create(IReadOnlyList<double> series, int lookBack, bool asFeatures = true)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lookBack);
        if (series.Count <= lookBack)
        {
            throw new ArgumentException($"TimeSeriesWindows: a series of {series.Count} values gives no window of {lookBack} values plus a target; expected more than {lookBack} values.", nameof(series));
        }

        var samples = series.Count - lookBack;
        var x = asFeatures ? new float[samples, 1, lookBack] : new float[samples, lookBack, 1];
        var y = new float[samples];
        for (var s = 0; s < samples; s++)
        {
            for (var k = 0; k < lookBack; k++)
            {
                if (asFeatures)
                {
                    x[s, 0, k] = (float)series[s + k];
                }
                else
                {
                    x[s, k, 0] = (float)series[s + k];
                }
            }

            y[s] = (float)series[s + lookBack];
        }

        return (x, y);
    }
}
