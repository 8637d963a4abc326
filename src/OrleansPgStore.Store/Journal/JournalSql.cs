namespace OrleansPgStore.Store.Journal;

/// <summary>
/// Every statement the journal runs, complete, for one table. Values are always parameters; the table name is
/// validated and quoted once, here.
/// </summary>
/// <remarks>
/// <para><b>Positions.</b> A commit's positions are <c>((xid + offset) &lt;&lt; 20) + index</c>, where <c>xid</c> is
/// the committing transaction's 64-bit id (<c>pg_current_xact_id()</c>), <c>index</c> the event's place in the batch
/// (so a batch holds at most 2^20 events) and <c>offset</c> the value in the table's one-row positions table (0 until
/// a restore moved the table to a server whose ids are lower; see <see cref="RebasePositions"/>). Within one stream,
/// positions follow versions: each commit is a single statement whose transaction id is assigned after its snapshot,
/// i.e. after the previous version's commit became visible.</para>
/// <para><b>Who appends.</b> Every statement that gives rows positions takes a shared transaction-level advisory lock
/// on (<see cref="AppendLockClass"/>, the table's oid) before its transaction has an id (see <c>appendLock</c>), and
/// PostgreSQL releases it only after the transaction has left the set of running transactions (locks go after
/// <c>ProcArrayEndTransaction</c>, and advisory locks after the transaction's lock on its own id). So for an
/// appender, "holds its <c>transactionid</c> lock" implies "holds the append lock", at every instant. Shared: appenders
/// never wait for each other, and commits still share WAL flushes (group commit).</para>
/// <para><b>The fence.</b> A reading statement takes its snapshot S at its start, then (during execution) reads
/// <c>pg_locks</c> once, at a later instant L (<c>pg_lock_status</c> copies the lock table under all its partition
/// locks: one consistent picture). A running transaction in S (an id in <c>pg_snapshot_xip(S)</c>) is
/// <i>unrelated</i> when at L its <c>transactionid</c> lock is held by a server process (<c>pid</c>) that holds no
/// append lock of this table. The match is by pid, not by <c>virtualtransaction</c>: pg_locks reports a holder's
/// virtual transaction id from the live <c>PGPROC.lxid</c>, which a committing transaction clears (in
/// <c>ProcArrayEndTransaction</c>) before it releases its locks and without the lock table's locks, so the two rows of
/// one committing appender can carry different virtual ids in one picture. Matching on them classified such an appender
/// as unrelated and skipped its events about once in fifteen runs of the 16-writer race test. A process releases all of
/// a transaction's locks before it starts the next one, so within one picture a pid names one transaction; a prepared
/// transaction (no pid) is never unrelated. The fence is the smallest id in <c>xip(S)</c> that is not unrelated, or <c>xmax(S)</c>, in position units.
/// The statement reads rows with S and only positions below the fence.</para>
/// <para><b>Why nothing is skipped.</b> Take an appender T with id x below the fence. Then x &lt; xmax(S), so x was
/// assigned before S. If T is not in xip(S) it had finished before S, and S sees its rows (or they were rolled back).
/// If T is in xip(S), then, the fence being at most every member of xip(S) that is not unrelated, T was unrelated:
/// at L its <c>transactionid</c> lock was held without this table's append lock. But T took the append lock before
/// it had an id and keeps it until after that id's lock is gone: a contradiction. So every appender below the fence
/// is visible to S or gone, and a forward reader that stops at the fence never passes an event that becomes visible
/// later. An xid of S that finished between S and L has no lock at
/// L and holds the fence for that one statement only (harmless). Unrelated transactions, in this database or any
/// other, hold nothing back: a long batch job does not delay the feed.</para>
/// <para>Assumes the append statement is the first in its transaction to write (true for every statement here:
/// commits, snapshots and truncations run in transactions of their own), and that appends are not prepared with
/// two-phase commit (PREPARE TRANSACTION moves locks one partition at a time).</para>
/// </remarks>
internal sealed class JournalSql
{
    private const string Columns = "position, stream, version, name, data::text, snapshot, event_id, correlation, causation::text, created";

    private readonly string _table;

    // The fence's CTEs (see remarks), the one text every statement that reads the settled feed starts with.
    private readonly string _fence;

    /// <summary>
    /// The first key of the advisory lock appenders hold (shared) for the rest of their transaction; the second is
    /// the events table's oid. The two-key form keeps it apart from applications' int8 keys and from the seed's locks
    /// (<see cref="Schema.SchemaLocks"/>, classes "OPS1" and "OPS2").
    /// </summary>
    public const int AppendLockClass = 0x4F505333; // "OPS3"

