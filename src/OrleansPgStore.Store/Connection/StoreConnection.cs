using Microsoft.Extensions.Logging;
using Npgsql;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;

namespace OrleansPgStore.Store.Connection;

/// <summary>
/// What a store needs to talk to its table: the data source (owned or borrowed), the quoted names,
/// the command timeout and the translation of database errors into the engine's exceptions.
/// </summary>
internal sealed class StoreConnection : IAsyncDisposable, IOperationTarget
{
    private readonly bool _ownsDataSource;
    private readonly int _commandTimeoutSeconds;

    /// <param name="options">Where the database and the table are.</param>
    /// <param name="logger">The store's logger.</param>
    /// <param name="loggerFactory">Npgsql's own logs go here when the store builds its data source.</param>
    public StoreConnection(StoreOptions options, ILogger logger, ILoggerFactory? loggerFactory = null)
    {
        DataSource = options.DataSource ?? StoreDataSource.Create(options.ConnectionString!, loggerFactory);
        _ownsDataSource = options.DataSource is null;
        _commandTimeoutSeconds = Math.Max(1, (int)Math.Ceiling(options.CommandTimeout.TotalSeconds));
        Schema = options.Schema;
        Table = options.Table;
        QuotedSchema = SqlIdentifier.Quote(options.Schema, "Schema");
        QualifiedTable = QuotedSchema + "." + SqlIdentifier.Quote(options.Table, "Table");
        Logger = logger;
        CollectionName = options.Schema + "." + options.Table;
        Database = new NpgsqlConnectionStringBuilder(DataSource.ConnectionString).Database;
    }

    /// <summary><c>schema.table</c>, unquoted: the <c>db.collection.name</c> of spans and metrics.</summary>
    public string CollectionName { get; }

    /// <summary>The database's name, for traces (<c>db.namespace</c>).</summary>
    public string? Database { get; }

    public NpgsqlDataSource DataSource { get; }

    public string Schema { get; }

    public string Table { get; }

    /// <summary>The schema, double-quoted.</summary>
    public string QuotedSchema { get; }

    /// <summary>The schema-qualified, double-quoted table name.</summary>
    public string QualifiedTable { get; }

    public ILogger Logger { get; }

    /// <summary>A command that takes a pooled connection when executed and returns it afterwards.</summary>
    public NpgsqlCommand CreateCommand(string sql)
    {
        var command = DataSource.CreateCommand(sql);
        command.CommandTimeout = _commandTimeoutSeconds;
        return command;
    }

