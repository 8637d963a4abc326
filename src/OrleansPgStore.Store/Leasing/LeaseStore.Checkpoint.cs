using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

internal sealed partial class LeaseStore
{
    /// <summary>
    /// Reads a named checkpoint, such as the reaction loop's discovery position (created at -1 when missing). Any
    /// worker may read and advance it: advancing is a compare-and-set (<see cref="AdvanceCheckpointAsync"/>), so no
    /// worker holds it, and none whose process dies can stall the others' discovery.
    /// </summary>
    internal async Task<long> ReadCheckpointAsync(string name, CancellationToken cancellationToken = default)
    {
        var row = CheckpointRow(name);
        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.ReadCheckpoint, cancellationToken, Text(row), CommitMode())
                .ConfigureAwait(false);
            // Two workers creating the row at once (the first start of a group): the insert of the one that comes second
            // waits for the other's and does nothing, and its read, on the statement's snapshot from before that commit,
            // finds no row. Run again, the statement sees the row.
            for (var attempt = 1; ; attempt++)
            {
                if (await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long at)
                {
                    return at;
                }

                if (attempt == 2)
                {
                    throw new InvalidOperationException($"Checkpoint '{name}' was neither found nor created.");
                }
            }
        }
        catch (Exception e)
        {
            throw _store.Translate($"Reading checkpoint '{name}'", e);
        }
    }

    /// <summary>
    /// In one transaction, sent in one round trip: moves the checkpoint from where the caller started reading the feed
    /// (<paramref name="from"/>, exclusive) to where it read up to (<paramref name="to"/>) and raises the work marks
    /// found in between — only when the checkpoint is still at or past <paramref name="from"/> (every event below it has
    /// its marks) and below <paramref name="to"/>. Otherwise nothing is written and the checkpoint's position is
    /// returned: another worker has read past <paramref name="to"/> already, or the checkpoint is behind
    /// <paramref name="from"/> (a server crash lost its last asynchronous advances), and the caller reads on from there.
    /// </summary>
    /// <remarks>
    /// <c>announce</c>: a NOTIFY sent with the marks when the advance applies and raised at least one (delivered at commit, so never for
    /// marks that did not commit); <c>null</c> for none. It must be meant for listeners on this store's database.
    /// </remarks>
    internal Task<CheckpointAdvance> AdvanceCheckpointAsync(
        string name, long from, long to, IReadOnlyCollection<WorkMark> marks, Notification? announce = null,
        CancellationToken cancellationToken = default)
        => SendAdvanceAsync(name, to, AdvanceStatements(name, from, to, marks, announce), cancellationToken);

    private async Task<CheckpointAdvance> SendAdvanceAsync(
        string name, long to, (string Sql, NpgsqlParameter[] Parameters)[] advance, CancellationToken cancellationToken)
    {
        try
        {
            // No explicit transaction: a batch runs as one implicit transaction, committed when its last statement ends.
            await using var batch = await _store.PrepareBatchAsync(cancellationToken, advance).ConfigureAwait(false);
            await using var reader = await batch.Batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var result = await ReadAdvanceAsync(reader, to, cancellationToken).ConfigureAwait(false);
            await ReadToEndAsync(reader, cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (Exception e)
        {
            throw _store.Translate($"Advancing checkpoint '{name}'", e);
        }
    }

    /// <summary>
    /// <see cref="AdvanceCheckpointAsync"/> then <see cref="ClaimAsync"/>, sent together: one round trip and one
    /// transaction, so the claim sees the marks the advance raised (and claims what other workers marked when the advance
    /// did not apply). The claim is unchanged: SKIP LOCKED, own live leases eligible, every claim an attempt. Its leases
    /// start when this call is sent. Both statements commit together or not at all.
    /// </summary>
    internal async Task<(CheckpointAdvance Advance, ClaimedLeases Leases)> AdvanceCheckpointAndClaimAsync(
        string name, long from, long to, IReadOnlyCollection<WorkMark> marks, Notification? announce,
        int lagging, int leading, string holder, TimeSpan leaseDuration, string lane = "", CancellationToken cancellationToken = default)
    {
        var advance = AdvanceStatements(name, from, to, marks, announce);
        if (ClaimStatement(lagging, leading, holder, leaseDuration, lane) is not { } claim)
        {
            return (await SendAdvanceAsync(name, to, advance, cancellationToken).ConfigureAwait(false), ClaimedLeases.None);
        }

        return await SendWithClaimAsync(
            advance, claim, holder, reader => ReadAdvanceAsync(reader, to, cancellationToken), eventsRead: null,
            $"Advancing checkpoint '{name}' and claiming", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The discovery statement over <paramref name="journal"/>'s feed for reactions whose targets are the events' own
    /// streams (see <see cref="DiscoverAsync"/>), with each event name's priority and lane: those of the first reaction
    /// that handles it. Build once per loop; it needs the journal's table in this store's database.
    /// </summary>
    internal OwnStreamDiscovery OwnStreamDiscovery(JournalStore journal, IReadOnlyList<(string Name, int Priority, string Lane)> names)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(names);
        return new OwnStreamDiscovery(
            _sql.Discover(journal.Sql.SettledHeads(after: "(SELECT at FROM cp)", upTo: "$7", names: "$3::text[]", limit: "$6")),
            names.Select(n => n.Name).ToArray(),
            names.Select(n => n.Priority).ToArray(),
            names.Select(n => n.Lane).ToArray());
    }

    /// <summary>
    /// Discovery in the database, in one statement and one round trip: reads the settled feed after the checkpoint (at
    /// most <paramref name="limit"/> events, under the journal's fence), raises each event's own stream's work mark and
    /// advances the checkpoint past the page, with <see cref="AdvanceCheckpointAsync"/>'s compare-and-set and
    /// announcement. The page starts at <paramref name="from"/>, or, when <c>null</c>, at the stored checkpoint, read by
    /// the same statement. No event is sent to the client. <paramref name="skipAhead"/>: whether to advance past a page
    /// without events (a write that only saves rescanning).
    /// </summary>
    internal async Task<FeedDiscovery> DiscoverAsync(
        OwnStreamDiscovery discovery, string name, long? from, int limit, bool skipAhead, Notification? announce,
        CancellationToken cancellationToken = default)
    {
        var statements = DiscoveryStatements(discovery, name, from, limit, skipAhead, announce);
        var operation = StoreOperation.Start("lease.discover", _store);
        try
        {
            await using var batch = await _store.PrepareBatchAsync(cancellationToken, statements).ConfigureAwait(false);
            await using var reader = await batch.Batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var result = await ReadDiscoveryAsync(reader, skipAhead, cancellationToken).ConfigureAwait(false);
            await ReadToEndAsync(reader, cancellationToken).ConfigureAwait(false);
            operation.Tag("orleanspgstore.events_read", result.Read);
            operation.Succeeded();
            return result;
        }
        catch (Exception e)
        {
            var translated = _store.Translate($"Discovering for checkpoint '{name}'", e);
            operation.Failed(translated);
            throw translated;
        }
    }

    /// <summary>
    /// <see cref="DiscoverAsync"/> then <see cref="ClaimAsync"/>, sent together: one round trip and one transaction, as
    /// <see cref="AdvanceCheckpointAndClaimAsync"/>. The claim is sent whether or not the discovery advances.
    /// </summary>
    internal async Task<(FeedDiscovery Discovery, ClaimedLeases Leases)> DiscoverAndClaimAsync(
        OwnStreamDiscovery discovery, string name, long? from, int limit, bool skipAhead, Notification? announce,
        int lagging, int leading, string holder, TimeSpan leaseDuration, string lane = "", CancellationToken cancellationToken = default)
    {
        var statements = DiscoveryStatements(discovery, name, from, limit, skipAhead, announce);
        if (ClaimStatement(lagging, leading, holder, leaseDuration, lane) is not { } claim)
        {
            return (await DiscoverAsync(discovery, name, from, limit, skipAhead, announce, cancellationToken).ConfigureAwait(false), ClaimedLeases.None);
        }

        return await SendWithClaimAsync(
            statements, claim, holder, reader => ReadDiscoveryAsync(reader, skipAhead, cancellationToken), eventsRead: d => d.Read,
            $"Discovering for checkpoint '{name}' and claiming", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="first"/> (a checkpoint advance or a discovery) and then the claim in one batch: one round trip
    /// and one transaction, so the claim sees the marks the first statements raised. <paramref name="readFirst"/> reads
    /// the first statements' results and leaves the reader on their last one.
    /// </summary>
    private async Task<(T First, ClaimedLeases Leases)> SendWithClaimAsync<T>(
        (string Sql, NpgsqlParameter[] Parameters)[] first, (string Sql, NpgsqlParameter[] Parameters) claim, string holder,
        Func<NpgsqlDataReader, Task<T>> readFirst, Func<T, int>? eventsRead, string failure, CancellationToken cancellationToken)
    {
        var operation = StoreOperation.Start("lease.claim", _store);
        try
        {
            await using var batch = await _store.PrepareBatchAsync(cancellationToken, [.. first, claim]).ConfigureAwait(false);
            await using var reader = await batch.Batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var result = await readFirst(reader).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            var leases = await ReadLeasesAsync(reader, holder, cancellationToken).ConfigureAwait(false);
            await ReadToEndAsync(reader, cancellationToken).ConfigureAwait(false);
            if (eventsRead is not null)
            {
                operation.Tag("orleanspgstore.events_read", eventsRead(result));
            }

            operation.Tag("orleanspgstore.lease_count", leases.Count);
            operation.Succeeded();
            return (result, leases);
        }
        catch (Exception e)
        {
            var translated = _store.Translate(failure, e);
            operation.Failed(translated);
            throw translated;
        }
    }

    /// <summary>The discovery and, after it, the read of where the checkpoint is (for when the advance did not apply).</summary>
    private (string Sql, NpgsqlParameter[] Parameters)[] DiscoveryStatements(
        OwnStreamDiscovery discovery, string name, long? from, int limit, bool skipAhead, Notification? announce)
    {
        ArgumentNullException.ThrowIfNull(discovery);
        var row = CheckpointRow(name);
        if (from is { } start)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(start, -1, nameof(from));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        foreach (var lane in discovery.Lanes)
        {
            // As a mark's lane is checked (ValidateTarget): a lane PostgreSQL cannot store fails the discovery, not the write.
            ArgumentNullException.ThrowIfNull(lane, nameof(discovery));
            if (!InputChecks.IsText(lane))
            {
                InputChecks.Text(lane, $"Lane '{InputChecks.Shorten(lane)}'", nameof(discovery));
            }
        }

        return
        [
            (discovery.Sql,
            [
                Text(row),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = from is { } f ? f : DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = discovery.Names },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = discovery.Priorities },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = discovery.Lanes },
                new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = limit },
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = long.MaxValue },
                new NpgsqlParameter<bool> { NpgsqlDbType = NpgsqlDbType.Boolean, TypedValue = skipAhead },
                NullableText(announce?.Channel),
                NullableText(announce?.Payload),
                CommitMode(),
            ]),
            (_sql.CheckpointPosition, [Text(row)]),
        ];
    }

    /// <summary>Reads the two results of <see cref="DiscoveryStatements"/>; the reader is left on the second.</summary>
    private static async Task<FeedDiscovery> ReadDiscoveryAsync(NpgsqlDataReader reader, bool skipAhead, CancellationToken cancellationToken)
    {
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var from = reader.GetInt64(0);
        var to = reader.GetInt64(1);
        var read = (int)reader.GetInt64(2);
        var settling = reader.GetBoolean(3);
        var advanced = !await reader.IsDBNullAsync(4, cancellationToken).ConfigureAwait(false);
        var marked = (int)reader.GetInt64(5);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        // A row lost with the writes before a crash reads as -1 (the next discovery from there creates it again).
        var position = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetInt64(0) : -1;
        return new FeedDiscovery(
            from, to, read, settling, advanced ? marked : 0,
            WorthWriting: to > from && (read > 0 || skipAhead),
            advanced ? new CheckpointAdvance(true, to) : new CheckpointAdvance(false, position));
    }

    /// <summary>The advance and, after it, the read of where the checkpoint is (for when the advance did not apply).</summary>
    private (string Sql, NpgsqlParameter[] Parameters)[] AdvanceStatements(
        string name, long from, long to, IReadOnlyCollection<WorkMark> marks, Notification? announce)
    {
        var row = CheckpointRow(name);
        ArgumentNullException.ThrowIfNull(marks);
        ArgumentOutOfRangeException.ThrowIfLessThan(from, -1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(to, from);
        return
        [
            (_sql.AdvanceCheckpoint,
            [
                Text(row),
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = from },
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = to },
                .. MarkArrays(marks),
                NullableText(announce?.Channel),
                NullableText(announce?.Payload),
                CommitMode(),
            ]),
            (_sql.CheckpointPosition, [Text(row)]),
        ];
    }

    /// <summary>Reads the two results of <see cref="AdvanceStatements"/>; the reader is left on the second.</summary>
    private static async Task<CheckpointAdvance> ReadAdvanceAsync(NpgsqlDataReader reader, long to, CancellationToken cancellationToken)
    {
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var advanced = !await reader.IsDBNullAsync(0, cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        // A row lost with the writes before a crash reads as -1: the next read creates it again there.
        var position = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? reader.GetInt64(0) : -1;
        return advanced ? new CheckpointAdvance(true, to) : new CheckpointAdvance(false, position);
    }

    /// <summary>Reading a batch to the end surfaces an error of the commit itself (a batch commits after its last statement).</summary>
    private static async Task ReadToEndAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
        {
        }
    }

    /// <summary>Checkpoints live in the checkpoints table (<see cref="CheckpointSchema"/>), apart from the targets.</summary>
    private static string CheckpointRow(string name)
    {
        InputChecks.Key(name, "Checkpoint name", nameof(name));
        return CheckpointTable.DiscoveryPrefix + name;
    }
}