    /// <summary>
    /// The first key of the advisory lock that orders a stream's full truncations and snapshot saves (see
    /// <see cref="TruncateCurrentVersion"/>); the second is a hash of the table's oid and the stream. A hash collision only
    /// makes two unrelated streams take turns for a moment.
    /// </summary>
    public const int StreamLockClass = 0x4F505334; // "OPS4"

    /// <param name="table">The quoted, qualified events table.</param>
    /// <param name="positionsTable">Its quoted, qualified positions table.</param>
    /// <param name="offsetIsZero">
    /// The commit statements for a table whose offset was found to be 0 (every table that was never rebased): they add
    /// nothing, sparing every append a read of the positions table. The store re-checks the offset after a failed write
    /// (a restore and rebase always breaks the connections first). Reads and the other writes always read the offset.
    /// </param>
    public JournalSql(string table, string positionsTable, bool offsetIsZero = false)
    {
        _table = table;
        // The position offset (see remarks): one row, read in the statement that uses it (no extra round trip).
        var offset = $"(SELECT xid_offset FROM {positionsTable})";
        var commitOffset = offsetIsZero ? "0" : offset;
        const string xid = "pg_current_xact_id()::text::bigint";
        var tableOid = $"'{table}'::regclass";

        // Taken by every statement that gives rows positions, in its WHERE clause: a pseudo-constant condition,
        // so PostgreSQL evaluates it once (an InitPlan in a One-Time Filter) before the statement's first row is
        // formed, i.e. before the first insert assigns the transaction its id. Shared: appenders never wait for each
        // other (nothing takes it exclusively).
        var appendLock = $"(SELECT pg_advisory_xact_lock_shared({AppendLockClass}, {tableOid}::oid::int) IS NOT NULL)";

        // Orders a stream's full truncations (exclusive) and snapshot saves (shared), so that neither writes into the
        // other's half-done work: a save committing during a truncation would leave its row beside (or, at the
        // truncation's version, in the way of) the row the truncation keeps. Snapshot saves need not wait for each other.
        string StreamLock(string mode, string stream)
            => $"pg_advisory_xact_lock{mode}({StreamLockClass}, hashtext({tableOid}::oid::text || '/' || {stream}))";

        // The fence of a reading statement, in position units, as the relation "f" (see remarks): the oldest of
        // the transactions in flight at the statement's snapshot that are not known to be unrelated to this table,
        // or the snapshot's xmax when there is none. pg_locks is read once (one consistent picture of the lock
        // table) and only when some transaction is in flight. "horizon": the snapshot's xmax, above every position
        // committed before the statement began.
        var fence = $"""
            snap AS MATERIALIZED (
                SELECT pg_current_snapshot() AS s, {offset} AS xid_offset
            ), locks AS MATERIALIZED (
                SELECT locktype, transactionid, pid, database, classid, objid, objsubid, mode, granted
                FROM pg_locks WHERE locktype IN ('transactionid', 'advisory')
            ), unrelated AS MATERIALIZED (
                SELECT l.transactionid::text::bigint AS xid
                FROM locks l
                WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted AND l.transactionid IS NOT NULL
                  AND l.pid IS NOT NULL
                  AND NOT EXISTS (
                      SELECT 1 FROM locks a
                      WHERE a.locktype = 'advisory' AND a.pid = l.pid
                        AND a.classid = {AppendLockClass}::oid AND a.objid = {tableOid} AND a.objsubid = 2
                        AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
            ), f AS MATERIALIZED (
                SELECT (coalesce((SELECT min(x) FROM pg_snapshot_xip(snap.s) x
                                  WHERE x::text::bigint % 4294967296 NOT IN (SELECT xid FROM unrelated)),
                                 pg_snapshot_xmax(snap.s))::text::bigint + snap.xid_offset) << 20 AS fence,
                       (pg_snapshot_xmax(snap.s)::text::bigint + snap.xid_offset) << 20 AS horizon
                FROM snap
            )
            """;
        _fence = fence;

        // Parameters: $1 stream, $2 expected version (null: no check), $3 names, $4 payloads, $5 event ids
        // (null: none), $6 correlation id, $7 causation. One row back: the stream's last version before, the first
        // position, the count appended (0: the expected version did not match), the commit time. Event i of the batch
        // has the first position + i and the version last + 1 + i, and every row the same created (now()), so the
        // rows themselves need not come back.
        Commit = $"""
            WITH last AS (
                SELECT coalesce(max(version), -1) AS version FROM {table} WHERE stream = $1
            ), appended AS (
                INSERT INTO {table} (position, stream, version, name, data, event_id, correlation, causation)
                SELECT (({xid} + {commitOffset}) << 20) + e.ordinal - 1,
                       $1, last.version + e.ordinal, e.name, e.data, e.event_id, $6, $7
                FROM last, unnest($3::text[], $4::jsonb[], $5::uuid[]) WITH ORDINALITY AS e(name, data, event_id, ordinal)
                WHERE {appendLock} AND ($2::bigint IS NULL OR last.version = $2::bigint)
                RETURNING position, created
            )
            SELECT last.version, min(a.position), count(a.position), min(a.created)
            FROM last LEFT JOIN appended a ON true
            GROUP BY last.version
            """;

        // The common case, one event without an id, with scalar parameters (no arrays to build or unnest).
        // Same parameters as Commit, $3 to $5 as scalars. No row back means the expected version did not match.
        CommitOne = $"""
            WITH last AS (
                SELECT coalesce(max(version), -1) AS version FROM {table} WHERE stream = $1
            )
            INSERT INTO {table} (position, stream, version, name, data, event_id, correlation, causation)
            SELECT ({xid} + {commitOffset}) << 20, $1, last.version + 1, $3, $4, $5, $6, $7
            FROM last
            WHERE {appendLock} AND ($2::bigint IS NULL OR last.version = $2::bigint)
            RETURNING position, version, created
            """;

        // One event with an id (what the Orleans journal sends): scalar parameters as CommitOne, $5 the id. If the
        // id is already stored in the stream (a retry after a lost reply), the stored event comes back instead,
        // whatever the expected version says. Columns: stored flag, position, version, created, name, data,
        // correlation, causation. No row back means the expected version did not match.
        CommitOneIdempotent = $"""
            WITH stored AS (
                SELECT position, version, created, name, data::text AS data, correlation, causation::text AS causation
                FROM {table} WHERE stream = $1 AND event_id = $5
            ), last AS (
                SELECT coalesce(max(version), -1) AS version FROM {table} WHERE stream = $1
            ), appended AS (
                INSERT INTO {table} (position, stream, version, name, data, event_id, correlation, causation)
                SELECT ({xid} + {commitOffset}) << 20, $1, last.version + 1, $3, $4, $5, $6, $7
                FROM last
                WHERE {appendLock} AND NOT EXISTS (SELECT 1 FROM stored) AND ($2::bigint IS NULL OR last.version = $2::bigint)
                RETURNING position, version, created
            )
            SELECT false, position, version, created, NULL::text, NULL::text, NULL::text, NULL::text FROM appended
            UNION ALL
            SELECT true, position, version, created, name, data, correlation, causation FROM stored
            """;

        // With event ids: if any id of the batch is already stored in the stream, nothing is inserted and the
        // stored events come back instead (an idempotent retry). The version check is skipped for a retry,
        // whose expected version is naturally stale by then.
        CommitIdempotent = $"""
            WITH stored AS (
                SELECT {Columns} FROM {table} WHERE stream = $1 AND event_id = ANY($5::uuid[])
            ), last AS (
                SELECT coalesce(max(version), -1) AS version FROM {table} WHERE stream = $1
            ), appended AS (
                INSERT INTO {table} (position, stream, version, name, data, event_id, correlation, causation)
                SELECT (({xid} + {commitOffset}) << 20) + e.ordinal - 1,
                       $1, last.version + e.ordinal, e.name, e.data, e.event_id, $6, $7
                FROM last, unnest($3::text[], $4::jsonb[], $5::uuid[]) WITH ORDINALITY AS e(name, data, event_id, ordinal)
                WHERE {appendLock} AND NOT EXISTS (SELECT 1 FROM stored)
                  AND ($2::bigint IS NULL OR last.version = $2::bigint)
                RETURNING position, version, created
            )
            SELECT last.version, a.position, a.version, a.created, s.*
            FROM last
            LEFT JOIN appended a ON true
            LEFT JOIN stored s ON a.position IS NULL
            ORDER BY coalesce(a.version, s.version)
            """;

        CurrentVersion = $"SELECT coalesce(max(version), -1) FROM {table} WHERE stream = $1";

        // The first statement of a truncation's transaction: the append lock before anything assigns the
        // transaction its id (the row it keeps gets a position), and the stream lock, exclusive: a snapshot save in
        // flight finishes first (its row is then visible to TruncateDelete), and the saves that come later wait for the
        // truncation's commit and then see its tombstone. Then CurrentVersion: its snapshot may predate the stream lock,
        // but snapshots never raise a stream's last version.
        TruncateCurrentVersion = $"""
            SELECT coalesce(max(version), -1) FROM {table}
            WHERE stream = $1 AND {appendLock} AND (SELECT {StreamLock("", "$1")} IS NOT NULL)
            """;

        // Positions regressed (see remarks): the newest stored position's transaction part is not below every id
        // this server can still assign (all at least the snapshot's xmax) plus the offset. Columns: regressed,
        // newest stored transaction part, xmax + offset, offset.
        PositionsCheck = $"""
            SELECT stored >= next, stored, next, xid_offset
            FROM (SELECT coalesce((SELECT max(position) FROM {table}), 0) >> 20 AS stored,
                         pg_snapshot_xmax(pg_current_snapshot())::text::bigint + xid_offset AS next, xid_offset
                  FROM {positionsTable}) c
            """;

        // Raises the offset so that every transaction id still to come maps above the newest stored position.
        // Never lowers it. Columns: offset before, offset after.
        RebasePositions = $"""
            WITH target AS (
                SELECT coalesce((SELECT max(position) >> 20 FROM {table}), 0) + 1 - pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid_offset
            ), before AS (
                SELECT xid_offset FROM {positionsTable} FOR UPDATE
            )
            UPDATE {positionsTable} p SET xid_offset = greatest(before.xid_offset, target.xid_offset)
            FROM before, target
            RETURNING before.xid_offset, p.xid_offset
            """;

        // Who holds the fence back, for the error of a query that gave up waiting: the oldest transaction in flight
        // that holds this table's append lock. Columns: pid (null: a prepared transaction), database, transaction id,
        // how long it has been open (null when pg_stat_activity hides it from this role), its state.
        FenceHolders = $"""
            SELECT a.pid, d.datname, x.transactionid::text::bigint, now() - s.xact_start, s.state
            FROM pg_locks a
            JOIN pg_locks x ON x.pid = a.pid AND x.locktype = 'transactionid'
                           AND x.mode = 'ExclusiveLock' AND x.granted
            LEFT JOIN pg_database d ON d.oid = a.database
            LEFT JOIN pg_stat_activity s ON s.pid = a.pid
            WHERE a.locktype = 'advisory' AND a.classid = {AppendLockClass}::oid AND a.objid = {tableOid} AND a.objsubid = 2
              AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY age(x.transactionid) DESC
            LIMIT 1
            """;

        // The newest snapshot's version s (one lookup in the partial snapshot index), then every row from s on, in the
        // order of the (stream, version, snapshot) index, so there is no sort: the event at s itself comes first and
        // the reader drops it (the snapshot covers it). One range bound keeps it a plain index range scan; filtering
        // "snapshot OR version > s" instead cost about 15 % of a 10,000-event load.
        var fromNewestSnapshot = $"""
            FROM {table}
            WHERE stream = $1
              AND version >= coalesce((SELECT max(version) FROM {table} WHERE stream = $1 AND snapshot), -1)
            ORDER BY version, snapshot
            """;
        Load = $"SELECT {Columns}\n{fromNewestSnapshot}";

        // The same rows with only what rebuilding a state needs (see ReplayEntry).
        Replay = $"SELECT version, name, data::text, snapshot\n{fromNewestSnapshot}";

        // Events of one stream in [$2, $3) by version, from the (stream, version) index; $3 null: to the end.
        ReadStream = $"""
            SELECT {Columns}
            FROM {table}
            WHERE stream = $1 AND NOT snapshot AND version >= $2 AND ($3::bigint IS NULL OR version < $3::bigint)
            ORDER BY version
            """;

        // For a lease on a target fed by one stream: events after the watermark ($2) up to the work mark ($3) with
        // one of the names $4, at most $5. Positions follow versions within a stream, so the watermark's version
        // (one primary-key lookup) starts the (stream, version) index range. The position bounds are written as
        // "position + 0" so they stay filters: as index conditions they would range-scan every stream's events
        // between watermark and work mark, which for a lagging target is most of the table.
        ReadStreamRange = $"""
            SELECT {Columns}
            FROM {table}
            WHERE stream = $1 AND NOT snapshot
              AND version > coalesce((SELECT w.version FROM {table} w WHERE w.position = $2 AND w.stream = $1), -1)
              AND position + 0 > $2 AND position + 0 <= $3 AND name = ANY($4::text[])
            ORDER BY version
            LIMIT $5
            """;

        // ReadStreamRange for many streams in one round trip: $1 streams, $2 watermarks, $3 work marks, $4 names,
        // $5 limit per stream. Each row carries the index of its range (0-based) first.
        ReadStreamRanges = $"""
            SELECT r.ordinal - 1, e.*
            FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(stream, after, up_to, ordinal)
            CROSS JOIN LATERAL (
                SELECT {Columns}
                FROM {table}
                WHERE stream = r.stream AND NOT snapshot
                  AND version > coalesce((SELECT w.version FROM {table} w WHERE w.position = r.after AND w.stream = r.stream), -1)
                  AND position + 0 > r.after AND position + 0 <= r.up_to AND name = ANY($4::text[])
                ORDER BY version
                LIMIT $5
            ) e
            ORDER BY r.ordinal, e.version
            """;

        // The settled feed across streams: events after $1 up to $2 with one of the names $3, at most $4, stopping
        // at the fence (see remarks). The fence comes back as a column so a caller can advance past it, and so does
        // whether matching events are already visible beyond it (still settling: worth another look very soon).
        ReadFeedRange = FeedPage(Columns, after: "$1", upTo: "$2", names: "$3::text[]", limit: "$4");

        // The same page with only what correlation needs when every reaction handles events in their own streams:
        // no payloads to convert, send and decode. Columns: position, stream, version, name, fence, settling.
        ReadFeedHeads = FeedPage("position, stream, version, name", after: "$1", upTo: "$2", names: "$3::text[]", limit: "$4");

        const string filter = """
            (@stream::text IS NULL OR stream = @stream::text)
              AND (@pattern::text IS NULL OR stream ~ @pattern::text)
              AND (@names::text[] IS NULL OR name = ANY(@names::text[]))
              AND (@after::bigint IS NULL OR position > @after::bigint)
              AND (@before::bigint IS NULL OR position < @before::bigint)
              AND (@created_after::timestamptz IS NULL OR created > @created_after::timestamptz)
              AND (@created_before::timestamptz IS NULL OR created < @created_before::timestamptz)
              AND (@correlation::text IS NULL OR correlation = @correlation::text)
              AND (@with_snapshots OR NOT snapshot)
            """;

        // The fence and horizon columns are evaluated once per statement, against the statement's own snapshot.
        QueryForward = $"""
            WITH {fence}
            SELECT {Columns}, f.fence, f.horizon
            FROM {table}, f
            WHERE {filter}
            ORDER BY position
            LIMIT @limit
            """;

        QueryBackward = $"""
            SELECT {Columns}, 0::bigint AS fence, 0::bigint AS horizon
            FROM {table}
            WHERE {filter}
            ORDER BY position DESC
            LIMIT @limit
            """;

        // A snapshot save is two statements sent together (one round trip, one implicit transaction): the stream lock,
        // shared, then the insert, whose own snapshot is taken only after the lock is held, so it sees a truncation
        // that made it wait.
        SaveSnapshotLock = $"SELECT {StreamLock("_shared", "@stream")}";

        // Stores the snapshot unless the stream was cleared at or after its version (a tombstone there: what it covers
        // is gone, and the grain's versions restarted). Columns: position, version, created, name; a tombstone's row
        // (position and created null) when refused for it; no row when the stream has no event at the version.
        SaveSnapshot = $"""
            WITH cleared AS (
                SELECT max(version) AS version FROM {table}
                WHERE stream = @stream AND snapshot AND version >= @version AND name = '{JournalStore.TombstoneName}'
            ), saved AS (
                INSERT INTO {table} (position, stream, version, name, data, snapshot)
                SELECT ({xid} + {offset}) << 20, @stream, @version, @name, @data::jsonb, true
                FROM cleared
                WHERE {appendLock} AND cleared.version IS NULL
                  AND EXISTS (SELECT 1 FROM {table} WHERE stream = @stream AND version >= @version)
                ON CONFLICT (stream, version, snapshot) DO UPDATE
                SET data = CASE WHEN {table}.name = '{JournalStore.TombstoneName}' THEN {table}.data ELSE excluded.data END,
                    created = CASE WHEN {table}.name = '{JournalStore.TombstoneName}' THEN {table}.created ELSE excluded.created END
                RETURNING position, version, created, name
            )
            SELECT position, version, created, name FROM saved
            UNION ALL
            SELECT NULL, version, NULL, '{JournalStore.TombstoneName}' FROM cleared WHERE version IS NOT NULL
            """;

        // Full truncation, inside a transaction after CurrentVersion: keeps only one snapshot or tombstone at the
        // stream's last version, so versions are never reused and a stale expected version still conflicts.
        TruncateDelete = $"DELETE FROM {table} WHERE stream = @stream AND version <= @version";

        TruncateKeep = $"""
            INSERT INTO {table} (position, stream, version, name, data, snapshot)
            VALUES (({xid} + {offset}) << 20, @stream, @version, @name, @data::jsonb, true)
            RETURNING position, version, created
            """;

        // Windowed truncation: per stream, the newest snapshot created before the cutoff survives and everything
        // it covers (older events and snapshots) goes.
        TruncateBefore = $"""
            WITH cut AS (
                SELECT stream, max(version) AS version
                FROM {table}
                WHERE snapshot AND created < @cutoff AND (@stream::text IS NULL OR stream = @stream::text)
                GROUP BY stream
            )
            DELETE FROM {table} e
            USING cut
            WHERE e.stream = cut.stream
              AND (e.version < cut.version OR (e.version = cut.version AND NOT e.snapshot))
            """;
    }

