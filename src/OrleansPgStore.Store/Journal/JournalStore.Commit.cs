using OrleansPgStore.Store.Schema;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    // An unchecked append (no expected version) that loses a race for the next version simply tries again at
    // the new end of the stream; this bounds how often under extreme contention on one stream.
    private const int MaxRaceRetries = 32;

    /// <summary>
    /// Appends <paramref name="events"/> to <paramref name="stream"/> atomically, in order, in one statement.
    /// </summary>
    /// <param name="stream">The stream to append to.</param>
    /// <param name="events">The events; an empty batch does nothing (no I/O) and returns an empty list.</param>
    /// <param name="metadata">Correlation and causation recorded with every event of the batch.</param>
    /// <param name="expectedVersion">
    /// The version of the stream's current last event; <c>-1</c> asserts that the stream is empty; <c>null</c>
    /// appends wherever the stream ends.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The committed events with their global positions, versions and commit times.</returns>
    /// <remarks>
    /// Versions are 0-based and contiguous per stream. When the events carry ids and any of them is already stored
    /// in the stream, nothing is appended and the stored events are returned: retrying a commit whose outcome is
    /// unknown (a lost connection) never appends twice. Two writers racing for the same version: one wins, the
    /// other gets <see cref="StreamConcurrencyException"/> (or, without an expected version, appends after it).
    /// </remarks>
    /// <exception cref="StreamConcurrencyException">The stream is not at <paramref name="expectedVersion"/>.</exception>
    /// <exception cref="ArgumentException">Invalid stream, event name, payload or metadata; nothing was written.</exception>
    /// <exception cref="StoreNotSeededException">The events table does not exist.</exception>
    public async Task<IReadOnlyList<RecordedEvent>> CommitAsync(
        string stream,
        IReadOnlyList<EventData> events,
        EventMetadata? metadata = null,
        long? expectedVersion = null,
        CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        ArgumentNullException.ThrowIfNull(events);
        CommitChecks.ExpectedVersion(expectedVersion, stream);
        CommitChecks.Batch(stream, events);
        metadata ??= EventMetadata.None;
        CommitChecks.Metadata(metadata, stream);

        if (events.Count == 0)
        {
            return [];
        }

        var operation = StoreOperation.Start(
            "journal.commit", _store, stream, parent: TraceContext.Parse(metadata.Causation?.TraceParent));
        operation.Tag("orleanspgstore.event_count", events.Count);
        metadata = TraceContext.Stamp(metadata, operation.Activity);
        try
        {
            await EnsurePositionsAsync("Commit to stream", stream, cancellationToken).ConfigureAwait(false);
            var committed = await CommitWithRetriesAsync(stream, events, metadata, expectedVersion, cancellationToken).ConfigureAwait(false);
            operation.Succeeded();
            RaiseCommitted(stream);
            return committed;
        }
        catch (StreamConcurrencyException e)
        {
            operation.Conflicted();
            _logger.StreamConflict(stream, e.ExpectedVersion, e.ActualVersion);
            throw;
        }
        catch (Exception e)
        {
            // A lost connection may mean a move to another server (a restore): look at the positions again first.
            RecheckPositions();
            var translated = _store.Translate($"Commit to stream '{InputChecks.Shorten(stream)}'", e);
            operation.Failed(translated);
            throw translated;
        }
    }

    private async Task<IReadOnlyList<RecordedEvent>> CommitWithRetriesAsync(
        string stream, IReadOnlyList<EventData> events, EventMetadata metadata, long? expectedVersion, CancellationToken cancellationToken)
    {
        var withIds = events.Any(e => e.Id is not null);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (events.Count == 1)
                {
                    return await CommitOneAsync(stream, events[0], metadata, expectedVersion, cancellationToken).ConfigureAwait(false);
                }

                return await ExecuteCommitAsync(
                    stream,
                    withIds ? Commits.CommitIdempotent : Commits.Commit,
                    CommitParameters(stream, events, metadata, expectedVersion, withIds),
                    reader => withIds
                        ? ReadIdempotentCommitAsync(reader, stream, events, metadata, expectedVersion, cancellationToken)
                        : ReadCommitAsync(reader, stream, events, metadata, expectedVersion, cancellationToken),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && attempt < MaxRaceRetries)
            {
                // Another commit took the same version (or stored the same event ids) and committed first.
                if (expectedVersion is not null && !withIds)
                {
                    var actual = await CurrentVersionAsync(stream, cancellationToken).ConfigureAwait(false);
                    throw new StreamConcurrencyException(stream, expectedVersion.Value, actual, e);
                }

                // Unchecked appends go again at the new end; idempotent ones find the stored ids on the next try.
                _logger.CommitRaceRetry(stream, attempt);
            }
        }
    }

    /// <summary>The common case, one event, with scalar parameters (no arrays to build or unnest).</summary>
    private async Task<IReadOnlyList<RecordedEvent>> CommitOneAsync(
        string stream, EventData e, EventMetadata metadata, long? expectedVersion, CancellationToken cancellationToken)
    {
        var committed = await ExecuteCommitAsync<RecordedEvent?>(
            stream,
            e.Id is null ? Commits.CommitOne : Commits.CommitOneIdempotent,
            [
                StreamParameter(stream),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (object?)expectedVersion ?? DBNull.Value },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = e.Name },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Jsonb, TypedValue = e.Json },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = (object?)e.Id ?? DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)metadata.CorrelationId ?? DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = (object?)Causation(metadata) ?? DBNull.Value },
            ],
            async reader => await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadOne(reader, stream, e, metadata) : null,
            cancellationToken).ConfigureAwait(false);

        if (committed is null)
        {
            // Nothing inserted: the expected version did not match.
            throw new StreamConcurrencyException(stream, expectedVersion ?? -1, await CurrentVersionAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        StoreInstruments.Appended(1, _store.CollectionName);
        return [committed];
    }

    /// <summary>A row of CommitOne (position, version, created) or of CommitOneIdempotent (with a stored flag first).</summary>
    private RecordedEvent ReadOne(NpgsqlDataReader reader, string stream, EventData e, EventMetadata metadata)
    {
        if (e.Id is null)
        {
            return new RecordedEvent(reader.GetInt64(0), stream, reader.GetInt64(1), e.Name, e.Json, null, metadata,
                reader.GetFieldValue<DateTimeOffset>(2));
        }

        if (!reader.GetBoolean(0))
        {
            return new RecordedEvent(reader.GetInt64(1), stream, reader.GetInt64(2), e.Name, e.Json, e.Id, metadata,
                reader.GetFieldValue<DateTimeOffset>(3));
        }

        // An idempotent retry: the event as it was stored the first time.
        _logger.IdempotentCommit(stream, 1);
        var correlation = reader.IsDBNull(6) ? null : reader.GetString(6);
        var causation = reader.IsDBNull(7)
            ? null
            : JsonSerializer.Deserialize(reader.GetString(7), JournalJsonContext.Default.EventCausation);
        return new RecordedEvent(reader.GetInt64(1), stream, reader.GetInt64(2), reader.GetString(4), reader.GetString(5), e.Id,
            correlation is null && causation is null ? EventMetadata.None : new EventMetadata(correlation, causation),
            reader.GetFieldValue<DateTimeOffset>(3));
    }

    private static string? Causation(EventMetadata metadata) => metadata.Causation is null
        ? null
        : JsonSerializer.Serialize(metadata.Causation, JournalJsonContext.Default.EventCausation);

    private static NpgsqlParameter[] CommitParameters(
        string stream, IReadOnlyList<EventData> events, EventMetadata metadata, long? expectedVersion, bool withIds)
    {
        var names = new string[events.Count];
        var data = new string[events.Count];
        var ids = withIds ? new Guid?[events.Count] : null;
        for (var i = 0; i < events.Count; i++)
        {
            names[i] = events[i].Name;
            data[i] = events[i].Json;
            if (ids is not null)
            {
                ids[i] = events[i].Id;
            }
        }

        var causation = Causation(metadata);
        return
        [
            new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = stream },
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (object?)expectedVersion ?? DBNull.Value },
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = names },
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb, Value = data },
            // Without ids, a NULL array: unnest pads it with NULLs to the batch's length.
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = (object?)ids ?? DBNull.Value },
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)metadata.CorrelationId ?? DBNull.Value },
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = (object?)causation ?? DBNull.Value },
        ];
    }

    private async Task<IReadOnlyList<RecordedEvent>> ReadCommitAsync(
        NpgsqlDataReader reader, string stream, IReadOnlyList<EventData> events, EventMetadata metadata,
        long? expectedVersion, CancellationToken cancellationToken)
    {
        // One row (see JournalSql.Commit): the batch's positions and versions follow from the first ones.
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException("The commit statement returned no row.");
        }

        var last = reader.GetInt64(0);
        if (reader.GetInt64(2) == 0)
        {
            throw new StreamConcurrencyException(stream, expectedVersion ?? -1, last);
        }

        if (reader.GetInt64(2) != events.Count)
        {
            throw new InvalidOperationException($"The commit stored {reader.GetInt64(2)} of {events.Count} events.");
        }

        var first = reader.GetInt64(1);
        var created = reader.GetFieldValue<DateTimeOffset>(3);
        var committed = new RecordedEvent[events.Count];
        for (var i = 0; i < committed.Length; i++)
        {
            var e = events[i];
            committed[i] = new RecordedEvent(first + i, stream, last + 1 + i, e.Name, e.Json, e.Id, metadata, created);
        }

        StoreInstruments.Appended(committed.Length, _store.CollectionName);
        return committed;
    }

    private async Task<IReadOnlyList<RecordedEvent>> ReadIdempotentCommitAsync(
        NpgsqlDataReader reader, string stream, IReadOnlyList<EventData> events, EventMetadata metadata,
        long? expectedVersion, CancellationToken cancellationToken)
    {
        const int storedColumns = 4;
        var appended = new List<RecordedEvent>(events.Count);
        var stored = new List<RecordedEvent>();
        var lastVersion = -1L;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            lastVersion = reader.GetInt64(0);
            if (!reader.IsDBNull(1))
            {
                appended.Add(ToRecorded(reader, stream, events[appended.Count], metadata));
            }
            else if (!reader.IsDBNull(storedColumns))
            {
                stored.Add(RecordedEventReader.Read(reader, storedColumns));
            }
        }

        if (appended.Count > 0)
        {
            StoreInstruments.Appended(appended.Count, _store.CollectionName);
            return appended;
        }

        if (stored.Count == 0)
        {
            throw new StreamConcurrencyException(stream, expectedVersion ?? -1, lastVersion);
        }

        if (stored.Count != events.Count)
        {
            throw new ArgumentException(
                $"Commit to stream '{InputChecks.Shorten(stream)}' repeats {stored.Count} of its {events.Count} event ids " +
                $"already stored ({string.Join(", ", stored.Select(e => e.Id))}); an idempotent retry must resend the same batch.",
                nameof(events));
        }

        _logger.IdempotentCommit(stream, stored.Count);
        return stored;
    }

    private static RecordedEvent ToRecorded(NpgsqlDataReader reader, string stream, EventData e, EventMetadata metadata)
        => new(
            Position: reader.GetInt64(1),
            Stream: stream,
            Version: reader.GetInt64(2),
            Name: e.Name,
            Json: e.Json,
            Id: e.Id,
            Metadata: metadata,
            Created: reader.GetFieldValue<DateTimeOffset>(3));

    private static NpgsqlParameter StreamParameter(string stream)
        => new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = stream };

    /// <summary>The version of the stream's last event or snapshot; -1 when the stream is empty.</summary>
    public async Task<long> CurrentVersionAsync(string stream, CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.CurrentVersion, cancellationToken, StreamParameter(stream)).ConfigureAwait(false);
            return (long)(await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception e)
        {
            throw _store.Translate($"Reading the version of stream '{InputChecks.Shorten(stream)}'", e);
        }
    }
}
