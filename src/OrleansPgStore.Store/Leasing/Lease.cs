namespace OrleansPgStore.Store.Leasing;

/// <summary>A target stream leased to one holder until <see cref="LeasedUntil"/>.</summary>
/// <param name="Stream">The target stream.</param>
/// <param name="Source">The stream feeding it, or <c>null</c> for every stream.</param>
/// <param name="At">The watermark: the global position of the last event handled for this target (-1: none).</param>
/// <param name="Work">The work mark: the highest position known to need handling (<see cref="Work"/> &gt; <see cref="At"/>).</param>
/// <param name="Holder">Who holds the lease.</param>
/// <param name="Retry">How many claims since the last success: 0 on a first attempt.</param>
/// <param name="Lagging">True when claimed from the lagging frontier (lowest watermark), false from the leading one.</param>
/// <param name="LeasedUntil">When the lease expires (the database's clock).</param>
internal sealed record Lease(
    string Stream,
    string? Source,
    long At,
    long Work,
    string Holder,
    long Retry,
    bool Lagging,
    DateTimeOffset LeasedUntil);

/// <summary>What a holder reports for a lease: how far it got, and what happens next.</summary>
/// <param name="Stream">The target stream.</param>
/// <param name="Holder">The holder reporting; the report is dropped unless it still holds the lease.</param>
/// <param name="At">The new watermark: the position of the last event handled (never moves backwards).</param>
/// <param name="RetryAfter">
/// <c>null</c>: success; the retry count resets. Otherwise a failure: the stream is hidden from claims for this long
/// (measured by the database's clock) and keeps its retry count: backoff state lives in the database, not in one
/// worker's memory.
/// </param>
internal sealed record LeaseOutcome(string Stream, string Holder, long At, TimeSpan? RetryAfter = null);

/// <summary>A holder quarantining a poison target: the handled prefix and the error that stopped it.</summary>
/// <param name="Stream">The target stream.</param>
/// <param name="Holder">The holder; the block is dropped unless it still holds the lease.</param>
/// <param name="At">The watermark to keep: the position of the last event handled before the failure.</param>
/// <param name="Error">The error text, kept for operators.</param>
internal sealed record LeaseBlock(string Stream, string Holder, long At, string Error);

/// <summary>Which reports took effect and which were dropped because the lease had moved on.</summary>
/// <param name="Applied">Reports applied by the current holder.</param>
/// <param name="Dropped">Reports from holders that no longer held the lease: their work will be redone.</param>
internal sealed record AckResult(IReadOnlyList<LeaseOutcome> Applied, IReadOnlyList<LeaseOutcome> Dropped);

/// <summary>The leases one claim took, and whether it came back empty only because another claim took its candidates.</summary>
/// <param name="leases">The leases taken.</param>
/// <param name="contended">
/// True when the claim took nothing although targets were claimable when it looked: workers claiming at the same
/// instant see the same candidates, and <c>SKIP LOCKED</c> leaves the later one without any. Work may well be left,
/// so the loop looks again in a moment instead of waiting for a wake-up or its poll interval.
/// </param>
internal sealed class ClaimedLeases(IReadOnlyList<Lease> leases, bool contended) : IReadOnlyList<Lease>
{
    /// <summary>No claim made.</summary>
    public static ClaimedLeases None { get; } = new([], false);

    /// <inheritdoc cref="ClaimedLeases(IReadOnlyList{Lease}, bool)" path="/param[@name='contended']"/>
    public bool Contended { get; } = contended;

    public int Count => leases.Count;

    public Lease this[int index] => leases[index];

    public IEnumerator<Lease> GetEnumerator() => leases.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