    /// <summary>
    /// The settled feed's page of event heads (position, stream, name; then the fence and the settling flag) as a
    /// statement another statement can embed as a CTE: discovery in the database (<c>LeaseSql.Discover</c>) reads its
    /// page with it and acts on it in the same statement. The fence and the feed's filter are written once, here: the
    /// feed's correctness is that every reader of it uses this one text.
    /// </summary>
    /// <param name="after">SQL for the position to read after (e.g. a column of an outer CTE).</param>
    /// <param name="upTo">SQL for the last position to read (a parameter, as in <see cref="ReadFeedHeads"/>).</param>
    /// <param name="names">SQL for the <c>text[]</c> of names to read.</param>
    /// <param name="limit">SQL for the most events to read.</param>
    public string SettledHeads(string after, string upTo, string names, string limit)
        => FeedPage("position, stream, name", after, upTo, names, limit);

    // One page of the settled feed: the events after {after} up to {upTo} with one of the names {names},
    // at most {limit}, below the fence; one row of nulls when there is none, every row carrying the fence and whether
    // matching events are already visible beyond it. "settling" is computed once, in a CTE: in the select list it was a
    // subplan run for every row returned (10,000 index probes for a page of 10,000, most of the statement's time).
    private string FeedPage(string columns, string after, string upTo, string names, string limit)
        => $"""
            WITH {_fence}, beyond AS MATERIALIZED (
                SELECT EXISTS (SELECT 1 FROM {_table} h
                               WHERE h.position >= f.fence AND h.position > {after} AND h.position <= {upTo}
                                 AND NOT h.snapshot AND ({names} IS NULL OR h.name = ANY({names}))) AS settling
                FROM f
            )
            SELECT {columns}, f.fence, beyond.settling
            FROM f CROSS JOIN beyond
            LEFT JOIN LATERAL (
                SELECT * FROM {_table} e
                WHERE e.position > {after} AND e.position <= {upTo} AND e.position < f.fence
                  AND NOT e.snapshot AND ({names} IS NULL OR e.name = ANY({names}))
                ORDER BY e.position
                LIMIT {limit}
            ) e ON true
            ORDER BY position
            """;

    public string Commit { get; }

    public string CommitIdempotent { get; }

    public string CommitOne { get; }

    public string CommitOneIdempotent { get; }

    public string CurrentVersion { get; }

    public string TruncateCurrentVersion { get; }

    public string PositionsCheck { get; }

    public string RebasePositions { get; }

    public string FenceHolders { get; }

    public string Load { get; }

    public string Replay { get; }

    public string ReadStream { get; }

    public string ReadStreamRange { get; }

    public string ReadStreamRanges { get; }

    public string ReadFeedRange { get; }

    public string ReadFeedHeads { get; }

    public string QueryForward { get; }

    public string QueryBackward { get; }

    public string SaveSnapshotLock { get; }

    public string SaveSnapshot { get; }

    public string TruncateDelete { get; }

    public string TruncateKeep { get; }

    public string TruncateBefore { get; }
}
