using Npgsql;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// The worker's open transaction that a projection writes in. Whatever is written through it commits together with the
/// targets' watermarks, or not at all; never commit or roll it back yourself.
/// </summary>
public class ProjectionTransaction
{
    internal ProjectionTransaction(NpgsqlTransaction transaction)
    {
        Transaction = transaction;
        Connection = transaction.Connection!;
    }

    /// <summary>The worker's connection (one projection writes at a time on it).</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>The open transaction.</summary>
    public NpgsqlTransaction Transaction { get; }

    /// <summary>A command in the transaction.</summary>
    public NpgsqlCommand CreateCommand(string sql) => new(sql, Connection, Transaction);

    /// <summary>A batch of statements in the transaction (one round trip).</summary>
    public NpgsqlBatch CreateBatch() => new(Connection, Transaction);
}
