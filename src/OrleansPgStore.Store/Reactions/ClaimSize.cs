using System.Diagnostics;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// How many targets the next claim asks for: up to <see cref="ReactionOptions.MaxClaim"/> (a claim returns only targets
/// with work, so a live loop takes the few there are and a catching-up loop takes many), but no more than the handlers
/// can finish within a quarter of the lease, judged by how long the cycles before took per event. A fresh loop starts
/// at 8 and grows fourfold per cycle, so slow handlers are measured before a large claim could overrun its lease.
/// </summary>
internal sealed class ClaimSize(ReactionOptions options)
{
    /// <summary>The first claim's targets (or <see cref="ReactionOptions.MaxClaim"/> when smaller).</summary>
    public const int FirstClaim = 8;

    // Seconds of handling (handlers, projection, ack) per event: a moving average over the cycles that handled events.
    private double _secondsPerEvent;
    private int _grown = FirstClaim;

    /// <summary>The next claim, split between the lagging frontier and the leading one (an eighth, rounded down).</summary>
    public (int Lagging, int Leading) Next()
    {
        var claim = Math.Min(options.MaxClaim, _grown);
        if (_secondsPerEvent > 0)
        {
            var events = options.LeaseDuration.TotalSeconds / 4 / _secondsPerEvent;
            claim = (int)Math.Clamp(events / options.PageSize, 1, claim);
        }

        var leading = claim / 8;
        return (claim - leading, leading);
    }

    /// <summary>Records a cycle: <paramref name="events"/> handled since the claim was sent at <paramref name="claimedAt"/>.</summary>
    public void Observe(int claimed, int events, long claimedAt)
    {
        if (claimed > 0 && _grown < options.MaxClaim)
        {
            _grown = Math.Min(options.MaxClaim, _grown * 4);
        }

        // A cycle of a few events is mostly its round trips, which say nothing of the handlers' speed.
        var elapsed = Stopwatch.GetElapsedTime(claimedAt);
        if (events > 0 && (events >= options.PageSize || elapsed >= TimeSpan.FromMilliseconds(100)))
        {
            var perEvent = elapsed.TotalSeconds / events;
            _secondsPerEvent = _secondsPerEvent == 0 ? perEvent : (0.7 * _secondsPerEvent) + (0.3 * perEvent);
        }
    }
}
