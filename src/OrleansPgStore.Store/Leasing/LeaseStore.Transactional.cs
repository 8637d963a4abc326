using Npgsql;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Store.Leasing;

internal sealed partial class LeaseStore
{
    /// <summary>Opens a pooled connection to the subscriptions' database, for a transaction that ends with <see cref="ReportWithinAsync"/>.</summary>
    internal ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
        => _store.DataSource.OpenConnectionAsync(cancellationToken);

    /// <summary>Closes the pool's idle connections (after the server dropped one, the others are likely gone too).</summary>
    internal void ClearIdleConnections() => _store.DataSource.Clear();

    /// <summary>
    /// Blocks and acks inside the caller's transaction, fenced by the leases: every report must come from a holder whose
    /// lease is still live (by the database's clock at this statement). The rows stay locked until the transaction ends,
    /// so the leases cannot move on before the commit.
    /// </summary>
    /// <remarks>
    /// This is what makes a projection exactly once: its writes and the watermark commit together, or not at all.
    /// </remarks>
    /// <exception cref="LeaseLostException">
    /// Some report missed its lease; nothing is reported. The caller must roll the transaction back.
    /// </exception>
    internal async Task ReportWithinAsync(
        NpgsqlTransaction transaction,
        IReadOnlyList<LeaseOutcome> outcomes,
        IReadOnlyList<LeaseBlock> blocks,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(blocks);
        _ = transaction.Connection ?? throw new ArgumentException("The transaction is already finished.", nameof(transaction));
        var lost = new List<string>();
        if (blocks.Count > 0)
        {
            var blocked = await ApplyAsync("Block", _sql.FencedBlock, BlockParameters(blocks), transaction, cancellationToken)
                .ConfigureAwait(false);
            lost.AddRange(blocks.Select(b => b.Stream).Where(s => !blocked.Contains(s)));
        }

        if (outcomes.Count > 0)
        {
            var acked = await ApplyAsync("Ack", _sql.FencedAck, AckParameters(outcomes), transaction, cancellationToken)
                .ConfigureAwait(false);
            lost.AddRange(outcomes.Select(o => o.Stream).Where(s => !acked.Contains(s)));
        }

        if (lost.Count > 0)
        {
            throw new LeaseLostException(outcomes.Select(o => o.Holder).Concat(blocks.Select(b => b.Holder)).First(), lost);
        }
    }

    /// <summary>
    /// Resets the selected targets inside the caller's transaction (see <see cref="ResetAsync"/>): a rebuild clears
    /// its read model in the same transaction. Holders of these targets' leases lose them, so a batch in flight
    /// cannot commit into the cleared read model.
    /// </summary>
    /// <returns>The targets reset.</returns>
    internal async Task<IReadOnlyList<string>> ResetWithinAsync(
        NpgsqlTransaction transaction, SubscriptionFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection ?? throw new ArgumentException("The transaction is already finished.", nameof(transaction));
        if (filter?.Streams is { Count: 0 })
        {
            return [];
        }

        try
        {
            await using var command = FilterCommand(_sql.ResetReturning, filter!, connection, transaction);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var streams = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                streams.Add(reader.GetString(0));
            }

            return streams;
        }
        catch (Exception e)
        {
            throw _store.Translate("Reset", e);
        }
    }
}
