using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Leasing;

internal sealed partial class LeaseStore
{
    /// <summary>Unblocks the selected blocked targets: they are claimable again, from their watermark, with a fresh retry count.</summary>
    /// <returns>How many targets were unblocked.</returns>
    public Task<int> UnblockAsync(SubscriptionFilter filter, CancellationToken cancellationToken = default)
        => AdminAsync("Unblock", _sql.Unblock, filter, cancellationToken);

    /// <summary>
    /// Releases at once every lease whose holder's name starts with <paramref name="holderPrefix"/>, for holders known
    /// to be dead (e.g. the workers of a silo the cluster declared dead, named <c>{silo}/…</c>), so other workers take
    /// their targets over now instead of when the leases expire.
    /// </summary>
    /// <remarks>
    /// A holder released this way that is in fact alive loses its leases: its reports are dropped (and a projection's
    /// transaction rolls back), so its work is redone by the new holder, never lost.
    /// </remarks>
    /// <returns>How many leases were released.</returns>
    public Task<int> ReleaseHeldByAsync(string holderPrefix, CancellationToken cancellationToken = default)
    {
        InputChecks.Key(holderPrefix, "Lease holder prefix", nameof(holderPrefix));
        return ReleaseAsync(_sql.ReleaseHeldBy, holderPrefix, cancellationToken);
    }

    /// <summary>
    /// Releases every target lease held by exactly <paramref name="holder"/> (not its correlation checkpoint), keeping
    /// watermarks and retry counts: a reaction loop whose cycle failed after claiming (e.g. its connection was killed
    /// before the ack), or that stops, hands its targets back at once instead of leaving them until their leases expire.
    /// </summary>
    internal Task<int> ReleaseOwnAsync(string holder, CancellationToken cancellationToken = default)
        => ReleaseAsync(_sql.ReleaseOwn, holder, cancellationToken);

    /// <summary>Runs one of the release statements, whose only parameter names the holder(s).</summary>
    private async Task<int> ReleaseAsync(string sql, string holder, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _store.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = holder });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw _store.Translate("Releasing leases", e);
        }
    }

    /// <summary>Resets the selected targets to replay from the start (watermark -1), unblocking and releasing them.</summary>
    /// <returns>How many targets were reset.</returns>
    public Task<int> ResetAsync(SubscriptionFilter filter, CancellationToken cancellationToken = default)
        => AdminAsync("Reset", _sql.Reset, filter, cancellationToken);

    /// <summary>Hides the selected targets from claims until <paramref name="until"/> (the database's clock); <c>null</c> clears a deferral.</summary>
    /// <returns>How many targets were deferred.</returns>
    public Task<int> DeferAsync(SubscriptionFilter filter, DateTimeOffset? until, CancellationToken cancellationToken = default)
        => AdminAsync("Defer", _sql.Defer, filter, cancellationToken,
            new NpgsqlParameter("due", NpgsqlDbType.TimestampTz) { Value = (object?)until?.UtcDateTime ?? DBNull.Value });

    /// <summary>Sets the priority of the selected targets (higher is claimed first).</summary>
    /// <returns>How many targets changed priority.</returns>
    public Task<int> PrioritizeAsync(SubscriptionFilter filter, int priority, CancellationToken cancellationToken = default)
        => AdminAsync("Prioritize", _sql.Prioritize, filter, cancellationToken,
            new NpgsqlParameter<int>("priority", NpgsqlDbType.Integer) { TypedValue = priority });

    /// <summary>
    /// One page of the selected subscriptions, ordered by target stream; pass the last stream of a page as
    /// <paramref name="after"/> to get the next one.
    /// </summary>
    public async Task<IReadOnlyList<SubscriptionState>> QueryStreamsAsync(
        SubscriptionFilter filter, string? after = null, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        try
        {
            await using var command = FilterCommand(_sql.QueryStreams, filter);
            command.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Text) { Value = (object?)after ?? DBNull.Value });
            command.Parameters.Add(new NpgsqlParameter<int>("limit", NpgsqlDbType.Integer) { TypedValue = limit });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var page = new List<SubscriptionState>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                page.Add(new SubscriptionState(
                    Stream: reader.GetString(0),
                    Source: reader.IsDBNull(1) ? null : reader.GetString(1),
                    At: reader.GetInt64(2),
                    Work: reader.GetInt64(3),
                    Retry: reader.GetInt64(4),
                    Blocked: reader.GetBoolean(5),
                    Error: reader.IsDBNull(6) ? null : reader.GetString(6),
                    Holder: reader.IsDBNull(7) ? null : reader.GetString(7),
                    LeasedUntil: reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
                    Priority: reader.GetInt32(9),
                    Lane: reader.GetString(10),
                    Due: reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11)));
            }

            return page;
        }
        catch (Exception e)
        {
            throw _store.Translate("Query of subscriptions", e);
        }
    }

    private async Task<int> AdminAsync(
        string operation, string sql, SubscriptionFilter filter, CancellationToken cancellationToken, params NpgsqlParameter[] extra)
    {
        if (filter?.Streams is { Count: 0 })
        {
            return 0;
        }

        try
        {
            await using var command = FilterCommand(sql, filter!);
            command.Parameters.AddRange(extra);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw _store.Translate(operation, e);
        }
    }

    private NpgsqlCommand FilterCommand(
        string sql, SubscriptionFilter filter, NpgsqlConnection? connection = null, NpgsqlTransaction? transaction = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Streams?.Any(s => s is null) == true)
        {
            throw new ArgumentException("The filter's Streams contains a null name.", nameof(filter));
        }

        foreach (var (value, what) in (filter.Streams ?? []).Select(s => ((string?)s, "stream"))
                     .Append((filter.Source, "Source")).Append((filter.Lane, "Lane")))
        {
            if (value is not null)
            {
                InputChecks.Encodable(value, $"The filter's {what} '{InputChecks.Shorten(value)}'", nameof(filter));
            }
        }

        var command = connection is null ? _store.CreateCommand(sql) : _store.CreateCommand(sql, connection, transaction);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter("streams", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)filter.Streams?.ToArray() ?? DBNull.Value });
        p.Add(new NpgsqlParameter("source", NpgsqlDbType.Text) { Value = (object?)filter.Source ?? DBNull.Value });
        p.Add(new NpgsqlParameter("blocked", NpgsqlDbType.Boolean) { Value = (object?)filter.Blocked ?? DBNull.Value });
        p.Add(new NpgsqlParameter("lane", NpgsqlDbType.Text) { Value = (object?)filter.Lane ?? DBNull.Value });
        return command;
    }
}
