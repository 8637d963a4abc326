using Orleans;
using Orleans.EventSourcing.Common;

namespace OrleansPgStore.EventSourcing;

/// <summary>Reading a grain's stream from PostgreSQL failed; the journal retries with backoff.</summary>
[GenerateSerializer]
internal sealed class PostgresJournalReadFailed : PrimaryOperationFailed
{
    /// <inheritdoc/>
    public override string ToString() => $"reading the journal failed: {Exception?.GetType().Name}: {Exception?.Message}";
}
