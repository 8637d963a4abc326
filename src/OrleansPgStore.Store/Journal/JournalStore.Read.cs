using OrleansPgStore.Store.Schema;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    /// <summary>
    /// Streams the newest snapshot of <paramref name="stream"/> (if any, with <see cref="RecordedEvent.IsSnapshot"/>
    /// set) followed by the events after it, in version order. Without a snapshot: every event of the stream.
    /// </summary>
    /// <remarks>
    /// One statement: the snapshot is found with one lookup in a partial index, and the events after it come from
    /// the <c>(stream, version)</c> index, so loading costs the same however long the history before the snapshot
    /// is. Rows are streamed from the server, never buffered whole.
    /// </remarks>
    public IAsyncEnumerable<RecordedEvent> LoadAsync(string stream, CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        return ReadAsync(
            "journal.load",
            stream,
            _sql.Load,
            [StreamParameter(stream)],
            reader => RecordedEventReader.Read(reader, stream: stream),
            cancellationToken,
            static e => (e.Version, e.IsSnapshot));
    }

    /// <summary>
    /// Like <see cref="LoadAsync"/>, reading only what rebuilding a state needs of each row (version, name, payload):
    /// what a JournaledGrain's activation reads.
    /// </summary>
    internal IAsyncEnumerable<ReplayEntry> ReplayAsync(string stream, CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        return ReadAsync(
            "journal.load",
            stream,
            _sql.Replay,
            [StreamParameter(stream)],
            static reader => new ReplayEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)),
            cancellationToken,
            static e => (e.Version, e.IsSnapshot));
    }

    /// <summary>
    /// Prepares the statements a JournaledGrain's activation runs (<see cref="ReplayAsync"/>, <see cref="LoadAsync"/>)
    /// on <paramref name="connection"/> and runs each once for a stream that cannot exist, e.g. from a data source's
    /// physical connection initializer: an activation that lands on a connection the pool has just opened then
    /// neither prepares them nor waits for the server to load the table's statistics and index metadata.
    /// Only an optimization: returns <c>false</c> instead of throwing when it cannot.
    /// </summary>
    internal Task<bool> PrepareConnectionAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return _store.PrepareOnAsync(
            connection,
            [(_sql.Replay, [StreamParameter("")]), (_sql.Load, [StreamParameter("")])],
            cancellationToken);
    }

    /// <summary>
    /// Streams the events of <paramref name="stream"/> with versions from <paramref name="fromVersion"/> (inclusive)
    /// to <paramref name="toVersion"/> (exclusive; <c>null</c>: to the end), in version order, snapshots excluded.
    /// Events removed by truncation are simply not there.
    /// </summary>
    public IAsyncEnumerable<RecordedEvent> ReadStreamAsync(
        string stream, long fromVersion = 0, long? toVersion = null, CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(fromVersion);
        return ReadAsync(
            "journal.read",
            stream,
            _sql.ReadStream,
            [
                StreamParameter(stream),
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = fromVersion },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (object?)toVersion ?? DBNull.Value },
            ],
            static reader => RecordedEventReader.Read(reader),
            cancellationToken);
    }

    /// <summary>Runs a prepared read and streams its rows, mapped by <c>read</c>.</summary>
    /// <remarks>
    /// <c>snapshotOf</c> is given for the rows of a load (see <see cref="JournalSql.Load"/>): the row's version and
    /// snapshot flag. The load returns every row from the newest snapshot's version on, so its first row may be the
    /// event at that version, with the snapshot that covers it right behind; that event is dropped. Done here rather
    /// than in a wrapping iterator, because a second iterator layer cost a measurable share of a long load.
    /// </remarks>
    private async IAsyncEnumerable<T> ReadAsync<T>(
        string name,
        string stream,
        string sql,
        NpgsqlParameter[] parameters,
        Func<NpgsqlDataReader, T> read,
        [EnumeratorCancellation] CancellationToken cancellationToken,
        Func<T, (long Version, bool IsSnapshot)>? snapshotOf = null)
    {
        // One span and one duration per enumeration: from the first row asked for to the last one read (or until the
        // caller stops early).
        var operation = StoreOperation.Start(name, _store, stream);
        try
        {
            PreparedCommand prepared;
            NpgsqlDataReader reader;
            try
            {
                prepared = await _store.PrepareAsync(sql, cancellationToken, parameters).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw ReadFailed(ref operation, name, stream, e);
            }

            await using var preparedScope = prepared.ConfigureAwait(false);
            try
            {
                reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw ReadFailed(ref operation, name, stream, e);
            }

            await using (reader.ConfigureAwait(false))
            {
                var first = true;
                var holding = false;
                T held = default!;
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        throw ReadFailed(ref operation, name, stream, e);
                    }

                    if (!more)
                    {
                        break;
                    }

                    var row = read(reader);
                    if (snapshotOf is not null)
                    {
                        if (first)
                        {
                            first = false;
                            if (!snapshotOf(row).IsSnapshot)
                            {
                                // Perhaps covered by a snapshot at the same version: the next row tells.
                                (held, holding) = (row, true);
                                continue;
                            }
                        }
                        else if (holding)
                        {
                            holding = false;
                            var (version, isSnapshot) = snapshotOf(row);
                            if (!isSnapshot || snapshotOf(held).Version != version)
                            {
                                yield return held;
                            }
                        }
                    }

                    yield return row;
                }

                if (holding)
                {
                    yield return held;
                }
            }
        }
        finally
        {
            operation.Complete();
        }
    }

    private Exception ReadFailed(ref StoreOperation operation, string name, string stream, Exception e)
        => Failed(ref operation, $"{(name == "journal.read" ? "Reading" : "Loading")} stream '{InputChecks.Shorten(stream)}'", e);

    /// <summary>Streams the events matching <paramref name="query"/>, in position order (newest first when backward).</summary>
    /// <remarks>
    /// <para>Results are fetched page by page (<c>PgStoreOptions.PageSize</c>) with a keyset on position,
    /// so a slow consumer never holds a statement open for long and nothing is buffered whole.</para>
    /// <para>A forward read that is not limited to one exact stream reads the <i>settled feed</i>: it never returns an
    /// event that an append to this table still in flight could precede (see <see cref="JournalSql"/>), so a consumer
    /// that remembers the last position it read and later asks for events after it never skips one. It returns every
    /// matching event committed before it started: when such events wait behind an append in flight, it waits for that
    /// append, up to <c>PgStoreOptions.FeedSettleTimeout</c>, and then throws
    /// <see cref="Errors.FeedNotSettledException"/> (transient, naming the transaction that held it back) rather than
    /// end short. Transactions on other tables or databases never hold it back.</para>
    /// </remarks>
    /// <exception cref="Errors.FeedNotSettledException">An append in flight held back events committed before the query began for longer than <c>PgStoreOptions.FeedSettleTimeout</c>; the events already yielded are correct, the rest are missing.</exception>
    public async IAsyncEnumerable<RecordedEvent> QueryAsync(
        JournalQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ValidateQuery(query);
        if (query.Names is { Count: 0 } || query.Limit <= 0)
        {
            yield break;
        }

        var fenced = !query.Backward && query.Stream is null;
        var remaining = query.Limit ?? long.MaxValue;
        long? after = query.After, before = query.Before;
        var settleDelay = TimeSpan.FromMilliseconds(1);
        long? settleStarted = null;
        // Above every position committed before the query began (the first page's snapshot): an event held back at or
        // past it was committed later, and the query is complete without it.
        long? horizon = null;
        var operation = StoreOperation.Start("journal.query", _store, query.Stream);
        try
        {
            while (remaining > 0)
            {
                var pageSize = (int)Math.Min(remaining, _options.PageSize);
                await using var command = CreateQueryCommand(query, after, before, pageSize);
                NpgsqlDataReader reader;
                try
                {
                    reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidRegularExpression)
                {
                    var invalid = new ArgumentException($"Query StreamPattern is not a valid regular expression: {e.MessageText}", nameof(query), e);
                    operation.Failed(invalid);
                    throw invalid;
                }
                catch (Exception e)
                {
                    throw Failed(ref operation, "Query of the journal", e);
                }

                var read = 0;
                var heldBack = false;
                var heldBackAt = 0L;
                await using (reader.ConfigureAwait(false))
                {
                    while (true)
                    {
                        try
                        {
                            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                            {
                                break;
                            }
                        }
                        catch (Exception e)
                        {
                            throw Failed(ref operation, "Query of the journal", e);
                        }

                        var e1 = RecordedEventReader.Read(reader);
                        horizon ??= reader.GetInt64(11);
                        if (fenced && e1.Position >= reader.GetInt64(10))
                        {
                            // Visible already, but a commit still in flight may yet land below it.
                            heldBack = true;
                            heldBackAt = e1.Position;
                            break;
                        }

                        read++;
                        remaining--;
                        if (query.Backward)
                        {
                            before = e1.Position;
                        }
                        else
                        {
                            after = e1.Position;
                        }

                        yield return e1;
                    }
                }

                if (heldBack)
                {
                    if (heldBackAt >= horizon)
                    {
                        yield break;
                    }

                    settleStarted ??= Stopwatch.GetTimestamp();
                    if (Stopwatch.GetElapsedTime(settleStarted.Value) >= _options.FeedSettleTimeout)
                    {
                        var notSettled = await NotSettledAsync(heldBackAt, Stopwatch.GetElapsedTime(settleStarted.Value), cancellationToken)
                            .ConfigureAwait(false);
                        operation.Failed(notSettled);
                        throw notSettled;
                    }

                    await Task.Delay(settleDelay, cancellationToken).ConfigureAwait(false);
                    settleDelay = TimeSpan.FromTicks(Math.Min(settleDelay.Ticks * 2, TimeSpan.FromMilliseconds(32).Ticks));
                    continue;
                }

                if (read < pageSize)
                {
                    yield break;
                }
            }
        }
        finally
        {
            operation.Complete();
        }
    }

    /// <summary>The error of a query that gave up waiting, naming the oldest append in flight to this table.</summary>
    private async Task<FeedNotSettledException> NotSettledAsync(long heldBackAt, TimeSpan waited, CancellationToken cancellationToken)
    {
        int? pid = null;
        string? database = null, state = null;
        long? transaction = null;
        TimeSpan? age = null;
        try
        {
            await using var command = _store.CreateCommand(_sql.FenceHolders);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                pid = reader.IsDBNull(0) ? null : reader.GetInt32(0);
                database = reader.IsDBNull(1) ? null : reader.GetString(1);
                transaction = reader.GetInt64(2);
                age = reader.IsDBNull(3) ? null : reader.GetTimeSpan(3);
                state = reader.IsDBNull(4) ? null : reader.GetString(4);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // Only a diagnosis: the error below stands without it.
            _logger.FeedNotSettled($"Could not tell which append held the feed of {_store.QualifiedTable} back: {e.Message}");
        }

        var notSettled = new FeedNotSettledException(_store.QualifiedTable, heldBackAt, waited, pid, database, transaction, age, state);
        _logger.FeedNotSettled(notSettled.Message);
        return notSettled;
    }

    private NpgsqlCommand CreateQueryCommand(JournalQuery query, long? after, long? before, int limit)
    {
        var command = _store.CreateCommand(query.Backward ? _sql.QueryBackward : _sql.QueryForward);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter("stream", NpgsqlDbType.Text) { Value = (object?)query.Stream ?? DBNull.Value });
        p.Add(new NpgsqlParameter("pattern", NpgsqlDbType.Text) { Value = (object?)query.StreamPattern ?? DBNull.Value });
        p.Add(new NpgsqlParameter("names", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)query.Names?.ToArray() ?? DBNull.Value });
        p.Add(new NpgsqlParameter("after", NpgsqlDbType.Bigint) { Value = (object?)after ?? DBNull.Value });
        p.Add(new NpgsqlParameter("before", NpgsqlDbType.Bigint) { Value = (object?)before ?? DBNull.Value });
        p.Add(new NpgsqlParameter("created_after", NpgsqlDbType.TimestampTz) { Value = (object?)query.CreatedAfter?.ToUniversalTime() ?? DBNull.Value });
        p.Add(new NpgsqlParameter("created_before", NpgsqlDbType.TimestampTz) { Value = (object?)query.CreatedBefore?.ToUniversalTime() ?? DBNull.Value });
        p.Add(new NpgsqlParameter("correlation", NpgsqlDbType.Text) { Value = (object?)query.CorrelationId ?? DBNull.Value });
        p.Add(new NpgsqlParameter<bool>("with_snapshots", NpgsqlDbType.Boolean) { TypedValue = query.IncludeSnapshots });
        p.Add(new NpgsqlParameter<int>("limit", NpgsqlDbType.Integer) { TypedValue = limit });
        return command;
    }

    private static void ValidateQuery(JournalQuery query)
    {
        if (query.Stream is not null)
        {
            InputChecks.Stream(query.Stream, nameof(JournalQuery.Stream));
        }

        foreach (var (value, name) in new[]
                 {
                     (query.StreamPattern, nameof(JournalQuery.StreamPattern)),
                     (query.CorrelationId, nameof(JournalQuery.CorrelationId)),
                 })
        {
            if (value is not null)
            {
                InputChecks.Encodable(value, $"Query {name}", nameof(query));
            }
        }

        foreach (var eventName in query.Names ?? [])
        {
            if (eventName is null)
            {
                throw new ArgumentException("Query Names contains a null name.", nameof(query));
            }

            InputChecks.Encodable(eventName, "A name in Query Names", nameof(query));
        }
    }
}
