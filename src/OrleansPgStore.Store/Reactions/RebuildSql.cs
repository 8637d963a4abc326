namespace OrleansPgStore.Store.Reactions;

/// <summary>The statement that measures a rebuild's replay, over one events table and one subscriptions table.</summary>
internal static class RebuildSql
{
    /// <summary>
    /// $1 targets, $2 event names, $3 ceiling position. Per target, the events of its source stream (every stream when
    /// it has none) above its watermark up to its work mark and the ceiling: (remaining, remaining on unblocked
    /// targets, highest work mark). An estimate where a target takes only some of its source's events.
    /// </summary>
    public static string Remaining(string events, string subscriptions) => $"""
        SELECT coalesce(sum(r.n), 0)::bigint,
               coalesce(sum(r.n) FILTER (WHERE NOT s.blocked), 0)::bigint,
               coalesce(max(s.work), -1)::bigint
        FROM {subscriptions} s
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM {events} e
            WHERE (s.source IS NULL OR e.stream = s.source)
              AND e.position > s.at AND e.position <= least(s.work, $3)
              AND e.name = ANY($2) AND NOT e.snapshot
        ) r
        WHERE s.stream = ANY($1)
        """;
}
