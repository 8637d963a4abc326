using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

/// <summary>
/// The DDL of the subscriptions table and its checkpoints table (<see cref="CheckpointSchema"/>). Idempotent;
/// <c>silo-config/sql/subscriptions.sql</c> is this text for the defaults.
/// </summary>
internal static class LeaseSchema
{
    /// <summary>
    /// One row per target stream. <c>work &gt; at</c> means "has work"; the two partial indexes hold only such rows,
    /// ordered for the lagging frontier (priority, then lowest watermark) and by watermark (the fairness reserve
    /// reads it forward, the leading frontier backward), so claiming costs the same with 1k or 100k subscriptions
    /// and never looks at the events table.
    /// </summary>
    public static readonly IReadOnlyList<TableColumn> Columns =
    [
        new("stream", "text", "NOT NULL PRIMARY KEY"),
        new("source", "text"),
        new("at", "bigint", "NOT NULL DEFAULT -1"),
        new("work", "bigint", "NOT NULL DEFAULT -1"),
        new("retry", "bigint", "NOT NULL DEFAULT -1"),
        new("blocked", "boolean", "NOT NULL DEFAULT false"),
        new("error", "text"),
        new("leased_by", "text"),
        new("leased_until", "timestamptz"),
        new("priority", "integer", "NOT NULL DEFAULT 0"),
        new("lane", "text", "NOT NULL DEFAULT ''"),
        new("due", "timestamptz"),
    ];

    /// <summary>
    /// Creates the table, or brings one created by an older release up to date (columns, then indexes), then its
    /// checkpoints table.
    /// </summary>
    public static string Create(string quotedSchema, string table)
    {
        var t = quotedSchema + "." + SqlIdentifier.Quote(table, "Table");
        string Index(string suffix) => SqlIdentifier.Quote(SqlIdentifier.Derive(table, suffix), "Index");
        return $"""
            {TableColumns.CreateTable(t, Columns)}
            {TableColumns.AddMissing(t, Columns)}
            CREATE INDEX IF NOT EXISTS {Index("lagging")} ON {t} (lane, priority DESC, at) WHERE work > at AND NOT blocked;
            CREATE INDEX IF NOT EXISTS {Index("frontier")} ON {t} (lane, at) WHERE work > at AND NOT blocked;
            {CheckpointSchema.Create(quotedSchema, table)}
            """;
    }
}
