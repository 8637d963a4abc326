using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

/// <summary>
/// Subscriptions and leases: any number of workers, in any number of processes, share the processing of target
/// streams with no coordinator. Each target is leased to one holder at a time and handled in order.
/// </summary>
/// <remarks>
/// Thread-safe; share one per table. Lease expiry is judged by the database clock. Reports (ack, block) from a
/// holder that no longer holds the lease are dropped and returned to the caller, never thrown.
/// </remarks>
internal sealed partial class LeaseStore : IAsyncDisposable
{
    /// <summary>
    /// The longest lease or retry delay a call may ask for. A lease is a liveness timeout, and an instant past the year
    /// 9999 would be stored but could never be read back.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(365);

    private readonly StoreConnection _store;
    private readonly LeaseSql _sql;
    private readonly string _checkpointsTable;
    private readonly bool _synchronousCommit;

    /// <summary>Creates a lease store over the table named in <paramref name="options"/>.</summary>
    public LeaseStore(LeaseStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        StoreOptionsValidator<LeaseStoreOptions>.ThrowIfInvalid(options);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.Leasing");
        _store = new StoreConnection(options, logger, loggerFactory);
        _checkpointsTable = CheckpointSchema.QualifiedTable(_store.QuotedSchema, _store.Table);
        _sql = new LeaseSql(_store.QualifiedTable, _checkpointsTable);
        _synchronousCommit = options.SynchronousCommit;
    }

    /// <summary>The data source the lease writes use.</summary>
    internal NpgsqlDataSource DataSource => _store.DataSource;

    /// <summary>The schema-qualified, quoted subscriptions table.</summary>
    public string QualifiedTable => _store.QualifiedTable;

    /// <summary>The schema-qualified, quoted checkpoints table (discovery checkpoints and retention turns, see <see cref="CheckpointSchema"/>).</summary>
    internal string CheckpointsTable => _checkpointsTable;

    /// <summary>
    /// Creates the schema (if missing), the subscriptions table and its checkpoints table (moving an older release's
    /// checkpoint rows over). Idempotent; safe from many processes at once.
    /// </summary>
    public Task SeedAsync(CancellationToken cancellationToken = default)
        => SchemaInstaller.SeedAsync(_store, LeaseSchema.Create(_store.QuotedSchema, _store.Table), cancellationToken);

    /// <summary>
    /// Drops the subscriptions table and its checkpoints table (and the schema when nothing else is left in it and it is
    /// not <c>public</c>).
    /// </summary>
    public Task DropAsync(CancellationToken cancellationToken = default) => SchemaInstaller.DropAsync(_store, cancellationToken, _checkpointsTable);

    /// <summary>
    /// The SQL <see cref="SeedAsync"/> applies, for DBAs who create schemas by hand (the role the store then runs as
    /// needs USAGE on the schema and SELECT, INSERT and UPDATE on the subscriptions table and its checkpoints table).
    /// </summary>
    public static string SchemaSql(string schema = "public", string table = "subscriptions")
    {
        var quotedSchema = SqlIdentifier.Quote(schema, nameof(schema));
        return $"CREATE SCHEMA IF NOT EXISTS {quotedSchema};\n{LeaseSchema.Create(quotedSchema, table)}\n";
    }

