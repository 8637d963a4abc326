using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

/// <summary>The DDL of the subscriptions table. Idempotent; <c>silo-config/sql/subscriptions.sql</c> is this text for the defaults.</summary>
internal static class LeaseSchema
{
    /// <summary>
    /// One row per target stream. <c>work &gt; at</c> means "has work"; the two partial indexes hold only such rows,
    /// ordered for the lagging frontier (priority, then lowest watermark) and by watermark (the fairness reserve
    /// reads it forward, the leading frontier backward), so claiming costs the same with 1k or 100k subscriptions
    /// and never looks at the events table.
    /// </summary>
    public static string Create(string quotedSchema, string table)
    {
        var t = quotedSchema + "." + SqlIdentifier.Quote(table, "Table");
        string Index(string suffix) => SqlIdentifier.Quote(SqlIdentifier.Derive(table, suffix), "Index");
        return $"""
            CREATE TABLE IF NOT EXISTS {t} (
                stream       text        NOT NULL PRIMARY KEY,
                source       text,
                at           bigint      NOT NULL DEFAULT -1,
                work         bigint      NOT NULL DEFAULT -1,
                retry        bigint      NOT NULL DEFAULT -1,
                blocked      boolean     NOT NULL DEFAULT false,
                error        text,
                leased_by    text,
                leased_until timestamptz,
                priority     integer     NOT NULL DEFAULT 0,
                lane         text        NOT NULL DEFAULT '',
                due          timestamptz
            );
            CREATE INDEX IF NOT EXISTS {Index("lagging")} ON {t} (lane, priority DESC, at) WHERE work > at AND NOT blocked;
            CREATE INDEX IF NOT EXISTS {Index("frontier")} ON {t} (lane, at) WHERE work > at AND NOT blocked;
            """;
    }
}
