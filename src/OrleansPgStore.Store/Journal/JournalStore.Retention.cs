using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    /// <summary>
    /// Windowed retention over the whole journal, in batches of <paramref name="batchSize"/> streams (one short
    /// transaction each), reporting progress after each: in every stream with a snapshot created before
    /// <paramref name="cutoff"/>, the events and older snapshots the newest such snapshot covers are deleted.
    /// </summary>
    /// <remarks>
    /// Same effect as <see cref="TruncateBeforeAsync"/> without a stream, but never one long transaction over the
    /// whole table, so commits and grains keep working alongside. Deleted events also leave the global feed: run it
    /// only behind the slowest reaction. Cancelling stops after the current batch; what was deleted stays deleted.
    /// </remarks>
    /// <returns>The final progress: streams trimmed and rows deleted.</returns>
    public async Task<RetentionProgress> RunRetentionAsync(
        DateTimeOffset cutoff, int batchSize = 100, IProgress<RetentionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var at = new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = cutoff.UtcDateTime };
        var operation = StoreOperation.Start("journal.retention", _store);
        try
        {
            long total;
            await using (var count = _store.CreateCommand(_sql.RetentionStreamCount))
            {
                count.Parameters.Add(at.Clone());
                total = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            var state = new RetentionProgress(0, total, 0);
            progress?.Report(state);
            string? after = null;
            while (true)
            {
                var streams = new List<string>(batchSize);
                await using (var next = _store.CreateCommand(_sql.RetentionStreams))
                {
                    next.Parameters.Add(at.Clone());
                    next.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)after ?? DBNull.Value });
                    next.Parameters.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = batchSize });
                    await using var reader = await next.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        streams.Add(reader.GetString(0));
                    }
                }

                if (streams.Count == 0)
                {
                    break;
                }

                await using (var delete = _store.CreateCommand(_sql.TruncateBeforeStreams))
                {
                    delete.Parameters.Add(at.Clone());
                    delete.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = streams.ToArray() });
                    long deleted = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    StoreInstruments.RetentionRemoved(deleted, _store.CollectionName);
                    // Streams whose first snapshot appeared after the count can make "done" pass "total".
                    state = new RetentionProgress(state.StreamsDone + streams.Count, Math.Max(total, state.StreamsDone + streams.Count),
                        state.RowsDeleted + deleted);
                }

                progress?.Report(state);
                after = streams[^1];
                if (streams.Count < batchSize)
                {
                    break;
                }
            }

            operation.Tag("orleanspgstore.rows_deleted", state.RowsDeleted);
            operation.Succeeded();
            return state;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Retention of the journal", e);
        }
    }
}
