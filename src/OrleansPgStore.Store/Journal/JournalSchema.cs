using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

/// <summary>The DDL of the events table. Idempotent; <c>silo-config/sql/journal.sql</c> is this text for the defaults.</summary>
internal static class JournalSchema
{
    /// <summary>
    /// The events table. <c>position</c> is assigned by the commit statement, not by a sequence: the high bits are
    /// the writing transaction's id, so a reader can tell from its own snapshot which positions are settled
    /// (see <see cref="JournalSql"/>). Snapshots live in the same table, flagged, sharing the version of the last
    /// event they cover; <c>(stream, version, snapshot)</c> is unique, which makes <c>(stream, version)</c> unique
    /// among events (the optimistic-concurrency backstop).
    /// </summary>
    public static readonly IReadOnlyList<TableColumn> Columns =
    [
        new("position", "bigint", "NOT NULL PRIMARY KEY"),
        new("stream", "text", "NOT NULL"),
        new("version", "bigint", "NOT NULL"),
        new("name", "text", "NOT NULL"),
        new("data", "jsonb", "NOT NULL"),
        new("snapshot", "boolean", "NOT NULL DEFAULT false"),
        new("event_id", "uuid"),
        new("correlation", "text"),
        new("causation", "jsonb"),
        new("created", "timestamptz", "NOT NULL DEFAULT now()"),
    ];

    /// <summary>The one-row table holding the table's position offset (see <see cref="JournalSql"/>), quoted and qualified.</summary>
    public static string PositionsTable(string quotedSchema, string table)
        => quotedSchema + "." + SqlIdentifier.Quote(SqlIdentifier.Derive(table, "positions"), "Table");

    /// <summary>
    /// Creates the table, or brings one created by an older release up to date (columns, then indexes), and its
    /// positions table with offset 0 (a table seeded by an older release simply gains it: its positions had no offset).
    /// </summary>
    public static string Create(string quotedSchema, string table)
    {
        var t = quotedSchema + "." + SqlIdentifier.Quote(table, "Table");
        var positions = PositionsTable(quotedSchema, table);
        string Index(string suffix) => SqlIdentifier.Quote(SqlIdentifier.Derive(table, suffix), "Index");
        return $"""
            CREATE TABLE IF NOT EXISTS {positions} (
                one boolean PRIMARY KEY DEFAULT true CHECK (one),
                xid_offset bigint NOT NULL DEFAULT 0
            );
            DO $positions$
            BEGIN
                -- Only when missing: a role that may only read the positions table can still seed.
                IF NOT EXISTS (SELECT 1 FROM {positions}) THEN
                    INSERT INTO {positions} DEFAULT VALUES ON CONFLICT DO NOTHING;
                END IF;
            END
            $positions$;
            {TableColumns.CreateTable(t, Columns)}
            {TableColumns.AddMissing(t, Columns)}
            CREATE UNIQUE INDEX IF NOT EXISTS {Index("stream_version")} ON {t} (stream, version, snapshot);
            CREATE INDEX IF NOT EXISTS {Index("snapshots")} ON {t} (stream, version) WHERE snapshot;
            CREATE UNIQUE INDEX IF NOT EXISTS {Index("event_id")} ON {t} (stream, event_id) WHERE event_id IS NOT NULL;
            CREATE INDEX IF NOT EXISTS {Index("correlation")} ON {t} (correlation) WHERE correlation IS NOT NULL;
            CREATE INDEX IF NOT EXISTS {Index("snapshot_age")} ON {t} (created, position) WHERE snapshot;
            """;
    }
}
