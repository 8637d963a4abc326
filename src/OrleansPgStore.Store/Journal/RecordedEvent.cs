using System.Text.Json;

namespace OrleansPgStore.Store.Journal;

/// <summary>An event (or snapshot) as stored in the journal.</summary>
public sealed class RecordedEvent
{
    /// <summary>Creates the value.</summary>
    /// <param name="Position">See <see cref="Position"/>.</param>
    /// <param name="Stream">See <see cref="Stream"/>.</param>
    /// <param name="Version">See <see cref="Version"/>.</param>
    /// <param name="Name">See <see cref="Name"/>.</param>
    /// <param name="Json">See <see cref="Json"/>.</param>
    /// <param name="Id">See <see cref="Id"/>.</param>
    /// <param name="Metadata">See <see cref="Metadata"/>.</param>
    /// <param name="Created">See <see cref="Created"/>.</param>
    /// <param name="IsSnapshot">See <see cref="IsSnapshot"/>.</param>
    public RecordedEvent(long Position, string Stream, long Version, string Name, string Json, Guid? Id, EventMetadata Metadata, DateTimeOffset Created, bool IsSnapshot = false)
    {
        this.Position = Position;
        this.Stream = Stream;
        this.Version = Version;
        this.Name = Name;
        this.Json = Json;
        this.Id = Id;
        this.Metadata = Metadata;
        this.Created = Created;
        this.IsSnapshot = IsSnapshot;
    }

    /// <summary>Global position, unique across all streams. Reading the feed forward, positions only ever increase: once position P has been read, no event below P can appear later.</summary>
    public long Position { get; }

    /// <summary>The stream the event belongs to.</summary>
    public string Stream { get; }

    /// <summary>The event's version in its stream: 0-based and contiguous. A snapshot carries the version of the last event it covers.</summary>
    public long Version { get; }

    /// <summary>The event's name; <see cref="JournalStore.SnapshotName"/> or <see cref="JournalStore.TombstoneName"/> for snapshots.</summary>
    public string Name { get; }

    /// <summary>The payload as JSON text (a snapshot's state; <c>null</c> JSON for a tombstone).</summary>
    public string Json { get; }

    /// <summary>The id the event was committed with, if any.</summary>
    public Guid? Id { get; }

    /// <summary>Correlation and causation.</summary>
    public EventMetadata Metadata { get; }

    /// <summary>When the event was committed (the database's clock).</summary>
    public DateTimeOffset Created { get; }

    /// <summary>True for snapshots and tombstones, which only appear in reads that ask for them.</summary>
    public bool IsSnapshot { get; }

    /// <summary>True for the tombstone a full truncation without a snapshot leaves behind.</summary>
    public bool IsTombstone => IsSnapshot && Name == JournalStore.TombstoneName;

    /// <summary>Deserializes the payload with System.Text.Json.</summary>
    public T? Deserialize<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Json, options);
}
