namespace OrleansPgStore.Store.Leasing;

/// <summary>Which reports took effect and which were dropped because the lease had moved on.</summary>
/// <param name="Applied">Reports applied by the current holder.</param>
/// <param name="Dropped">Reports from holders that no longer held the lease: their work will be redone.</param>
internal sealed record AckResult(IReadOnlyList<LeaseOutcome> Applied, IReadOnlyList<LeaseOutcome> Dropped);
