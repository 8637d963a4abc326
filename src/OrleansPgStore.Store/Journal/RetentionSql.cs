using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

/// <summary>
/// The statements of windowed retention. Which subscriptions consume the events is found at each run (subscriptions
/// tables come and go with reaction registrations), so the trimming statement is built per run from their names.
/// </summary>
internal static class RetentionSql
{
    /// <summary>
    /// The subscriptions tables of the schema $1: every table with the columns of one (true), and every table with the
    /// columns of a checkpoints table (false; see <see cref="CheckpointTable"/>). Each subscriptions table may
    /// consume these events (the engine cannot tell which events table it follows), so each holds back what it has not
    /// passed, and so does each discovery checkpoint in its checkpoints table.
    /// </summary>
    public const string SubscriptionTables = """
        SELECT c.relname, k.subscriptions
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE a.attname IN ('stream', 'source', 'at', 'work', 'blocked', 'leased_by')) = 6 AS subscriptions,
                   count(*) FILTER (WHERE a.attname IN ('name', 'at', 'leased_by', 'leased_until', 'resume_from')) = 5 AS checkpoints
            FROM pg_attribute a
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        ) k
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND (k.subscriptions OR k.checkpoints)
        ORDER BY c.relname
        """;

    /// <summary>
    /// A page of the snapshots older than the cutoff $1, created at or after $2 (null: any), after ($3, $4) in
    /// (created, position) order, at most $5: the index on (created, position) of snapshots keeps a run to the snapshots
    /// taken since the previous one.
    /// </summary>
    public static string Snapshots(string table) => $"""
        SELECT stream, created, position FROM {table}
        WHERE snapshot AND created < $1
          AND ($2::timestamptz IS NULL OR created >= $2::timestamptz)
          AND ($3::timestamptz IS NULL OR (created, position) > ($3::timestamptz, $4::bigint))
        ORDER BY created, position
        LIMIT $5
        """;

    /// <summary>How many streams have a snapshot to visit: older than $1, created at or after $2 (null: any).</summary>
    public static string StreamCount(string table) => $"""
        SELECT count(DISTINCT stream) FROM {table}
        WHERE snapshot AND created < $1 AND ($2::timestamptz IS NULL OR created >= $2::timestamptz)
        """;

