using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Journal;

public sealed partial class JournalStore
{
    /// <summary>
    /// Windowed retention over the whole journal (see <see cref="RunRetentionAsync(RetentionRun, IProgress{RetentionProgress}?, CancellationToken)"/>),
    /// with the defaults: nothing a subscription has not passed is deleted, and every snapshot older than
    /// <paramref name="cutoff"/> is visited.
    /// </summary>
    /// <returns>The final progress: streams visited, rows deleted and withheld.</returns>
    internal Task<RetentionProgress> RunRetentionAsync(
        DateTimeOffset cutoff, int batchSize = 100, IProgress<RetentionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return RunRetentionAsync(new RetentionRun(cutoff) { BatchSize = batchSize }, progress, cancellationToken);
    }

    /// <summary>
    /// Windowed retention over the whole journal, in batches of <see cref="RetentionRun.BatchSize"/> snapshots (one short
    /// transaction each), reporting progress after each: in every stream with a snapshot created before the cutoff, the
    /// events and older snapshots the newest such snapshot covers are deleted, except the events some subscription has
    /// not passed yet.
    /// </summary>
    /// <remarks>
    /// <para>Same effect as <see cref="TruncateBeforeAsync"/> without a stream, but never one long transaction over the
    /// whole table, so commits and grains keep working alongside. Cancelling stops after the current batch; what was
    /// deleted stays deleted.</para>
    /// <para>Events a subscription still needs are withheld and reported (<see cref="RetentionProgress.RowsWithheld"/>,
    /// <see cref="RetentionProgress.OldestHolder"/>): those after the watermark of a target with pending work (blocked
    /// ones included, unless <see cref="RetentionRun.IgnoreBlockedTargets"/>) in the streams it reads, and every event
    /// after a reaction group's discovery checkpoint. Subscriptions are those of every subscriptions table in this
    /// journal's schema; consumers that page the feed themselves are not known to retention.</para>
    /// </remarks>
    /// <returns>The final progress: streams visited, rows deleted and withheld, and where the next run may resume.</returns>
    internal async Task<RetentionProgress> RunRetentionAsync(
        RetentionRun run, IProgress<RetentionProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(run.BatchSize, nameof(run.BatchSize));
        var at = Timestamp(run.Cutoff);
        var since = Timestamp(run.SnapshotsSince);
        var operation = StoreOperation.Start("journal.retention", _store);
        try
        {
            var trim = RetentionSql.Trim(QualifiedTable, await SubscriptionTablesAsync(cancellationToken).ConfigureAwait(false), _store.QuotedSchema);
            long total;
            await using (var count = _store.CreateCommand(RetentionSql.StreamCount(QualifiedTable)))
            {
                count.Parameters.Add(at.Clone());
                count.Parameters.Add(since.Clone());
                total = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            var state = new RetentionProgress(0, total, 0) { DryRun = run.DryRun };
            progress?.Report(state);
            (DateTime Created, long Position)? after = null;
            DateTime? resumeFrom = null;
            while (true)
            {
                var page = await SnapshotPageAsync(at, since, after, run.BatchSize, cancellationToken).ConfigureAwait(false);
                if (page.Count == 0)
                {
                    break;
                }

                var streams = page.Select(s => s.Stream).Distinct(StringComparer.Ordinal).ToArray();
                var batch = await TrimAsync(trim, at, streams, run, cancellationToken).ConfigureAwait(false);
                if (batch.WithheldStreams.Count > 0)
                {
                    // The next run must come back to these streams: start it no later than their oldest snapshot seen here.
                    var oldest = page.Where(s => batch.WithheldStreams.Contains(s.Stream)).Min(s => s.Created);
                    resumeFrom = resumeFrom is { } r && r < oldest ? r : oldest;
                }

                // A stream with old snapshots in several pages counts once per page: "done" may pass "total".
                state = state with
                {
                    StreamsDone = state.StreamsDone + streams.Length,
                    StreamsTotal = Math.Max(total, state.StreamsDone + streams.Length),
                    RowsDeleted = state.RowsDeleted + batch.Deleted,
                    UnconsumedDeleted = state.UnconsumedDeleted + batch.Unconsumed,
                    RowsWithheld = state.RowsWithheld + batch.Withheld,
                    StreamsWithheld = state.StreamsWithheld + batch.WithheldStreams.Count,
                    OldestHolder = batch.Holder is not null && (state.OldestHolder is null || batch.Holder.Watermark < state.OldestHolder.Watermark)
                        ? batch.Holder
                        : state.OldestHolder,
                };
                progress?.Report(state);
                after = (page[^1].Created, page[^1].Position);
                if (page.Count < run.BatchSize)
                {
                    break;
                }
            }

            // A snapshot's age is its statement's start: one still committing when this run read the page is older than
            // it looks. The margin brings the next run back over those.
            var next = run.Cutoff - RetentionResumeMargin;
            state = state with
            {
                ResumeFrom = run.DryRun ? null : resumeFrom is { } from && from < next.UtcDateTime ? new DateTimeOffset(from, TimeSpan.Zero) : next,
            };
            operation.Tag("orleanspgstore.rows_deleted", run.DryRun ? 0 : state.RowsDeleted);
            operation.Tag("orleanspgstore.rows_withheld", state.RowsWithheld);
            operation.Succeeded();
            return state;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Retention of the journal", e);
        }
    }

    /// <summary>How far before the cutoff the next run resumes, to cover snapshots that were committing during this one.</summary>
    internal static readonly TimeSpan RetentionResumeMargin = TimeSpan.FromMinutes(10);

    private static NpgsqlParameter Timestamp(DateTimeOffset? value)
        => new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value is { } v ? v.UtcDateTime : DBNull.Value };