    /// <summary>
    /// Takes a pooled connection and prepares <paramref name="sql"/> on it with positional
    /// <paramref name="parameters"/> (<c>$1</c>, <c>$2</c>, ...). Npgsql keeps prepared statements with the physical
    /// connection across pool returns, so only the first use per connection pays a round trip; every later
    /// execution skips parsing and planning, which for the journal's commit statement is most of its cost.
    /// </summary>
    public async ValueTask<PreparedCommand> PrepareAsync(
        string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var command = CreateCommand(sql, connection);
            command.Parameters.AddRange(parameters);
            await BoundedAsync(command.PrepareAsync, cancellationToken).ConfigureAwait(false);
            return new PreparedCommand(connection, command);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Like <see cref="PrepareAsync"/> for several statements sent together: they run in one round trip and, with no
    /// explicit transaction, in one implicit transaction (all or nothing).
    /// </summary>
    public async ValueTask<PreparedBatch> PrepareBatchAsync(
        CancellationToken cancellationToken, params (string Sql, NpgsqlParameter[] Parameters)[] statements)
    {
        var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var batch = new NpgsqlBatch(connection) { Timeout = _commandTimeoutSeconds };
            foreach (var (sql, parameters) in statements)
            {
                var command = new NpgsqlBatchCommand(sql);
                command.Parameters.AddRange(parameters);
                batch.BatchCommands.Add(command);
            }

            await BoundedAsync(batch.PrepareAsync, cancellationToken).ConfigureAwait(false);
            return new PreparedBatch(connection, batch);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs a prepare within the command timeout. Npgsql applies <c>CommandTimeout</c> to executions only, and
    /// preparing an INSERT or UPDATE waits for a lock on its table (behind a LOCK TABLE, an ALTER TABLE, a VACUUM
    /// FULL): unbounded, it would hang the call. A timeout fails like an execution's: an <see cref="NpgsqlException"/>
    /// around a <see cref="TimeoutException"/> (transient).
    /// </summary>
    private async Task BoundedAsync(Func<CancellationToken, Task> prepare, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_commandTimeoutSeconds));
        try
        {
            await prepare(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NpgsqlException(
                $"Preparing the statement took longer than the command timeout ({_commandTimeoutSeconds} s)",
                new TimeoutException("Timeout during preparing attempt", e));
        }
    }

    /// <summary>
    /// Prepares <paramref name="statements"/> on a connection the caller holds, typically one the pool has just
    /// opened, and runs each once with its given parameters (which should match no row): Npgsql keeps a prepared
    /// statement with its physical connection, so later commands with the same text and parameter types run without
    /// preparing; and the first planning on a new server backend loads the table's statistics and index metadata
    /// (about 4 ms for a stream load, against 0.2–0.4 ms warm), which the run pays here instead of the first caller.
    /// Only an optimization: a failure (a table not created yet, missing rights, an outage) is logged at Debug and
    /// reported as <c>false</c>, never thrown.
    /// </summary>
    public async Task<bool> PrepareOnAsync(
        NpgsqlConnection connection, IEnumerable<(string Sql, NpgsqlParameter[] Parameters)> statements, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var (sql, parameters) in statements)
            {
                await using var command = CreateCommand(sql, connection);
                command.Parameters.AddRange(parameters);
                await BoundedAsync(command.PrepareAsync, cancellationToken).ConfigureAwait(false);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            Logger.WarmUpSkipped(e, QualifiedTable, e.Message);
            return false;
        }
    }

    /// <summary>
    /// A batch that takes a pooled connection when executed and returns it afterwards. Its statements go in one round
    /// trip and run in one implicit transaction (all or nothing), each with its own snapshot (read committed).
    /// </summary>
    public NpgsqlBatch CreateBatch()
    {
        var batch = DataSource.CreateBatch();
        batch.Timeout = _commandTimeoutSeconds;
        return batch;
    }

    /// <summary>A command on a connection the caller holds (for multi-statement transactions).</summary>
    public NpgsqlCommand CreateCommand(string sql, NpgsqlConnection connection, NpgsqlTransaction? transaction = null)
        => new(sql, connection, transaction) { CommandTimeout = _commandTimeoutSeconds };

    /// <summary>
    /// Maps a failure of <paramref name="operation"/> onto the engine's exceptions: a missing table means the
    /// store was not seeded; anything else from the driver or the server keeps its original as inner exception.
    /// Exceptions the engine threw itself, and cancellation, pass through unchanged.
    /// </summary>
    public Exception Translate(string operation, Exception exception) => exception switch
    {
        OrleansPgStoreException or OperationCanceledException or ArgumentException => exception,
        PostgresException { SqlState: PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName }
            => new StoreNotSeededException(operation, QualifiedTable, exception),
        NpgsqlException or TimeoutException or InvalidOperationException or IOException
            => new StoreOperationException(operation, exception),
        _ => exception,
    };

    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await DataSource.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>A command prepared on a pooled connection it holds; disposing returns the connection to the pool.</summary>
internal sealed class PreparedCommand(NpgsqlConnection connection, NpgsqlCommand command) : IAsyncDisposable
{
    public NpgsqlCommand Command { get; } = command;

    public async ValueTask DisposeAsync()
    {
        await Command.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A batch prepared on a pooled connection it holds: its statements run in one round trip and one transaction.</summary>
internal sealed class PreparedBatch(NpgsqlConnection connection, NpgsqlBatch batch) : IAsyncDisposable
{
    public NpgsqlBatch Batch { get; } = batch;

    public async ValueTask DisposeAsync()
    {
        await Batch.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }
}