    /// <summary>
    /// Trims the streams $2 behind their newest snapshot older than $1, keeping every event some subscription has not
    /// passed; $3: blocked targets hold nothing; $4: count only (dry run). Returns the rows deleted (or that would be),
    /// those of them a blocked target had not consumed, the rows withheld, the streams that withheld some, and the
    /// holding subscription with the lowest watermark.
    /// </summary>
    /// <remarks>
    /// What a subscription has passed: a discovery checkpoint (<c>discovery:…</c> in the checkpoints table) has read the feed up to its
    /// position, so any later event may still raise some target's work: it holds every stream above it. A target with
    /// work pending (work &gt; watermark) reads the events after its watermark, of its source stream, or of every stream
    /// when it has none (fed by the whole feed). A target without pending work needs nothing: every event it handles up
    /// to the checkpoints has raised its work mark. Snapshots are never read by subscriptions. One statement, so the
    /// holds and the delete see the same moment.
    /// <para>A subscriptions table without its checkpoints table is one an older release created and none since has
    /// seeded: its checkpoints are still its rows named <c>$checkpoint:…</c>, and no target of it starts with '$'.</para>
    /// </remarks>
    public static string Trim(string table, IReadOnlyList<SubscriptionTable> subscriptionTables, string quotedSchema)
    {
        var holds = subscriptionTables.Count == 0
            ? "SELECT NULL::text AS tbl, NULL::text AS holder, NULL::text AS source, NULL::bigint AS at, false AS blocked, false AS checkpoint WHERE false"
            : string.Join("\n    UNION ALL\n    ", subscriptionTables.Select(t => Holds(t, quotedSchema)));
        return $"""
            WITH cut AS (
                SELECT stream, max(version) AS version
                FROM {table}
                WHERE snapshot AND created < $1 AND stream = ANY($2::text[])
                GROUP BY stream
            ),
            holds AS (
                {holds}
            ),
            applied AS (
                SELECT cut.stream, h.tbl, h.holder, h.at, h.blocked AND NOT h.checkpoint AS blocked
                FROM cut JOIN holds h ON h.checkpoint OR h.source IS NULL OR h.source = cut.stream
            ),
            keep AS (
                SELECT stream, min(at) FILTER (WHERE NOT blocked) AS unblocked, min(at) FILTER (WHERE blocked) AS blocked
                FROM applied GROUP BY stream
            ),
            covered AS (
                SELECT e.position, e.stream, e.snapshot,
                       NOT e.snapshot AND e.position > coalesce(k.unblocked, 9223372036854775807) AS held,
                       NOT e.snapshot AND e.position > coalesce(k.blocked, 9223372036854775807) AS held_by_blocked
                FROM {table} e
                JOIN cut ON e.stream = cut.stream
                LEFT JOIN keep k ON k.stream = e.stream
                WHERE e.version < cut.version OR (e.version = cut.version AND NOT e.snapshot)
            ),
            doomed AS (
                SELECT position, held_by_blocked FROM covered WHERE NOT held AND (NOT held_by_blocked OR $3)
            ),
            deleted AS (
                DELETE FROM {table} e USING doomed d WHERE NOT $4 AND e.position = d.position
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM doomed),
                   (SELECT count(*) FROM doomed WHERE held_by_blocked),
                   (SELECT count(*) FROM covered WHERE held OR (held_by_blocked AND NOT $3)),
                   (SELECT coalesce(array_agg(DISTINCT stream), ARRAY[]::text[]) FROM covered WHERE held OR (held_by_blocked AND NOT $3)),
                   oldest.tbl, oldest.holder, oldest.at, oldest.blocked,
                   (SELECT count(*) FROM deleted)
            FROM (SELECT 1) AS one
            LEFT JOIN LATERAL (
                SELECT a.tbl, a.holder, a.at, a.blocked
                FROM applied a
                WHERE (NOT a.blocked OR NOT $3)
                  AND EXISTS (SELECT 1 FROM covered c WHERE c.stream = a.stream AND NOT c.snapshot AND c.position > a.at)
                ORDER BY a.at, a.holder
                LIMIT 1
            ) AS oldest ON true
            """;
    }

    /// <summary>What one subscriptions table holds (see <see cref="Trim"/>): its targets with work, and its discovery checkpoints.</summary>
    private static string Holds(SubscriptionTable subscriptions, string quotedSchema)
    {
        var targets = quotedSchema + "." + SqlIdentifier.Quote(subscriptions.Name, "Subscriptions table");
        if (subscriptions.Checkpoints is not { } checkpoints)
        {
            return $"""
                SELECT '{subscriptions.Name}'::text AS tbl, stream AS holder, source, at, blocked, left(stream, 12) = '$checkpoint:' AS checkpoint
                    FROM {targets}
                    WHERE left(stream, 12) = '$checkpoint:'
                       OR (left(stream, 1) <> '$' AND work > at AND (source IS NULL OR source = ANY($2::text[])))
                """;
        }

        return $"""
            SELECT '{subscriptions.Name}'::text AS tbl, stream AS holder, source, at, blocked, false AS checkpoint
                FROM {targets}
                WHERE work > at AND (source IS NULL OR source = ANY($2::text[]))
                UNION ALL
                SELECT '{checkpoints}'::text, name, NULL, at, false, true
                FROM {quotedSchema}.{SqlIdentifier.Quote(checkpoints, "Checkpoints table")}
                WHERE left(name, {CheckpointTable.DiscoveryPrefix.Length}) = '{CheckpointTable.DiscoveryPrefix}'
            """;
    }
}

/// <summary>A subscriptions table retention found, and its checkpoints table (<c>null</c>: an older release's layout, not yet seeded since).</summary>
internal sealed record SubscriptionTable(string Name, string? Checkpoints);
