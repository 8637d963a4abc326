using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

internal sealed partial class LeaseStore
{
    /// <summary>
    /// Takes (or renews) the lease on a named checkpoint, such as the reaction loop's correlation position, so that
    /// one worker at a time advances it.
    /// </summary>
    /// <returns>The checkpoint's position (-1 when new), or <c>null</c> when another holder has it.</returns>
    internal async Task<long?> TryAcquireCheckpointAsync(
        string name, string holder, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        var row = CheckpointRow(name);
        InputChecks.Key(holder, "Lease holder", nameof(holder));
        ValidateDuration(leaseDuration);

        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.AcquireCheckpoint, cancellationToken,
                Text(row), Text(holder),
                new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = (long)Math.Ceiling(leaseDuration.TotalMilliseconds) },
                CommitMode())
                .ConfigureAwait(false);
            return await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long at ? at : null;
        }
        catch (Exception e)
        {
            throw _store.Translate($"Acquiring checkpoint '{name}'", e);
        }
    }

    /// <summary>
    /// In one transaction: raises the work marks found while reading the feed and advances the checkpoint to
    /// <paramref name="position"/>, but only while <paramref name="holder"/> still holds the checkpoint's lease.
    /// </summary>
    /// <returns>False (and nothing written) when the lease was lost.</returns>
    internal async Task<bool> AdvanceCheckpointAsync(
        string name, string holder, long position, IReadOnlyCollection<WorkMark> marks, CancellationToken cancellationToken = default)
    {
        var row = CheckpointRow(name);
        InputChecks.Key(holder, "Lease holder", nameof(holder));
        ArgumentNullException.ThrowIfNull(marks);
        var raise = marks.Count > 0 ? RaiseWorkParameters(marks) : null;
        try
        {
            await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var advance = _store.CreateCommand(_sql.AdvanceCheckpoint, connection, transaction))
            {
                advance.Parameters.Add(Text(row));
                advance.Parameters.Add(Text(holder));
                advance.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = position });
                advance.Parameters.Add(CommitMode());
                if (await advance.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                {
                    return false;
                }
            }

            if (raise is not null)
            {
                await using var command = _store.CreateCommand(_sql.RaiseWork, connection, transaction);
                command.Parameters.AddRange(raise);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e)
        {
            throw _store.Translate($"Advancing checkpoint '{name}'", e);
        }
    }

    /// <summary>Releases the checkpoint's lease, if <paramref name="holder"/> has it.</summary>
    internal async Task ReleaseCheckpointAsync(string name, string holder, CancellationToken cancellationToken = default)
    {
        var row = CheckpointRow(name);
        InputChecks.Key(holder, "Lease holder", nameof(holder));
        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.ReleaseCheckpoint, cancellationToken, Text(row), Text(holder), CommitMode()).ConfigureAwait(false);
            await prepared.Command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw _store.Translate($"Releasing checkpoint '{name}'", e);
        }
    }

    /// <summary>Checkpoints live in the subscriptions table under a reserved '$' name, never claimed as targets.</summary>
    private static string CheckpointRow(string name)
    {
        InputChecks.Key(name, "Checkpoint name", nameof(name));
        return "$checkpoint:" + name;
    }
}
