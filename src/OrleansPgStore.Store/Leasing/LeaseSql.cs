using System.Collections.Concurrent;
using System.Globalization;

namespace OrleansPgStore.Store.Leasing;

/// <summary>
/// Every statement the lease store runs, complete, for one subscriptions table and its checkpoints table
/// (<see cref="CheckpointSchema"/>). Hot paths use positional parameters.
/// </summary>
/// <remarks>
/// The writes of the reaction loop (claim, ack, block, work marks, checkpoints) set this transaction's
/// <c>synchronous_commit</c> from their last parameter: <c>off</c>, or <c>NULL</c> to keep the server's setting (see
/// <see cref="LeaseStoreOptions.SynchronousCommit"/>).
/// </remarks>
internal sealed class LeaseSql
{
    // $n is the statement's last parameter: 'off', or NULL for the server's own setting.
    private static string CommitMode(int n)
        => $"SELECT set_config('synchronous_commit', coalesce(${n}::text, current_setting('synchronous_commit')), true)";

    // Eligible to claim: has work, not blocked, no live lease of another holder, not deferred. Expiry by the database
    // clock. A live lease of the claiming holder itself ($1) is eligible: a loop runs one cycle at a time, so when it
    // claims, none of its leases is in use; one it still holds is left over from a cycle whose report never took effect
    // (a crash lost an asynchronous commit, a connection died before the ack), and waiting for it to expire would stall
    // its target for a whole lease duration.
    private const string Claimable = """
        work > at AND NOT blocked
          AND (leased_until IS NULL OR leased_until <= now() OR leased_by = $1)
          AND (due IS NULL OR due <= now())
        """;

    private readonly ConcurrentDictionary<(int byPriority, int reserve, int leading), string> _claims = new();
    private readonly string _table;
    private readonly string _checkpoints;

