using Orleans;
using Orleans.EventSourcing.Common;

namespace OrleansPgStore.EventSourcing;

/// <summary>
/// Appending to a grain's stream failed or its outcome is unknown; the journal retries the same batch (same event
/// ids, so it is never appended twice) with backoff, for at most <c>WriteRetryTimeout</c>.
/// </summary>
[GenerateSerializer]
internal sealed class PostgresJournalWriteFailed : PrimaryOperationFailed
{
    /// <inheritdoc/>
    public override string ToString() => $"appending to the journal failed: {Exception?.GetType().Name}: {Exception?.Message}";
}
