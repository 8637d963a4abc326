namespace OrleansPgStore.Store.Admin;

/// <summary>The statements of <see cref="StoreAdmin"/>, complete, for one set of tables (validated and quoted).</summary>
internal sealed class AdminSql
{
    public AdminSql(string events, string subscriptions)
    {
        // $1: the qualified, quoted table names. to_regclass is null for a missing table, so nothing here fails on one.
        Tables = """
            SELECT t.name, c.oid IS NOT NULL, coalesce(pg_total_relation_size(c.oid), 0)
            FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ordinal)
            LEFT JOIN LATERAL (SELECT to_regclass(t.name) AS oid) c ON true
            ORDER BY t.ordinal
            """;

        EventCounts = $"SELECT count(*) FILTER (WHERE NOT snapshot), count(*) FILTER (WHERE snapshot) FROM {events}";

        // Per lane: targets, lagging, blocked, events behind (committed after the watermark up to the work mark, in
        // the source stream when there is one) and the age of the oldest of them. Every row is a target (checkpoints
        // have a table of their own).
        Lag = $"""
            SELECT s.lane,
                   count(*),
                   count(*) FILTER (WHERE s.work > s.at),
                   count(*) FILTER (WHERE s.blocked),
                   coalesce(sum(b.behind), 0)::bigint,
                   coalesce(extract(epoch FROM now() - min(b.oldest)), 0)::float8
            FROM {subscriptions} s
            LEFT JOIN LATERAL (
                SELECT count(*) AS behind, min(e.created) AS oldest
                FROM {events} e
                WHERE e.position > s.at AND e.position <= s.work AND NOT e.snapshot
                  AND (s.source IS NULL OR e.stream = s.source)
            ) b ON s.work > s.at
            GROUP BY s.lane
            ORDER BY s.lane
            """;

        Blocked = $"""
            SELECT stream, lane, retry, error
            FROM {subscriptions}
            WHERE blocked
            ORDER BY stream
            LIMIT $1
            """;
    }

    public string Tables { get; }

    public string EventCounts { get; }

    public string Lag { get; }

    public string Blocked { get; }

    public static string Count(string table) => $"SELECT count(*) FROM {table}";
}