    /// <param name="table">The subscriptions table, quoted and qualified: one row per target stream, of any name.</param>
    /// <param name="checkpoints">Its checkpoints table, quoted and qualified.</param>
    public LeaseSql(string table, string checkpoints)
    {
        _table = table;
        _checkpoints = checkpoints;

        // $1 streams, $2 holders, $3 watermarks, $4 retry delays in milliseconds (null: success). Only the holder acks.
        string AckWhere(string fence) => $"""
            WITH commit_mode AS ({CommitMode(5)})
            UPDATE {table} s
            SET at = greatest(s.at, i.at),
                retry = CASE WHEN i.delay IS NULL THEN -1 ELSE s.retry END,
                due = now() + i.delay * interval '1 millisecond',
                leased_by = NULL,
                leased_until = NULL
            FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS i(stream, holder, at, delay), commit_mode
            WHERE s.stream = i.stream AND s.leased_by = i.holder{fence}
            RETURNING s.stream
            """;

        // $1 streams, $2 holders, $3 watermarks, $4 errors. Only the holder blocks, and only once.
        string BlockWhere(string fence) => $"""
            WITH commit_mode AS ({CommitMode(5)})
            UPDATE {table} s
            SET blocked = true, error = i.error, at = greatest(s.at, i.at), leased_by = NULL, leased_until = NULL
            FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS i(stream, holder, at, error), commit_mode
            WHERE s.stream = i.stream AND s.leased_by = i.holder{fence} AND NOT s.blocked
            RETURNING s.stream
            """;

        Ack = AckWhere("");
        Block = BlockWhere("");

        // The fenced forms run inside a projection's transaction: only a holder whose lease is still live by the
        // server's clock at this statement (clock_timestamp, not the transaction's start) may report. The row lock
        // taken here keeps anyone from claiming the target until the transaction ends, so the lease cannot be lost
        // between this check and the commit.
        const string liveLease = " AND s.leased_until > clock_timestamp()";
        FencedAck = AckWhere(liveLease);
        FencedBlock = BlockWhere(liveLease);

        // $1 streams, $2 sources, $3 priorities, $4 lanes. New rows count via xmax = 0 (inserted, not updated).
        Subscribe = $"""
            WITH upserted AS (
                INSERT INTO {table} (stream, source, priority, lane)
                SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[])
                ON CONFLICT (stream) DO UPDATE SET priority = excluded.priority
                WHERE {table}.priority < excluded.priority
                RETURNING xmax = 0 AS inserted
            )
            SELECT (SELECT count(*) FROM upserted WHERE inserted),
                   (SELECT coalesce(max(at), -1) FROM {table})
            """;

        // $1 streams, $2 sources, $3 positions, $4 priorities, $5 lanes: registers targets and raises work marks.
        RaiseWork = $"""
            WITH commit_mode AS ({CommitMode(6)})
            INSERT INTO {table} AS s (stream, source, work, priority, lane)
            SELECT u.stream, u.source, u.work, u.priority, u.lane
            FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[], $5::text[]) AS u(stream, source, work, priority, lane), commit_mode
            ON CONFLICT (stream) DO UPDATE SET work = greatest(s.work, excluded.work)
            WHERE s.work < excluded.work
            """;

        // $1 checkpoint name. The discovery checkpoint of a group of workers, created at -1 when missing. Any worker may
        // read it and advance it (see AdvanceCheckpoint): there is no lease on it, so no worker's death stalls discovery.
        ReadCheckpoint = $"""
            WITH commit_mode AS ({CommitMode(2)}), created AS (
                INSERT INTO {checkpoints} (name) SELECT $1 FROM commit_mode ON CONFLICT (name) DO NOTHING RETURNING at
            )
            SELECT at FROM created UNION ALL SELECT at FROM {checkpoints} WHERE name = $1
            """;

        // $1 checkpoint name, $2 where the reader started (exclusive), $3 where it read up to; $4-$8 the work marks as in
        // RaiseWork; $9 a NOTIFY channel (NULL: none) and $10 its payload. A compare-and-set: the checkpoint moves only
        // when it is at least where the reader started (every event below it has its marks) and below where it read up
        // to; only then are the marks raised and the new work announced (one statement, one round trip). The marks'
        // source waits on the advance (EXISTS), so the checkpoint row is locked before any mark: that lock orders
        // concurrent discoverers, whose marks never deadlock with each other. The NOTIFY is delivered at commit only,
        // so no worker is woken for marks that never commit. Returns the new position, or NULL when nothing moved.
        AdvanceCheckpoint = $"""
            WITH commit_mode AS ({CommitMode(11)}), advanced AS (
                UPDATE {checkpoints} SET at = $3 FROM commit_mode WHERE name = $1 AND at >= $2 AND at < $3
                RETURNING at
            ), raised AS (
                INSERT INTO {table} AS s (stream, source, work, priority, lane)
                SELECT u.stream, u.source, u.work, u.priority, u.lane
                FROM unnest($4::text[], $5::text[], $6::bigint[], $7::integer[], $8::text[]) AS u(stream, source, work, priority, lane)
                WHERE EXISTS (SELECT FROM advanced)
                ON CONFLICT (stream) DO UPDATE SET work = greatest(s.work, excluded.work)
                WHERE s.work < excluded.work
            ), announced AS (
                SELECT pg_notify($9::text, $10::text) FROM advanced WHERE $9::text IS NOT NULL AND cardinality($4::text[]) > 0
            )
            SELECT (SELECT at FROM advanced), (SELECT count(*) FROM announced)
            """;

        // $1 checkpoint name: where it is now. Sent after AdvanceCheckpoint in the same batch: a statement of its own takes
        // a fresh snapshot (read committed), so it sees what the advance waited for when that did not apply.
        CheckpointPosition = $"SELECT at FROM {checkpoints} WHERE name = $1";

        // $1 holder. Releases the target leases of exactly that holder; a target's retry count stays (the attempt was made).
        ReleaseOwn = $"UPDATE {table} SET leased_by = NULL, leased_until = NULL WHERE leased_by = $1";

        // $1 holder prefix. Releases every target lease of holders whose name starts with it: the workers of a process
        // known to be dead. A target's retry count stays (the attempt was made).
        ReleaseHeldBy = $"""
            UPDATE {table} SET leased_by = NULL, leased_until = NULL
            WHERE leased_by IS NOT NULL AND left(leased_by, length($1)) = $1
            """;

        const string filter = """
            (@streams::text[] IS NULL OR stream = ANY(@streams::text[]))
              AND (@source::text IS NULL OR source = @source::text)
              AND (@blocked::boolean IS NULL OR blocked = @blocked::boolean)
              AND (@lane::text IS NULL OR lane = @lane::text)
            """;

        Unblock = $"""
            UPDATE {table}
            SET blocked = false, error = NULL, retry = -1, leased_by = NULL, leased_until = NULL, due = NULL
            WHERE blocked AND {filter}
            """;

        Reset = $"""
            UPDATE {table}
            SET at = -1, retry = -1, blocked = false, error = NULL, leased_by = NULL, leased_until = NULL, due = NULL
            WHERE {filter}
            """;

        // The same, returning the targets reset (a rebuild follows their replay).
        ResetReturning = Reset + "\nRETURNING stream";

        Defer = $"UPDATE {table} SET due = @due WHERE {filter}";

        Prioritize = $"UPDATE {table} SET priority = @priority WHERE priority <> @priority AND {filter}";

        QueryStreams = $"""
            SELECT stream, source, at, work, retry, blocked, error, leased_by, leased_until, priority, lane, due
            FROM {table}
            WHERE {filter} AND (@after::text IS NULL OR stream > @after::text)
            ORDER BY stream
            LIMIT @limit
            """;
    }

