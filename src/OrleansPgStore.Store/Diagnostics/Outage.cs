using System.Diagnostics;

namespace OrleansPgStore.Store.Diagnostics;

/// <summary>
/// Tracks one run of consecutive failures so that it is logged calmly: the first failure in full, later ones as counts,
/// and one escalation once the run has lasted past <see cref="WorthAnError"/>. Not thread-safe: one per retry loop.
/// </summary>
internal sealed class Outage
{
    /// <summary>A run of failures longer than this needs a person (the database is gone, not blinking).</summary>
    public static readonly TimeSpan WorthAnError = TimeSpan.FromMinutes(1);

    private readonly TimeSpan _worthAnError;
    private long _started;
    private bool _escalated;

    /// <summary>Creates a tracker escalating after <paramref name="worthAnError"/> (default <see cref="WorthAnError"/>).</summary>
    public Outage(TimeSpan? worthAnError = null) => _worthAnError = worthAnError ?? WorthAnError;

    /// <summary>Failures in the current run; 0 after a success.</summary>
    public int Failures { get; private set; }

    /// <summary>How long the current run has lasted.</summary>
    public TimeSpan Duration => Failures == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_started);

    /// <summary>Records a failure and says how to log it.</summary>
    public OutageStep Failed()
    {
        if (Failures++ == 0)
        {
            (_started, _escalated) = (Stopwatch.GetTimestamp(), false);
            return OutageStep.First;
        }

        if (!_escalated && Duration >= _worthAnError)
        {
            _escalated = true;
            return OutageStep.Lasting;
        }

        return OutageStep.Again;
    }

    /// <summary>A success ends the run.</summary>
    public void Reset() => Failures = 0;
}
