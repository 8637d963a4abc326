using System.Text.Json;
using Npgsql;

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

/// <summary>Maps the journal's standard column list (see <see cref="JournalSql"/>) onto <see cref="RecordedEvent"/>.</summary>
internal static class RecordedEventReader
{
    /// <param name="reader">The row.</param>
    /// <param name="offset">Where the standard columns start.</param>
    /// <param name="stream">The stream every row of the statement belongs to (a load's): its column is then not decoded.</param>
    public static RecordedEvent Read(NpgsqlDataReader reader, int offset = 0, string? stream = null)
    {
        var correlation = reader.IsDBNull(offset + 7) ? null : reader.GetString(offset + 7);
        var causation = reader.IsDBNull(offset + 8)
            ? null
            : JsonSerializer.Deserialize(reader.GetString(offset + 8), JournalJsonContext.Default.EventCausation);
        return new RecordedEvent(
            Position: reader.GetInt64(offset),
            Stream: stream ?? reader.GetString(offset + 1),
            Version: reader.GetInt64(offset + 2),
            Name: reader.GetString(offset + 3),
            Json: reader.GetString(offset + 4),
            Id: reader.IsDBNull(offset + 6) ? null : reader.GetGuid(offset + 6),
            Metadata: correlation is null && causation is null ? EventMetadata.None : new EventMetadata(correlation, causation),
            Created: reader.GetFieldValue<DateTimeOffset>(offset + 9),
            IsSnapshot: reader.GetBoolean(offset + 5));
    }
}