    /// <summary>The claim, for <paramref name="byPriority"/> + <paramref name="reserve"/> lagging and <paramref name="leading"/> leading targets.</summary>
    /// <remarks>
    /// <para>$1 holder, $2 lease milliseconds, $3 lane. Each frontier is a LIMITed scan of a partial index, and the
    /// frontiers are disjoint. Only these final candidates are locked (SKIP LOCKED: a worker never waits for another),
    /// and eligibility is checked again under the lock, so a target is never leased twice. Workers claiming at the same
    /// instant see the same candidates, so one of them may get fewer than asked. When it gets none although there were
    /// candidates (all of them taken by another claim in the meantime), the statement returns one row of nulls instead
    /// of none: the claim was contended, and the loop looks again in a moment rather than sleeping a poll interval
    /// while work is left (see <see cref="ClaimedLeases.Contended"/>).</para>
    /// <para>The counts are written into the text, not passed as parameters: with a parameter for a LIMIT the planner
    /// guesses 10 % of the table, so the generic plan of a large subscriptions table looked expensive (hash joins over
    /// every row) and PostgreSQL planned every claim afresh, about 0.5 ms each at 100,000 subscriptions. With the
    /// counts known, it settles on the generic plan after five executions (planning about 0.02 ms). A loop always
    /// claims with the same counts, so each loop uses one statement.</para>
    /// </remarks>
    public string Claim(int byPriority, int reserve, int leading)
        => _claims.GetOrAdd((byPriority, reserve, leading), static (counts, table) => $"""
            WITH commit_mode AS ({CommitMode(4)}), by_priority AS (
                SELECT stream FROM {table}
                WHERE lane = $3 AND {Claimable}
                ORDER BY priority DESC, at
                LIMIT {counts.byPriority.ToString(CultureInfo.InvariantCulture)}
            ), reserve AS (
                SELECT stream FROM {table}
                WHERE lane = $3 AND {Claimable}
                  AND stream NOT IN (SELECT stream FROM by_priority)
                ORDER BY at
                LIMIT {counts.reserve.ToString(CultureInfo.InvariantCulture)}
            ), leading_frontier AS (
                SELECT stream FROM {table}
                WHERE lane = $3 AND {Claimable}
                  AND stream NOT IN (SELECT stream FROM by_priority)
                  AND stream NOT IN (SELECT stream FROM reserve)
                ORDER BY at DESC
                LIMIT {counts.leading.ToString(CultureInfo.InvariantCulture)}
            ), candidates AS (
                SELECT stream, true AS lagging FROM by_priority
                UNION ALL SELECT stream, true FROM reserve
                UNION ALL SELECT stream, false FROM leading_frontier
            ), locked AS (
                SELECT s.stream, c.lagging
                FROM {table} s JOIN candidates c ON c.stream = s.stream
                WHERE s.work > s.at AND NOT s.blocked
                  AND (s.leased_until IS NULL OR s.leased_until <= now() OR s.leased_by = $1)
                  AND (s.due IS NULL OR s.due <= now())
                FOR UPDATE OF s SKIP LOCKED
            ), claimed AS (
                UPDATE {table} s
                SET leased_by = $1, leased_until = now() + $2 * interval '1 millisecond', retry = s.retry + 1
                FROM locked l, commit_mode
                WHERE s.stream = l.stream
                RETURNING s.stream, s.source, s.at, s.work, s.retry, l.lagging, s.leased_until
            )
            SELECT stream, source, at, work, retry, lagging, leased_until FROM claimed
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL
            WHERE NOT EXISTS (SELECT FROM claimed) AND EXISTS (SELECT FROM candidates)
            """, _table);

    public string Ack { get; }

    public string Block { get; }

    public string FencedAck { get; }

    public string FencedBlock { get; }

    public string Subscribe { get; }

    public string RaiseWork { get; }

    public string ReadCheckpoint { get; }

    public string AdvanceCheckpoint { get; }

    public string CheckpointPosition { get; }

