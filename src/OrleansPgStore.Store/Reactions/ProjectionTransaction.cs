using Npgsql;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// The worker's open transaction that a projection writes in. Whatever is written through it commits together with the
/// targets' watermarks, or not at all; never commit or roll it back yourself.
/// </summary>
/// <remarks>
/// Two ways to write: <see cref="Queue"/> adds a statement to the cycle's queue, which the worker sends in one round trip
/// (an <see cref="NpgsqlBatch"/>) after the projection returns, before it acks; <see cref="CreateCommand"/> runs a
/// statement at once. A statement run at once must see the queued writes before it, so while any are queued,
/// <see cref="CreateCommand"/> and <see cref="CreateBatch"/> throw: send them first with <see cref="FlushAsync"/>.
/// </remarks>
public class ProjectionTransaction
{
    private NpgsqlBatch? _queue;

    internal ProjectionTransaction(NpgsqlTransaction transaction)
    {
        Transaction = transaction;
        Connection = transaction.Connection!;
    }

    /// <summary>The worker's connection (one projection writes at a time on it).</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>The open transaction.</summary>
    public NpgsqlTransaction Transaction { get; }

    /// <summary>Statements queued by <see cref="Queue"/> and not sent yet.</summary>
    public int Queued => _queue?.BatchCommands.Count ?? 0;

    /// <summary>
    /// Queues a statement (add its parameters to the returned command); the worker sends the queue in one round trip when
    /// the projection returns, in this transaction, so it commits with the watermarks or not at all. A failing statement
    /// fails the projection's attempt like an exception thrown by the projection itself.
    /// </summary>
    public NpgsqlBatchCommand Queue(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        _queue ??= new NpgsqlBatch(Connection, Transaction);
        var command = new NpgsqlBatchCommand(sql);
        _queue.BatchCommands.Add(command);
        return command;
    }

    /// <summary>Sends the queued statements now, in one round trip (a statement run afterwards sees their writes).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_queue is not { } queue)
        {
            return;
        }

        _queue = null;
        await using (queue.ConfigureAwait(false))
        {
            await queue.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A command in the transaction. Throws while statements are queued (see <see cref="FlushAsync"/>).</summary>
    public NpgsqlCommand CreateCommand(string sql)
    {
        EnsureNothingQueued();
        return new NpgsqlCommand(sql, Connection, Transaction);
    }

    /// <summary>A batch of statements in the transaction (one round trip). Throws while statements are queued (see <see cref="FlushAsync"/>).</summary>
    public NpgsqlBatch CreateBatch()
    {
        EnsureNothingQueued();
        return new NpgsqlBatch(Connection, Transaction);
    }

    /// <summary>Drops the queue unsent (the attempt failed and its transaction or savepoint rolls back).</summary>
    internal void Discard()
    {
        _queue?.Dispose();
        _queue = null;
    }

    private void EnsureNothingQueued()
    {
        if (Queued > 0)
        {
            throw new InvalidOperationException(
                $"{Queued} queued statement(s) not sent yet: await FlushAsync before running a statement of your own, so it sees their writes.");
        }
    }
}
