using Npgsql;
using NpgsqlTypes;
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
            return (long)(await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception e)
        {
            throw _store.Translate($"Reading checkpoint '{name}'", e);
        }
    }

    /// <summary>
    /// In one transaction: moves the checkpoint from where the caller started reading the feed (<paramref name="from"/>,
    /// exclusive) to where it read up to (<paramref name="to"/>) and raises the work marks found in between — only when
    /// the checkpoint is still at or past <paramref name="from"/> (every event below it has its marks) and below
    /// <paramref name="to"/>. Otherwise nothing is written and the checkpoint's position is returned: another worker
    /// has read past <paramref name="to"/> already, or the checkpoint is behind <paramref name="from"/> (a server crash
    /// lost its last asynchronous advances), and the caller reads on from there.
    /// </summary>
    internal async Task<CheckpointAdvance> AdvanceCheckpointAsync(
        string name, long from, long to, IReadOnlyCollection<WorkMark> marks, CancellationToken cancellationToken = default)
    {
        var row = CheckpointRow(name);
        ArgumentNullException.ThrowIfNull(marks);
        ArgumentOutOfRangeException.ThrowIfLessThan(from, -1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(to, from);
        var raise = marks.Count > 0 ? RaiseWorkParameters(marks) : null;
        try
        {
            await using var connection = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var advance = _store.CreateCommand(_sql.AdvanceCheckpoint, connection, transaction))
            {
                advance.Parameters.Add(Text(row));
                advance.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = from });
                advance.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = to });
                advance.Parameters.Add(CommitMode());
                if (await advance.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                {
                    // A statement of its own sees what the advance waited for (read committed): where the checkpoint is now.
                    await using var position = _store.CreateCommand(_sql.CheckpointPosition, connection, transaction);
                    position.Parameters.Add(Text(row));
                    // A row lost with the writes before a crash reads as -1: the next read creates it again there.
                    return new CheckpointAdvance(false, await position.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long? ?? -1);
                }
            }

            if (raise is not null)
            {
                await using var command = _store.CreateCommand(_sql.RaiseWork, connection, transaction);
                command.Parameters.AddRange(raise);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new CheckpointAdvance(true, to);
        }
        catch (Exception e)
        {
            throw _store.Translate($"Advancing checkpoint '{name}'", e);
        }
    }

    /// <summary>Checkpoints live in the subscriptions table under a reserved '$' name, never claimed as targets.</summary>
    private static string CheckpointRow(string name)
    {
        InputChecks.Key(name, "Checkpoint name", nameof(name));
        return "$checkpoint:" + name;
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
