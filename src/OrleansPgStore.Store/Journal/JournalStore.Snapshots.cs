using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    /// <summary>
    /// Stores <paramref name="stateJson"/> as the state of <paramref name="stream"/> after the event at
    /// <paramref name="version"/>. <see cref="LoadAsync"/> then starts from the newest snapshot. Saving a snapshot
    /// at a version that already has one replaces it.
    /// </summary>
    /// <remarks>
    /// Takes turns with the stream's full truncations (<see cref="TruncateAsync"/>): saved while one starts, the snapshot
    /// is stored first and truncated away; saved after one, it sees the tombstone.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The stream has no event at <paramref name="version"/> yet.</exception>
    /// <exception cref="ArgumentException">The stream was truncated to a tombstone at or after <paramref name="version"/>:
    /// what the snapshot would cover was cleared. Nothing is stored.</exception>
    public async Task<RecordedEvent> SaveSnapshotAsync(
        string stream, long version, string stateJson, CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        InputChecks.Json(stateJson, $"The snapshot of stream '{InputChecks.Shorten(stream)}'", nameof(stateJson));

        var operation = StoreOperation.Start("journal.snapshot", _store, stream);
        try
        {
            await EnsurePositionsAsync("Saving a snapshot of stream", stream, cancellationToken).ConfigureAwait(false);
            // The stream lock, then the insert (see JournalSql.SaveSnapshotLock): a truncation never races a snapshot.
            await using var batch = _store.CreateBatch();
            var streamLock = new NpgsqlBatchCommand(_sql.SaveSnapshotLock);
            streamLock.Parameters.Add(new NpgsqlParameter<string>("stream", NpgsqlDbType.Text) { TypedValue = stream });
            var save = new NpgsqlBatchCommand(_sql.SaveSnapshot);
            AddSnapshotParameters(save.Parameters, stream, version, SnapshotName, stateJson);
            batch.BatchCommands.Add(streamLock);
            batch.BatchCommands.Add(save);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(version), version, $"Stream '{InputChecks.Shorten(stream)}' has no event at version {version}.");
            }

            if (reader.GetString(3) == TombstoneName)
            {
                // A snapshot is never stored at or below the tombstone a truncation left: the stream was cleared there.
                throw new ArgumentException(
                    $"Stream '{InputChecks.Shorten(stream)}' was truncated at version {reader.GetInt64(1)} without a snapshot (its tombstone is " +
                    $"there); a snapshot at version {version} would cover cleared events and is not stored.", nameof(version));
            }

            var snapshot = SnapshotRow(reader, stream, SnapshotName, stateJson);
            operation.Succeeded();
            return snapshot;
        }
        catch (Exception e)
        {
            var translated = _store.Translate($"Saving a snapshot of stream '{InputChecks.Shorten(stream)}'", e);
            operation.Failed(translated);
            StoreInstruments.SnapshotFailed(_store.CollectionName);
            throw translated;
        }
    }

    /// <summary>
    /// Full truncation: replaces the whole history of <paramref name="stream"/> by one row at its last version,
    /// a snapshot of <paramref name="snapshotJson"/> or, when that is <c>null</c>, a tombstone.
    /// </summary>
    /// <remarks>
    /// The stream keeps its version (the next commit continues after it) so that a writer holding a stale version
    /// still gets a conflict instead of writing onto a different history. Events committed concurrently after the
    /// truncation read the stream's version survive it. A snapshot being saved meanwhile (<see cref="SaveSnapshotAsync"/>)
    /// is waited for and removed, never a reason to fail.
    /// </remarks>
    /// <returns>The row left behind, or <c>null</c> when the stream was empty.</returns>
    /// <exception cref="StreamConcurrencyException">The stream is not at <paramref name="expectedVersion"/>.</exception>
    public async Task<RecordedEvent?> TruncateAsync(
        string stream, string? snapshotJson = null, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        InputChecks.Stream(stream);
        CommitChecks.ExpectedVersion(expectedVersion, stream);
        if (snapshotJson is not null)
        {
            InputChecks.Json(snapshotJson, $"The snapshot of stream '{InputChecks.Shorten(stream)}'", nameof(snapshotJson));
        }

        var name = snapshotJson is null ? TombstoneName : SnapshotName;
        var data = snapshotJson ?? "null";
        var operation = StoreOperation.Start("journal.truncate", _store, stream);
        try
        {
            await EnsurePositionsAsync("Truncating stream", stream, cancellationToken).ConfigureAwait(false);
            await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

            long version;
            // Takes the append lock first: the row kept below gets a position (see JournalSql).
            await using (var current = _store.CreateCommand(_sql.TruncateCurrentVersion, connection, transaction))
            {
                current.Parameters.Add(StreamParameter(stream));
                version = (long)(await current.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            if (expectedVersion is not null && expectedVersion != version)
            {
                throw new StreamConcurrencyException(stream, expectedVersion.Value, version);
            }

            if (version < 0)
            {
                operation.Succeeded();
                return null;
            }

            RecordedEvent kept;
            await using (var delete = _store.CreateCommand(_sql.TruncateDelete, connection, transaction))
            {
                delete.Parameters.Add(new NpgsqlParameter<string>("stream", NpgsqlDbType.Text) { TypedValue = stream });
                delete.Parameters.Add(new NpgsqlParameter<long>("version", NpgsqlDbType.Bigint) { TypedValue = version });
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var keep = _store.CreateCommand(_sql.TruncateKeep, connection, transaction))
            {
                AddSnapshotParameters(keep.Parameters, stream, version, name, data);
                await using var reader = await keep.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                kept = SnapshotRow(reader, stream, name, data);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            operation.Succeeded();
            return kept;
        }
        catch (StreamConcurrencyException)
        {
            operation.Conflicted();
            throw;
        }
        catch (Exception e)
        {
            var translated = _store.Translate($"Truncating stream '{InputChecks.Shorten(stream)}'", e);
            operation.Failed(translated);
            throw translated;
        }
    }

    /// <summary>
    /// Windowed truncation: in each stream (or only <paramref name="stream"/>), finds the newest snapshot created
    /// before <paramref name="cutoff"/> and deletes the events and older snapshots it covers. Streams without
    /// such a snapshot are left alone.
    /// </summary>
    /// <remarks>
    /// Deleted events also leave the global feed: run retention only behind the slowest reaction.
    /// </remarks>
    /// <returns>How many rows were deleted.</returns>
    public async Task<long> TruncateBeforeAsync(
        DateTimeOffset cutoff, string? stream = null, CancellationToken cancellationToken = default)
    {
        if (stream is not null)
        {
            InputChecks.Stream(stream);
        }

        var operation = StoreOperation.Start("journal.retention", _store, stream);
        try
        {
            await using var command = _store.CreateCommand(_sql.TruncateBefore);
            command.Parameters.Add(new NpgsqlParameter("cutoff", NpgsqlDbType.TimestampTz) { Value = cutoff.ToUniversalTime() });
            command.Parameters.Add(new NpgsqlParameter("stream", NpgsqlDbType.Text) { Value = (object?)stream ?? DBNull.Value });
            long deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            StoreInstruments.RetentionRemoved(deleted, _store.CollectionName);
            operation.Succeeded();
            return deleted;
        }
        catch (Exception e)
        {
            var translated = _store.Translate("Windowed truncation of the journal", e);
            operation.Failed(translated);
            throw translated;
        }
    }

    private static void AddSnapshotParameters(NpgsqlParameterCollection p, string stream, long version, string name, string json)
    {
        p.Add(new NpgsqlParameter<string>("stream", NpgsqlDbType.Text) { TypedValue = stream });
        p.Add(new NpgsqlParameter<long>("version", NpgsqlDbType.Bigint) { TypedValue = version });
        p.Add(new NpgsqlParameter<string>("name", NpgsqlDbType.Text) { TypedValue = name });
        p.Add(new NpgsqlParameter<string>("data", NpgsqlDbType.Text) { TypedValue = json });
    }

    private static RecordedEvent SnapshotRow(NpgsqlDataReader reader, string stream, string name, string json)
        => new(
            Position: reader.GetInt64(0),
            Stream: stream,
            Version: reader.GetInt64(1),
            Name: name,
            Json: json,
            Id: null,
            Metadata: EventMetadata.None,
            Created: reader.GetFieldValue<DateTimeOffset>(2),
            IsSnapshot: true);
}
