using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

internal sealed partial class ReactionLoop
{
    /// <summary>
    /// Rebuilds the projections: in one transaction, resets the selected targets to replay from the start and runs the
    /// reset hook (clearing its read model) of every projection in the selected lane (of every projection when the
    /// selection names no lane); then replays by running this loop's cycles (other workers help as usual; those of the
    /// targets' lane do it alone when it is not this loop's) until every unblocked target has caught up with the events
    /// it had at the reset, reporting progress after each cycle.
    /// </summary>
    /// <remarks>
    /// The reset takes the targets' leases away, so a batch in flight on another worker cannot commit into the cleared
    /// read model (its fenced ack misses and it rolls back). Every reaction of this loop's registry replays its
    /// targets, at-least-once handlers included: give projections their own group (<see cref="ReactionOptions.Name"/>)
    /// or lane to rebuild them alone.
    /// </remarks>
    /// <param name="targets">The targets to reset. Defaults to every target in this loop's lane.</param>
    /// <param name="progress">Receives the events done and the total after the reset and after each cycle.</param>
    /// <param name="cancellationToken">Stops waiting for the replay (the reset stays; workers finish the replay).</param>
    /// <returns>The final progress.</returns>
    public async Task<RebuildProgress> RebuildAsync(
        SubscriptionFilter? targets = null, IProgress<RebuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var filter = targets ?? new SubscriptionFilter { Lane = _options.Lane };
        IReadOnlyList<string> reset;
        long total, ceiling;
        await using (var connection = await _leases.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            // Reset first: it waits for batches committing on these targets, and makes the ones still in flight lose
            // their leases, so by the time the hooks clear the read model nothing more can land in it.
            reset = await _leases.ResetWithinAsync(transaction, filter, cancellationToken).ConfigureAwait(false);
            // A lane's rebuild clears only the read models fed by that lane: another lane's targets keep their
            // watermarks, so clearing its read model would lose what they already projected.
            foreach (var reaction in _registry.Reactions.Where(r => r.Reset is not null && (filter.Lane is null || r.Lane == filter.Lane)))
            {
                var hook = new ProjectionTransaction(transaction);
                try
                {
                    await reaction.Reset!(hook, cancellationToken).ConfigureAwait(false);
                    await hook.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    hook.Discard();
                }
            }

            // Measured before the commit: once it lands, workers start replaying.
            (total, _, ceiling) = await RemainingAsync(connection, transaction, reset, long.MaxValue, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        var current = new RebuildProgress(0, total, reset.Count);
        progress?.Report(current);
        var settleDelay = ReactionWorker.SettleDelay;
        while (true)
        {
            var (remaining, unblocked, _) = await RemainingAsync(reset, ceiling, cancellationToken).ConfigureAwait(false);
            current = new RebuildProgress(Math.Max(0, total - remaining), total, reset.Count);
            if (current.Done > 0 || unblocked == 0)
            {
                progress?.Report(current);
            }

            if (unblocked == 0)
            {
                return current;
            }

            var cycle = await RunCycleAsync(cancellationToken).ConfigureAwait(false);
            if (cycle.Claimed == 0)
            {
                // Other workers hold the leases, or a failed target waits out its backoff.
                await Task.Delay(cycle.Settling ? settleDelay : _options.PollInterval, cancellationToken).ConfigureAwait(false);
                settleDelay = cycle.Settling ? ReactionWorker.NextSettleDelay(settleDelay, _options.PollInterval) : ReactionWorker.SettleDelay;
            }
        }
    }

    private async Task<(long Remaining, long Unblocked, long Ceiling)> RemainingAsync(
        IReadOnlyList<string> targets, long ceiling, CancellationToken cancellationToken)
    {
        await using var connection = await _leases.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await RemainingAsync(connection, null, targets, ceiling, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(long Remaining, long Unblocked, long Ceiling)> RemainingAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<string> targets, long ceiling, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(RebuildSql.Remaining(_journal.QualifiedTable, _leases.QualifiedTable), connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = targets.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = _names });
        command.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = ceiling });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
