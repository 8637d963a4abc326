using Npgsql;

namespace OrleansPgStore.Store.Tests.Support;

/// <summary>
/// A write transaction held open on a table that is not an events table, in the test database or in a database of
/// its own (what a nightly batch job looks like to the server): it has a transaction id, so it holds back the
/// server's oldest snapshot xmin for as long as it stays open.
/// </summary>
public sealed class UnrelatedTransaction : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly string? _database;
    private readonly string _serverConnectionString;

    private UnrelatedTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, long xid, string? database, string serverConnectionString)
    {
        _connection = connection;
        _transaction = transaction;
        TransactionId = xid;
        _database = database;
        _serverConnectionString = serverConnectionString;
    }

    /// <summary>The open transaction's 64-bit id.</summary>
    public long TransactionId { get; }

    /// <summary>Opens it in a new database of its own on the server of <paramref name="connectionString"/>.</summary>
    public static async Task<UnrelatedTransaction> InAnotherDatabaseAsync(string connectionString)
    {
        var database = $"unrelated_{Guid.NewGuid():N}"[..24];
        await using (var admin = new NpgsqlConnection(connectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Database = database, Pooling = false };
        return await OpenAsync(builder.ConnectionString, "batch_job", database, connectionString);
    }

    /// <summary>Opens it on a table of its own in <paramref name="schema"/> of the test database.</summary>
    public static Task<UnrelatedTransaction> OnAnotherTableAsync(string connectionString, string schema)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        return OpenAsync(builder.ConnectionString, $"\"{schema}\".batch_job", null, connectionString);
    }

    private static async Task<UnrelatedTransaction> OpenAsync(string connectionString, string table, string? database, string serverConnectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {table} (x int)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var transaction = await connection.BeginTransactionAsync();
        await using var write = new NpgsqlCommand($"INSERT INTO {table} VALUES (1); SELECT pg_current_xact_id()::text::bigint", connection, transaction);
        var xid = (long)(await write.ExecuteScalarAsync())!;
        return new UnrelatedTransaction(connection, transaction, xid, database, serverConnectionString);
    }

    /// <summary>True while the transaction still holds the server's oldest snapshot xmin at or below its id.</summary>
    public async Task<bool> HoldsTheServerXminAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
        return (long)(await command.ExecuteScalarAsync())! <= TransactionId;
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync();
        await _connection.DisposeAsync();
        if (_database is not null)
        {
            await using var admin = new NpgsqlConnection(_serverConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