/// <summary>A target that has work up to a global position (registers the target if it is new).</summary>
internal sealed record WorkMark(Subscription Target, long Position);

/// <summary>What an attempt to advance a discovery checkpoint found.</summary>
/// <param name="Advanced">True when this attempt moved the checkpoint (and raised its work marks).</param>
/// <param name="Position">
/// Where the checkpoint is now: the new position when <paramref name="Advanced"/>; otherwise where another worker (or a
/// crash that lost recent writes) left it, from which the caller reads on.
/// </param>
internal readonly record struct CheckpointAdvance(bool Advanced, long Position);

/// <summary>
/// The discovery statement of one journal and one set of reactions that target their own streams
/// (<see cref="LeaseStore.OwnStreamDiscovery"/>): its SQL, and per event name the priority and lane its targets get.
/// </summary>
internal sealed record OwnStreamDiscovery(string Sql, string[] Names, int[] Priorities, string[] Lanes);

/// <summary>What a discovery in the database (<see cref="LeaseStore.DiscoverAsync"/>) did.</summary>
/// <param name="From">Where the page started (the stored checkpoint when none was given).</param>
/// <param name="To">Where the page ends (<see cref="FeedPage.ContinueAfter"/>).</param>
/// <param name="Read">Events read.</param>
/// <param name="Settling">Matching events are visible past the fence (see <see cref="FeedPage.Settling"/>).</param>
/// <param name="Marked">Targets whose marks the advance raised (0 when it did not apply).</param>
/// <param name="WorthWriting">Whether an advance was tried: the page ends past its start, and it had events or skipping ahead was allowed.</param>
/// <param name="Advance">Whether the checkpoint moved, else where it is.</param>
internal readonly record struct FeedDiscovery(
    long From, long To, int Read, bool Settling, int Marked, bool WorthWriting, CheckpointAdvance Advance);
