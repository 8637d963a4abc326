using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

/// <summary>What one cycle of a reaction loop did.</summary>
/// <param name="Correlated">Events the correlation step read (0 when another worker holds the correlation lease).</param>
/// <param name="Claimed">Targets leased.</param>
/// <param name="Handled">Events handed to handlers.</param>
/// <param name="Acked">Targets whose progress was recorded (successes and deferrals).</param>
/// <param name="Deferred">Targets that failed and will be retried after a backoff.</param>
/// <param name="Blocked">Targets blocked as poison.</param>
/// <param name="Dropped">Targets whose report was dropped because the lease had moved on; their work will be redone.</param>
internal sealed record CycleResult(int Correlated, int Claimed, int Handled, int Acked, int Deferred, int Blocked, IReadOnlyList<string> Dropped)
{
    /// <summary>
    /// New events are visible but not yet settled (commits below them are in flight): look again in a moment
    /// rather than after a full poll interval.
    /// </summary>
    public bool Settling { get; init; }

    /// <summary>
    /// The claim came back empty only because another worker's claim took its candidates at the same instant: work may
    /// be left, so look again in a moment rather than after a full poll interval.
    /// </summary>
    public bool Contended { get; init; }

    /// <summary>Nothing to do: no new events and nothing claimed.</summary>
    public bool Idle => Correlated == 0 && Claimed == 0;

    /// <summary>A cycle that did nothing.</summary>
    public static CycleResult Nothing { get; } = new(0, 0, 0, 0, 0, 0, []);
}

/// <summary>What a cycle's last step recorded: events handled (or projected and committed), acks, deferrals, blocks, drops.</summary>
internal sealed record CycleReport(int Handled, int Acked, int Deferred, int Blocked, IReadOnlyList<string> Dropped);

/// <summary>How handling one claimed target went: its page of events and what to report, an outcome or a block.</summary>
/// <param name="Lease">The lease.</param>
/// <param name="Events">The page fetched for it (empty when nothing was fetched).</param>
/// <param name="Handled">Events handed to at-least-once handlers.</param>
/// <param name="Outcome">The ack to report (success or deferral), unless blocked.</param>
/// <param name="Block">The block to report, when the target is poison.</param>
internal sealed record TargetResult(Lease Lease, IReadOnlyList<RecordedEvent> Events, int Handled, LeaseOutcome? Outcome, LeaseBlock? Block)
{
    /// <summary>The watermark reported: everything up to here is done.</summary>
    public long At => Outcome?.At ?? Block!.At;
}
