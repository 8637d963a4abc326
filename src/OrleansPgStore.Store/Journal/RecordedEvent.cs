using System.Text.Json;

namespace OrleansPgStore.Store.Journal;

/// <summary>An event (or snapshot) as stored in the journal.</summary>
/// <param name="Position">
/// Global position, unique across all streams. Reading the feed forward, positions only ever increase:
/// once position P has been read, no event below P can appear later.
/// </param>
/// <param name="Stream">The stream the event belongs to.</param>
/// <param name="Version">The event's version in its stream: 0-based and contiguous. A snapshot carries the version of the last event it covers.</param>
/// <param name="Name">The event's name; <see cref="JournalStore.SnapshotName"/> or <see cref="JournalStore.TombstoneName"/> for snapshots.</param>
/// <param name="Json">The payload as JSON text (a snapshot's state; <c>null</c> JSON for a tombstone).</param>
/// <param name="Id">The id the event was committed with, if any.</param>
/// <param name="Metadata">Correlation and causation.</param>
/// <param name="Created">When the event was committed (the database's clock).</param>
/// <param name="IsSnapshot">True for snapshots and tombstones, which only appear in reads that ask for them.</param>
public sealed record RecordedEvent(
    long Position,
    string Stream,
    long Version,
    string Name,
    string Json,
    Guid? Id,
    EventMetadata Metadata,
    DateTimeOffset Created,
    bool IsSnapshot = false)
{
    /// <summary>True for the tombstone a full truncation without a snapshot leaves behind.</summary>
    public bool IsTombstone => IsSnapshot && Name == JournalStore.TombstoneName;

    /// <summary>Deserializes the payload with System.Text.Json.</summary>
    public T? Deserialize<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Json, options);
}
