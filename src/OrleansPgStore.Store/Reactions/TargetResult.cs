using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

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