    /// <summary>
    /// Registers targets (an upsert: an existing target keeps its watermark; its priority only ever rises here,
    /// use <see cref="PrioritizeAsync"/> to lower it).
    /// </summary>
    /// <returns>How many targets were new, and the highest watermark among all subscriptions.</returns>
    public async Task<SubscribeResult> SubscribeAsync(
        IReadOnlyCollection<Subscription> targets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var unique = Distinct(targets.Select(t => t ?? throw new ArgumentException("A target is null.", nameof(targets))), t => t.Stream);
        foreach (var target in unique)
        {
            ValidateTarget(target, nameof(targets));
        }

        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.Subscribe, cancellationToken,
                TextArray(unique.Select(t => t.Stream)),
                TextArray(unique.Select(t => t.Source)),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = unique.Select(t => t.Priority).ToArray() },
                TextArray(unique.Select(t => t.Lane))).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new SubscribeResult(reader.GetInt64(0), reader.GetInt64(1));
        }
        catch (Exception e)
        {
            throw _store.Translate("Subscribe", e);
        }
    }

    /// <summary>
    /// Atomically leases up to <paramref name="lagging"/> targets from the lagging frontier (highest priority,
    /// then lowest watermark, with a quarter of the slots, at least one when <paramref name="lagging"/> ≥ 2, reserved
    /// for the lowest watermarks whatever their priority, so default-priority targets cannot starve) plus up to
    /// <paramref name="leading"/> from the leading frontier (highest watermark), never the same target twice.
    /// Every claim counts as an attempt: <see cref="Lease.Retry"/> is 0 on a first attempt.
    /// </summary>
    /// <param name="lagging">Targets to take from the lagging frontier.</param>
    /// <param name="leading">Targets to take from the leading frontier.</param>
    /// <param name="holder">Who takes the leases (unique per worker).</param>
    /// <param name="leaseDuration">How long the leases last (the database's clock); at most <see cref="MaxDuration"/>.</param>
    /// <param name="lane">The lane to claim from; defaults to the default lane.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    internal async Task<ClaimedLeases> ClaimAsync(
        int lagging, int leading, string holder, TimeSpan leaseDuration, string lane = "", CancellationToken cancellationToken = default)
    {
        if (ClaimStatement(lagging, leading, holder, leaseDuration, lane) is not { } claim)
        {
            return ClaimedLeases.None;
        }

        var operation = StoreOperation.Start("lease.claim", _store);
        try
        {
            await using var prepared = await _store.PrepareAsync(claim.Sql, cancellationToken, claim.Parameters).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var leases = await ReadLeasesAsync(reader, holder, cancellationToken).ConfigureAwait(false);
            operation.Tag("orleanspgstore.lease_count", leases.Count);
            operation.Succeeded();
            return leases;
        }
        catch (Exception e)
        {
            var translated = _store.Translate("Claim", e);
            operation.Failed(translated);
            throw translated;
        }
    }

    /// <summary>The claim statement for <see cref="ClaimAsync"/>'s arguments (checked here); <c>null</c> when it would claim nothing.</summary>
    private (string Sql, NpgsqlParameter[] Parameters)? ClaimStatement(int lagging, int leading, string holder, TimeSpan leaseDuration, string lane)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lagging);
        ArgumentOutOfRangeException.ThrowIfNegative(leading);
        InputChecks.Key(holder, "Lease holder", nameof(holder));
        ArgumentNullException.ThrowIfNull(lane);
        InputChecks.Text(lane, $"Lane '{InputChecks.Shorten(lane)}'", nameof(lane));
        ValidateDuration(leaseDuration);

        if (lagging + leading == 0)
        {
            return null;
        }

        var reserve = lagging >= 2 ? Math.Max(1, lagging / 4) : 0;
        return (_sql.Claim(lagging - reserve, reserve, leading),
        [
            Text(holder),
            new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = (long)Math.Ceiling(leaseDuration.TotalMilliseconds) },
            Text(lane),
            CommitMode(),
        ]);
    }

    /// <summary>The leases a claim returned, from the reader's current result.</summary>
    private static async Task<ClaimedLeases> ReadLeasesAsync(NpgsqlDataReader reader, string holder, CancellationToken cancellationToken)
    {
        var leases = new List<Lease>();
        var contended = false;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.IsDBNull(0))
            {
                // The claim's row of nulls: there were candidates, and another claim took every one of them.
                contended = true;
                continue;
            }

            leases.Add(new Lease(
                Stream: reader.GetString(0),
                Source: reader.IsDBNull(1) ? null : reader.GetString(1),
                At: reader.GetInt64(2),
                Work: reader.GetInt64(3),
                Holder: holder,
                Retry: reader.GetInt64(4),
                Lagging: reader.GetBoolean(5),
                LeasedUntil: reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return new ClaimedLeases(leases, contended);
    }

    /// <summary>
    /// Reports progress and releases the leases: advances each watermark (never backwards) and, on success, resets
    /// the retry count; with <see cref="LeaseOutcome.RetryAfter"/> the target is deferred instead and keeps its count.
    /// Only the current holder's reports apply; the others are returned as dropped.
    /// </summary>
    internal async Task<AckResult> AckAsync(IReadOnlyList<LeaseOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return new AckResult([], []);
        }

        var applied = await ApplyAsync("Ack", _sql.Ack, AckParameters(outcomes), within: null, cancellationToken).ConfigureAwait(false);
        return new AckResult(
            outcomes.Where(o => applied.Contains(o.Stream)).ToList(),
            outcomes.Where(o => !applied.Contains(o.Stream)).ToList());
    }

    /// <summary>
    /// Quarantines poison targets: blocked targets are never claimed until <see cref="UnblockAsync"/>. Only the
    /// current holder can block, and blocking a blocked target is a no-op.
    /// </summary>
    /// <returns>The targets that were blocked by this call.</returns>
    internal async Task<IReadOnlyList<string>> BlockAsync(IReadOnlyList<LeaseBlock> blocks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0)
        {
            return [];
        }

        var blocked = await ApplyAsync("Block", _sql.Block, BlockParameters(blocks), within: null, cancellationToken).ConfigureAwait(false);
        return blocks.Select(b => b.Stream).Where(blocked.Contains).ToList();
    }

    /// <summary>Registers targets and raises their work marks (never lowers them), so claims find the work.</summary>
    internal async Task RaiseWorkAsync(IReadOnlyCollection<WorkMark> marks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(marks);
        if (marks.Count == 0)
        {
            return;
        }

        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.RaiseWork, cancellationToken, RaiseWorkParameters(marks)).ConfigureAwait(false);
            await prepared.Command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw _store.Translate("Raising work marks", e);
        }
    }

    /// <summary>Opens a pooled connection to the subscriptions' database, for a transaction that ends with <see cref="ReportWithinAsync"/>.</summary>
    internal ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
        => _store.DataSource.OpenConnectionAsync(cancellationToken);

    /// <summary>Closes the pool's idle connections (after the server dropped one, the others are likely gone too).</summary>
    internal void ClearIdleConnections() => _store.DataSource.Clear();

    /// <summary>
    /// Blocks and acks inside the caller's transaction, fenced by the leases: every report must come from a holder whose
    /// lease is still live (by the database's clock at this statement). The rows stay locked until the transaction ends,
    /// so the leases cannot move on before the commit.
    /// </summary>
    /// <remarks>
    /// This is what makes a projection exactly once: its writes and the watermark commit together, or not at all.
    /// </remarks>
    /// <exception cref="LeaseLostException">
    /// Some report missed its lease; nothing is reported. The caller must roll the transaction back.
    /// </exception>
    internal async Task ReportWithinAsync(
        NpgsqlTransaction transaction,
        IReadOnlyList<LeaseOutcome> outcomes,
        IReadOnlyList<LeaseBlock> blocks,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(blocks);
        _ = transaction.Connection ?? throw new ArgumentException("The transaction is already finished.", nameof(transaction));
        var lost = new List<string>();
        if (blocks.Count > 0)
        {
            var blocked = await ApplyAsync("Block", _sql.FencedBlock, BlockParameters(blocks), transaction, cancellationToken)
                .ConfigureAwait(false);
            lost.AddRange(blocks.Select(b => b.Stream).Where(s => !blocked.Contains(s)));
        }

        if (outcomes.Count > 0)
        {
            var acked = await ApplyAsync("Ack", _sql.FencedAck, AckParameters(outcomes), transaction, cancellationToken)
                .ConfigureAwait(false);
            lost.AddRange(outcomes.Select(o => o.Stream).Where(s => !acked.Contains(s)));
        }

        if (lost.Count > 0)
        {
            throw new LeaseLostException(outcomes.Select(o => o.Holder).Concat(blocks.Select(b => b.Holder)).First(), lost);
        }
    }

    /// <summary>
    /// Resets the selected targets inside the caller's transaction (see <see cref="ResetAsync"/>): a rebuild clears
    /// its read model in the same transaction. Holders of these targets' leases lose them, so a batch in flight
    /// cannot commit into the cleared read model.
    /// </summary>
    /// <returns>The targets reset.</returns>
    internal async Task<IReadOnlyList<string>> ResetWithinAsync(
        NpgsqlTransaction transaction, SubscriptionFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection ?? throw new ArgumentException("The transaction is already finished.", nameof(transaction));
        if (filter?.Streams is { Count: 0 })
        {
            return [];
        }

        try
        {
            await using var command = FilterCommand(_sql.ResetReturning, filter!, connection, transaction);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var streams = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                streams.Add(reader.GetString(0));
            }

            return streams;
        }
        catch (Exception e)
        {
            throw _store.Translate("Reset", e);
        }
    }

    /// <summary>Disposes the data source if the store created it from a connection string.</summary>
    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private NpgsqlParameter[] RaiseWorkParameters(IReadOnlyCollection<WorkMark> marks) => [.. MarkArrays(marks), CommitMode()];

    /// <summary>The marks as RaiseWork's first five parameters: one row per target, at its highest position.</summary>
    private NpgsqlParameter[] MarkArrays(IReadOnlyCollection<WorkMark> marks)
    {
        // Every mark, before any I/O: merging first would let an invalid mark for a target vanish unseen. Equal
        // targets (a record) are equally valid, so each is checked once: correlation marks one per event.
        var targets = new HashSet<Subscription>();
        foreach (var m in marks)
        {
            if (m?.Target is null)
            {
                throw new ArgumentException("A work mark, or its target, is null.", nameof(marks));
            }

            if (targets.Add(m.Target))
            {
                ValidateTarget(m.Target, nameof(marks));
            }
        }

        // One row per target, at its highest position: an upsert may not touch a row twice.
        var merged = marks
            .GroupBy(m => m.Target.Stream, StringComparer.Ordinal)
            .Select(g => g.MaxBy(m => m.Position)!)
            .ToList();

        return
        [
            TextArray(merged.Select(m => m.Target.Stream)),
            TextArray(merged.Select(m => m.Target.Source)),
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = merged.Select(m => m.Position).ToArray() },
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = merged.Select(m => m.Target.Priority).ToArray() },
            TextArray(merged.Select(m => m.Target.Lane)),
        ];
    }

    private NpgsqlParameter[] AckParameters(IReadOnlyList<LeaseOutcome> outcomes)
    {
        foreach (var o in outcomes)
        {
            ArgumentNullException.ThrowIfNull(o, nameof(outcomes));
            InputChecks.Key(o.Stream, "Lease stream", nameof(outcomes));
            InputChecks.Key(o.Holder, "Lease holder", nameof(outcomes));
            if (o.RetryAfter > MaxDuration || o.RetryAfter < -MaxDuration)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(outcomes), o.RetryAfter, $"The retry delay of '{InputChecks.Shorten(o.Stream)}' must be within {MaxDuration.TotalDays} days.");
            }
        }

        return
        [
            TextArray(outcomes.Select(o => o.Stream)),
            TextArray(outcomes.Select(o => o.Holder)),
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = outcomes.Select(o => o.At).ToArray() },
            new NpgsqlParameter
            {
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint,
                Value = outcomes.Select(o => o.RetryAfter is { } delay ? (long?)Math.Ceiling(delay.TotalMilliseconds) : null).ToArray(),
            },
            CommitMode(),
        ];
    }

    private NpgsqlParameter[] BlockParameters(IReadOnlyList<LeaseBlock> blocks)
    {
        foreach (var b in blocks)
        {
            ArgumentNullException.ThrowIfNull(b, nameof(blocks));
            InputChecks.Key(b.Stream, "Lease stream", nameof(blocks));
            InputChecks.Key(b.Holder, "Lease holder", nameof(blocks));
            ArgumentNullException.ThrowIfNull(b.Error, nameof(blocks));
        }

        return
        [
            TextArray(blocks.Select(b => b.Stream)),
            TextArray(blocks.Select(b => b.Holder)),
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = blocks.Select(b => b.At).ToArray() },
            TextArray(blocks.Select(b => Storable(b.Error))),
            CommitMode(),
        ];
    }

    /// <summary>
    /// Runs an ack or block and returns the targets it applied to: prepared on a pooled connection, or inside the
    /// caller's transaction (a projection's fenced report).
    /// </summary>
    private async Task<HashSet<string>> ApplyAsync(
        string operation, string sql, NpgsqlParameter[] parameters, NpgsqlTransaction? within, CancellationToken cancellationToken)
    {
        var span = StoreOperation.Start(operation == "Ack" ? "lease.ack" : "lease.block", _store);
        try
        {
            await using var prepared = within is null ? await _store.PrepareAsync(sql, cancellationToken, parameters).ConfigureAwait(false) : null;
            await using var inTransaction = within is null ? null : _store.CreateCommand(sql, within.Connection!, within);
            inTransaction?.Parameters.AddRange(parameters);
            var command = prepared?.Command ?? inTransaction!;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var streams = new HashSet<string>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                streams.Add(reader.GetString(0));
            }

            span.Succeeded();
            return streams;
        }
        catch (Exception e)
        {
            var translated = _store.Translate(operation, e);
            span.Failed(translated);
            throw translated;
        }
    }

    private static void ValidateDuration(TimeSpan leaseDuration)
    {
        if (leaseDuration <= TimeSpan.Zero || leaseDuration > MaxDuration)
        {
            throw new ArgumentOutOfRangeException(
                nameof(leaseDuration), leaseDuration, $"Lease duration must be positive and at most {MaxDuration.TotalDays} days.");
        }
    }

    private static void ValidateTarget(Subscription target, string parameter)
    {
        InputChecks.Key(target.Stream, "Target stream", parameter);

        if (target.Source is not null)
        {
            InputChecks.Key(target.Source, "Source stream", parameter);
        }

        ArgumentNullException.ThrowIfNull(target.Lane, parameter);
        if (!InputChecks.IsText(target.Lane))
        {
            InputChecks.Text(target.Lane, $"Lane '{InputChecks.Shorten(target.Lane)}' of target '{InputChecks.Shorten(target.Stream)}'", parameter);
        }
    }

    /// <summary>
    /// An error text PostgreSQL can store. Errors are exception texts, cut to a length (perhaps inside a surrogate
    /// pair) and may hold NULs; a block that failed on them would lose the error and every ack of its cycle.
    /// </summary>
    private static string Storable(string error)
    {
        var text = error.ToCharArray();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\0')
            {
                text[i] = ' ';
            }
            else if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                text[i] = '\uFFFD';
            }
        }

        return new string(text);
    }

    private static List<T> Distinct<T>(IEnumerable<T> items, Func<T, string> key)
        => items.GroupBy(key, StringComparer.Ordinal).Select(g => g.Last()).ToList();

    /// <summary>The last parameter of the loop's lease writes: 'off' (asynchronous commit) or NULL (the server's setting).</summary>
    private NpgsqlParameter CommitMode()
        => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = _synchronousCommit ? DBNull.Value : "off" };

    private static NpgsqlParameter NullableText(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Text(string value) => new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = value };

    private static NpgsqlParameter TextArray(IEnumerable<string?> values)
        => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values.ToArray() };
}
