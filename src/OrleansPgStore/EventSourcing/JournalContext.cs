using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.EventSourcing;

/// <summary>What every adaptor of one log-consistency provider shares.</summary>
/// <param name="ProviderName">The provider's name.</param>
/// <param name="Journal">The events table.</param>
/// <param name="Reads">Where activations replay their streams (the store's warm pool when it has room).</param>
/// <param name="Events">Reads and writes events (names, contract, upcasters, strict reads).</param>
/// <param name="Snapshots">Writes and reads snapshot payloads.</param>
/// <param name="ReadRetryTimeout">How long a read retries transient failures before it gives up.</param>
/// <param name="WriteRetryTimeout">How long a write retries transient failures before its events are given up.</param>
/// <param name="Stopping">Cancelled when the silo stops: retrying reads give up at once.</param>
/// <param name="Logger">The provider's logger.</param>
internal sealed record JournalContext(
    string ProviderName,
    JournalStore Journal,
    WarmReads Reads,
    JournalEventSerializer Events,
    JournalSnapshot Snapshots,
    TimeSpan ReadRetryTimeout,
    TimeSpan WriteRetryTimeout,
    CancellationToken Stopping,
    ILogger Logger)
{
    /// <summary>The grain types whose state could not be snapshotted, reported once each.</summary>
    public ConcurrentDictionary<string, bool> UnsnapshottableGrainTypes { get; } = new(StringComparer.Ordinal);

    /// <summary>The grain types whose snapshots in the JSON format of earlier versions were replaced, reported once each.</summary>
    public ConcurrentDictionary<string, bool> LegacySnapshotGrainTypes { get; } = new(StringComparer.Ordinal);
}
