namespace OrleansPgStore.Store.Journal;

/// <summary>A hint that a commit landed in a stream: wake up and read. Delivery is best-effort; polling stays the safety net.</summary>
/// <param name="Stream">The stream committed to.</param>
/// <param name="Local">True when the commit came from this process (raised directly, not through PostgreSQL).</param>
internal sealed record CommitNotification(string Stream, bool Local);