    /// <summary>The subscriptions tables in this journal's schema (see <see cref="RetentionSql.SubscriptionTables"/>).</summary>
    private async Task<IReadOnlyList<SubscriptionTable>> SubscriptionTablesAsync(CancellationToken cancellationToken)
    {
        var subscriptions = new List<string>();
        var checkpoints = new HashSet<string>(StringComparer.Ordinal);
        await using var command = _store.CreateCommand(RetentionSql.SubscriptionTables);
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = _store.Schema });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            (reader.GetBoolean(1) ? (ICollection<string>)subscriptions : checkpoints).Add(reader.GetString(0));
        }

        // Each subscriptions table's checkpoints table has a name derived from its own.
        return subscriptions
            .Select(name => CheckpointTable.Name(name) is var own && checkpoints.Contains(own) ? new SubscriptionTable(name, own) : new SubscriptionTable(name, null))
            .ToList();
    }

    private async Task<List<(string Stream, DateTime Created, long Position)>> SnapshotPageAsync(
        NpgsqlParameter cutoff, NpgsqlParameter since, (DateTime Created, long Position)? after, int limit, CancellationToken cancellationToken)
    {
        var page = new List<(string, DateTime, long)>(limit);
        await using var command = _store.CreateCommand(RetentionSql.Snapshots(QualifiedTable));
        command.Parameters.Add(cutoff.Clone());
        command.Parameters.Add(since.Clone());
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = after is { } a ? a.Created : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = after?.Position ?? 0 });
        command.Parameters.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            page.Add((reader.GetString(0), reader.GetDateTime(1), reader.GetInt64(2)));
        }

        return page;
    }

    private async Task<RetentionBatch> TrimAsync(string sql, NpgsqlParameter cutoff, string[] streams, RetentionRun run, CancellationToken cancellationToken)
    {
        await using var command = _store.CreateCommand(sql);
        command.Parameters.Add(cutoff.Clone());
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = streams });
        command.Parameters.Add(new NpgsqlParameter<bool> { NpgsqlDbType = NpgsqlDbType.Boolean, TypedValue = run.IgnoreBlockedTargets });
        command.Parameters.Add(new NpgsqlParameter<bool> { NpgsqlDbType = NpgsqlDbType.Boolean, TypedValue = run.DryRun });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var batch = new RetentionBatch(
            Deleted: reader.GetInt64(0),
            Unconsumed: reader.GetInt64(1),
            Withheld: reader.GetInt64(2),
            WithheldStreams: reader.GetFieldValue<string[]>(3).ToHashSet(StringComparer.Ordinal),
            Holder: reader.IsDBNull(5) ? null : new RetentionHolder(reader.GetString(4), reader.GetString(5), reader.GetInt64(6), reader.GetBoolean(7)));
        if (!run.DryRun)
        {
            StoreInstruments.RetentionRemoved(reader.GetInt64(8), _store.CollectionName);
        }

        StoreInstruments.RetentionKept(batch.Withheld, _store.CollectionName);
        return batch;
    }

    private sealed record RetentionBatch(long Deleted, long Unconsumed, long Withheld, HashSet<string> WithheldStreams, RetentionHolder? Holder);
}
