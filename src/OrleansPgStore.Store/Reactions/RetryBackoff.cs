namespace OrleansPgStore.Store.Reactions;

/// <summary>How long a failed target waits before its next attempt; the wait is stored in the database.</summary>
public sealed class RetryBackoff
{
    /// <summary>The shape of the backoff curve.</summary>
    public enum Curve
    {
        /// <summary>Always <see cref="Initial"/>.</summary>
        Fixed,

        /// <summary><see cref="Initial"/> × attempt.</summary>
        Linear,

        /// <summary><see cref="Initial"/> × 2^(attempt - 1).</summary>
        Exponential,
    }

    /// <summary>The curve. Defaults to exponential.</summary>
    public Curve Kind { get; init; } = Curve.Exponential;

    /// <summary>The first delay. Defaults to 1 second.</summary>
    public TimeSpan Initial { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay. Defaults to 5 minutes.</summary>
    public TimeSpan Max { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Random spread, as a fraction of the delay (0.2: ±20%), so failing targets do not retry in lockstep. Defaults to 0.2.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>The delay before attempt number <paramref name="attempt"/> + 1, after <paramref name="attempt"/> failures (≥ 1).</summary>
    public TimeSpan Delay(long attempt)
    {
        var n = Math.Max(1, attempt);
        var ms = Kind switch
        {
            Curve.Fixed => Initial.TotalMilliseconds,
            Curve.Linear => Initial.TotalMilliseconds * n,
            _ => Initial.TotalMilliseconds * Math.Pow(2, Math.Min(n - 1, 62)),
        };
        ms = Math.Min(ms, Max.TotalMilliseconds);
        if (Jitter > 0)
        {
            ms *= 1 + ((Random.Shared.NextDouble() * 2) - 1) * Jitter;
        }

        return TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, Max.TotalMilliseconds));
    }
}
