using System.Text.Json;
using Npgsql;

namespace OrleansPgStore.Store.Journal;

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
