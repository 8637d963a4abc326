using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Reminders;

/// <summary>
/// The DDL of the reminders table and the sequence its ETags come from. Idempotent.
/// </summary>
/// <remarks>
/// <c>grain_hash</c> holds the unsigned ring hash as a non-negative <c>bigint</c>, so ring ranges compare in the same
/// order as the runtime's <c>uint</c>. ETags come from a sequence, so a reminder deleted and registered again never gets
/// an ETag a stale caller could still hold.
/// </remarks>
internal static class ReminderSchema
{
    public static string Create(string quotedSchema, string table)
    {
        var t = quotedSchema + "." + SqlIdentifier.Quote(table, "Table");
        var index = SqlIdentifier.Quote(SqlIdentifier.Derive(table, "ring"), "Index");
        return $"""
            CREATE SEQUENCE IF NOT EXISTS {Sequence(quotedSchema, table)} AS bigint;
            CREATE TABLE IF NOT EXISTS {t} (
                service_id    text        NOT NULL,
                grain_id      text        NOT NULL,
                reminder_name text        NOT NULL,
                grain_hash    bigint      NOT NULL CHECK (grain_hash BETWEEN 0 AND 4294967295),
                start_at      timestamptz NOT NULL,
                period_ticks  bigint      NOT NULL,
                etag          bigint      NOT NULL,
                PRIMARY KEY (service_id, grain_id, reminder_name)
            );
            CREATE INDEX IF NOT EXISTS {index} ON {t} (service_id, grain_hash);
            """;
    }

    /// <summary>The schema-qualified, quoted ETag sequence of <paramref name="table"/>.</summary>
    public static string Sequence(string quotedSchema, string table)
        => quotedSchema + "." + SqlIdentifier.Quote(SqlIdentifier.Derive(table, "etag_seq"), "Sequence");
}
