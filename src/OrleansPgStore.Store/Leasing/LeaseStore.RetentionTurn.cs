using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

internal sealed partial class LeaseStore
{
    private RetentionTurnSql? _retentionTurnSql;

    private RetentionTurnSql RetentionTurn => _retentionTurnSql ??= new RetentionTurnSql(_checkpointsTable);

    /// <summary>
    /// Takes the turn to run retention over <paramref name="eventsTable"/> for <paramref name="interval"/>, if nobody holds
    /// it: one process per interval trims, however many run the schedule. The turn is not released after a run, so the
    /// others skip the rest of the interval.
    /// </summary>
    /// <returns>Whether the turn is ours, and where the previous run said the next may resume (<c>null</c>: from the start).</returns>
    internal async Task<(bool Taken, DateTimeOffset? ResumeFrom)> TryTakeRetentionTurnAsync(
        string eventsTable, string holder, TimeSpan interval, CancellationToken cancellationToken = default)
    {
        InputChecks.Key(holder, "Retention holder", nameof(holder));
        try
        {
            await using var command = _store.CreateCommand(RetentionTurn.Take);
            command.Parameters.Add(Text(RetentionRow(eventsTable)));
            command.Parameters.Add(Text(holder));
            command.Parameters.Add(new NpgsqlParameter<long>
            {
                NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = (long)Math.Ceiling(Math.Min(interval.TotalMilliseconds, MaxDuration.TotalMilliseconds)),
            });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return (false, null);
            }

            return (true, reader.IsDBNull(0) ? null : new DateTimeOffset(reader.GetDateTime(0), TimeSpan.Zero));
        }
        catch (Exception e)
        {
            throw _store.Translate($"Taking the retention turn of '{eventsTable}'", e);
        }
    }

    /// <summary>Records where the next run may resume; the turn stays taken until its interval ends.</summary>
    internal Task FinishRetentionTurnAsync(string eventsTable, string holder, DateTimeOffset resumeFrom, CancellationToken cancellationToken = default)
        => RetentionTurnAsync(RetentionTurn.Finish, "Finishing", eventsTable, holder,
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = resumeFrom.UtcDateTime }, cancellationToken);

    /// <summary>Hands the turn back (after a failed run), so the next process's schedule tries again.</summary>
    internal Task ReleaseRetentionTurnAsync(string eventsTable, string holder, CancellationToken cancellationToken = default)
        => RetentionTurnAsync(RetentionTurn.Release, "Releasing", eventsTable, holder, null, cancellationToken);

    private async Task RetentionTurnAsync(
        string sql, string what, string eventsTable, string holder, NpgsqlParameter? value, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _store.CreateCommand(sql);
            command.Parameters.Add(Text(RetentionRow(eventsTable)));
            command.Parameters.Add(Text(holder));
            if (value is not null)
            {
                command.Parameters.Add(value);
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw _store.Translate($"{what} the retention turn of '{eventsTable}'", e);
        }
    }

    /// <summary>In the checkpoints table, apart from the discovery checkpoints (<c>discovery:{group}</c>).</summary>
    private static string RetentionRow(string eventsTable)
    {
        InputChecks.Key(eventsTable, "Events table", nameof(eventsTable));
        return CheckpointTable.RetentionPrefix + eventsTable;
    }
}
