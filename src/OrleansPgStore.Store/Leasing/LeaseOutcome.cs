namespace OrleansPgStore.Store.Leasing;

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
