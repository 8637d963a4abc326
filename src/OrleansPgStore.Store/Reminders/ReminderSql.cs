namespace OrleansPgStore.Store.Reminders;

/// <summary>
/// Every statement the reminder store runs, complete. Parameters are positional; <c>$1</c> is always the service id.
/// </summary>
internal sealed class ReminderSql
{
    private const string Columns = "grain_id, reminder_name, grain_hash, start_at, period_ticks, etag";

    public ReminderSql(string table, string sequence)
    {
        ReadGrain = $"SELECT {Columns} FROM {table} WHERE service_id = $1 AND grain_id = $2";

        ReadOne = $"SELECT {Columns} FROM {table} WHERE service_id = $1 AND grain_id = $2 AND reminder_name = $3";

        // The ring range (begin, end] when begin < end: $2 begin, $3 end.
        ReadRange = $"SELECT {Columns} FROM {table} WHERE service_id = $1 AND grain_hash > $2 AND grain_hash <= $3";

        // A range that wraps past the top of the ring (begin >= end; begin = end is the whole ring): its two pieces
        // (above begin, up to end) are disjoint, so each is one index range and nothing comes back twice.
        ReadWrappedRange = $"""
            SELECT {Columns} FROM {table} WHERE service_id = $1 AND grain_hash > $2
            UNION ALL
            SELECT {Columns} FROM {table} WHERE service_id = $1 AND grain_hash <= $3
            """;

        // $2 grain id, $3 name, $4 hash, $5 start, $6 period ticks. Every write draws a fresh ETag.
        Upsert = $"""
            INSERT INTO {table} AS r (service_id, grain_id, reminder_name, grain_hash, start_at, period_ticks, etag)
            VALUES ($1, $2, $3, $4, $5, $6, nextval('{sequence}'))
            ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
            SET grain_hash = excluded.grain_hash, start_at = excluded.start_at, period_ticks = excluded.period_ticks,
                etag = excluded.etag
            RETURNING r.etag
            """;

        // $4 the ETag the caller read.
        Delete = $"DELETE FROM {table} WHERE service_id = $1 AND grain_id = $2 AND reminder_name = $3 AND etag = $4";

        DeleteService = $"DELETE FROM {table} WHERE service_id = $1";
    }

    public string ReadGrain { get; }

    public string ReadOne { get; }

    public string ReadRange { get; }

    public string ReadWrappedRange { get; }

    public string Upsert { get; }

    public string Delete { get; }

    public string DeleteService { get; }
}