    /// <summary>
    /// Discovery in the database, for reactions whose targets are the events' own streams: reads the settled feed after
    /// the checkpoint, raises each stream's work mark and advances the checkpoint, in one statement (AdvanceCheckpoint
    /// with the feed read and the mapping of events to targets inside it).
    /// </summary>
    /// <param name="settledHeads">
    /// The journal's settled feed page (<see cref="Journal.JournalSql.SettledHeads"/>) over <c>(SELECT at FROM cp)</c>,
    /// up to <c>$7</c>, names <c>$3</c>, limit <c>$6</c>. The journal writes it and this statement embeds it: the fence is
    /// the feed's correctness, so there is one text of it (in <c>JournalSql</c>), and the checkpoint and the marks are the
    /// subscriptions table's, so they are written here, next to <see cref="AdvanceCheckpoint"/>.
    /// </param>
    /// <remarks>
    /// <para>$1 checkpoint name; $2 where the reader's cached checkpoint is (NULL: read the stored one in this statement,
    /// which is what a read just before would return); $3 the event names, $4 and $5 per name the priority and lane of
    /// the first reaction that handles it (what a target registered by that event gets); $6 the page's limit; $7 its
    /// upper bound (the largest position: a bound the planner cannot see through keeps the "settling" probe an index
    /// range, as in the feed statements); $8 whether to advance past a page without events (a write that only saves
    /// rescanning); $9 and $10 the NOTIFY as in AdvanceCheckpoint; $11 the commit mode.</para>
    /// <para>The page's next position is <see cref="Journal.FeedPage.ContinueAfter"/>'s: the last event's of a full page,
    /// else just below the fence. Each stream's mark is its last event in the page (a target's work is the highest
    /// position it has to handle), with the priority and lane of the reaction that marks that event first, as the
    /// loop's own mapping does (<c>WorkMark</c>s merged per target). The advance is AdvanceCheckpoint's compare-and-set:
    /// only when the stored checkpoint is at least where the page started and below where it ends; a missing row is
    /// created only by a page that started from the beginning (a row lost in a crash with a cached position above -1
    /// makes the reader start again, as with AdvanceCheckpoint). Marks wait on the advance (EXISTS), so the checkpoint
    /// row is locked before any mark. Every stream can be a target, whatever its name: checkpoints have a table of their own.</para>
    /// <para>One row back: where the page started, where it ends, events read, settling, the new position (NULL: no
    /// advance), targets marked, NOTIFYs sent.</para>
    /// </remarks>
    public string Discover(string settledHeads) => $"""
        WITH commit_mode AS ({CommitMode(11)}), cp AS MATERIALIZED (
            SELECT coalesce($2::bigint, stored.at, -1) AS at, stored.at IS NOT NULL AS stored
            FROM (SELECT (SELECT at FROM {_checkpoints} WHERE name = $1) AS at) stored
        ), page AS MATERIALIZED (
            {settledHeads}
        ), bounds AS MATERIALIZED (
            SELECT cp.at AS from_at, cp.stored, p.read, coalesce(p.settling, false) AS settling,
                   CASE WHEN p.read >= $6 THEN p.last ELSE greatest(cp.at, p.fence - 1) END AS to_at
            FROM cp, (SELECT count(position) AS read, max(position) AS last, max(fence) AS fence, bool_or(settling) AS settling
                      FROM page) p
        ), marks AS MATERIALIZED (
            SELECT DISTINCT ON (p.stream) p.stream, p.position, n.priority, n.lane
            FROM page p JOIN unnest($3::text[], $4::integer[], $5::text[]) AS n(name, priority, lane) ON n.name = p.name
            ORDER BY p.stream, p.position DESC
        ), advanced AS (
            INSERT INTO {_checkpoints} AS s (name, at)
            SELECT $1, b.to_at FROM bounds b, commit_mode
            WHERE b.to_at > b.from_at AND (b.read > 0 OR $8::boolean) AND (b.stored OR b.from_at = -1)
            ON CONFLICT (name) DO UPDATE SET at = excluded.at
            WHERE s.at >= (SELECT from_at FROM bounds) AND s.at < excluded.at
            RETURNING s.at
        ), raised AS (
            INSERT INTO {_table} AS s (stream, source, work, priority, lane)
            SELECT m.stream, m.stream, m.position, m.priority, m.lane FROM marks m
            WHERE EXISTS (SELECT FROM advanced)
            ON CONFLICT (stream) DO UPDATE SET work = greatest(s.work, excluded.work)
            WHERE s.work < excluded.work
        ), announced AS (
            SELECT pg_notify($9::text, $10::text) FROM advanced WHERE $9::text IS NOT NULL AND EXISTS (SELECT FROM marks)
        )
        SELECT b.from_at, b.to_at, b.read, b.settling, (SELECT at FROM advanced), (SELECT count(*) FROM marks),
               (SELECT count(*) FROM announced)
        FROM bounds b
        """;

    public string ReleaseHeldBy { get; }

    public string ReleaseOwn { get; }

    public string Unblock { get; }

    public string Reset { get; }

    public string ResetReturning { get; }

    public string Defer { get; }

    public string Prioritize { get; }

    public string QueryStreams { get; }
}
