using System.Data;
using Npgsql;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Store.Reactions;

internal sealed partial class ReactionLoop
{
    /// <summary>
    /// Steps "project" and "ack" in one transaction: the projections write every claimed target's events, then the
    /// fenced block and ack record progress, and one commit makes both durable. A lost lease rolls everything back;
    /// the transaction is then redone without the lost targets (the projections run again: their first writes are gone).
    /// A lost connection is redone too: if the lost commit did land, the redo's fenced ack misses (the lease was released)
    /// and it rolls back; those targets are then reported as dropped although their first commit stands.
    /// </summary>
    private async Task<CycleReport> ProjectAndAckAsync(IReadOnlyList<TargetResult> results, long claimedAt, CancellationToken cancellationToken)
    {
        var pending = results.ToList();
        var dropped = new List<string>();
        using var leaseTime = LeaseTime(claimedAt, cancellationToken);
        while (pending.Count > 0)
        {
            try
            {
                var committed = await StepAsync(() => CommitProjectedAsync(pending, leaseTime.Token), redoable: true, leaseTime.Token)
                    .ConfigureAwait(false);
                StoreInstruments.Handled(committed.Handled);
                return committed with { Dropped = dropped };
            }
            catch (LeaseLostException lost)
            {
                dropped.AddRange(lost.Streams);
                pending.RemoveAll(r => lost.Streams.Contains(r.Lease.Stream));
            }
        }

        return new CycleReport(0, 0, 0, 0, dropped);
    }

    /// <summary>One transaction: project, block, ack, commit.</summary>
    private async Task<CycleReport> CommitProjectedAsync(List<TargetResult> results, CancellationToken cancellationToken)
    {
        await using var connection = await _leases.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int projected;
            try
            {
                projected = await ProjectAsync(transaction, results, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsProjectionFailure(e)
                                      && connection.FullState == ConnectionState.Open)
            {
                // Some target's events failed (or a projection did): start over one target at a time, each in a
                // savepoint, so only the failing targets retry and the rest commit.
                await transaction.DisposeAsync().ConfigureAwait(false);
                transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                (projected, results) = await ProjectEachAsync(transaction, results, cancellationToken).ConfigureAwait(false);
            }

            await _leases.ReportWithinAsync(
                transaction,
                results.Where(r => r.Outcome is not null).Select(r => r.Outcome!).ToList(),
                results.Where(r => r.Block is not null).Select(r => r.Block!).ToList(),
                cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            var outcomes = results.Where(r => r.Outcome is not null).ToList();
            return new CycleReport(
                results.Sum(r => r.Handled) + projected,
                outcomes.Count,
                outcomes.Count(r => r.Outcome!.RetryAfter is not null),
                results.Count(r => r.Block is not null),
                []);
        }
        finally
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs every projection over the events each target reports as done. Returns how many events were projected.</summary>
    private async Task<int> ProjectAsync(NpgsqlTransaction transaction, IReadOnlyList<TargetResult> results, CancellationToken cancellationToken)
    {
        var projected = 0;
        foreach (var projection in _registry.Reactions.Where(r => r.Projection is not null))
        {
            var targets = results
                .Select(r => new ReactionBatch(
                    r.Lease.Stream,
                    r.Events.Where(e => e.Position <= r.At && projection.Handles(e, r.Lease.Stream)).ToList(),
                    r.Lease.Retry))
                .Where(b => b.Events.Count > 0)
                .ToList();
            if (targets.Count > 0)
            {
                var batch = new ProjectionBatch(transaction, targets);
                try
                {
                    await projection.Projection!(batch, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
                    // The statements it queued go in one round trip, before the ack and in its transaction.
                    await batch.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    batch.Discard();
                }

                projected += targets.Sum(t => t.Events.Count);
            }
        }

        return projected;
    }

    /// <summary>The slow path after a failed batch: each target in its own savepoint; failing ones become failed attempts.</summary>
    private async Task<(int Projected, List<TargetResult> Results)> ProjectEachAsync(
        NpgsqlTransaction transaction, List<TargetResult> results, CancellationToken cancellationToken)
    {
        var projected = 0;
        var reported = new List<TargetResult>(results.Count);
        foreach (var result in results)
        {
            await transaction.SaveAsync("target", cancellationToken).ConfigureAwait(false);
            try
            {
                projected += await ProjectAsync(transaction, [result], cancellationToken).ConfigureAwait(false);
                await transaction.ReleaseAsync("target", cancellationToken).ConfigureAwait(false);
                reported.Add(result);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsProjectionFailure(e))
            {
                await transaction.RollbackAsync("target", cancellationToken).ConfigureAwait(false);
                reported.Add(Failed(result.Lease, [], result.Handled, result.Lease.At, e));
            }
        }

        return (projected, reported);
    }

    /// <summary>
    /// A failure of the projection's own work (its SQL or code), as opposed to the connection dropping or the server going
    /// away: only the former is the target's fault and counts against its retries.
    /// </summary>
    private static bool IsProjectionFailure(Exception e)
        => e is not (LeaseLostException or NpgsqlException { IsTransient: true } or StoreOperationException { IsTransient: true });
}
