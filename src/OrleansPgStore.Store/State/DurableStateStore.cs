using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.State;

/// <summary>
/// Durable state: one row per persistence id, rewritten in place, guarded by a revision number
/// (optimistic concurrency).
/// </summary>
/// <remarks>
/// Thread-safe; create one per table and share it. Revisions start at 1 with the first write; revision 0 means
/// "no state stored". Every write names the revision it expects and fails with
/// <see cref="StateConcurrencyException"/> (nothing written) when the stored one differs.
/// </remarks>
public sealed class DurableStateStore : IAsyncDisposable
{
    private readonly StoreConnection _store;
    private readonly StateSql _sql;
    private readonly ILogger _logger;

    /// <summary>Creates a store over the table named in <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The options are incomplete or name an invalid schema or table.</exception>
    internal DurableStateStore(DurableStateStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        StoreOptionsValidator<DurableStateStoreOptions>.ThrowIfInvalid(options);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.State");
        _store = new StoreConnection(options, _logger, loggerFactory);
        _sql = new StateSql(_store.QualifiedTable);
    }

    /// <summary>The schema-qualified, quoted state table.</summary>
    internal string QualifiedTable => _store.QualifiedTable;

    /// <summary>Creates the schema (if missing) and the state table. Idempotent; safe to call from many processes at once.</summary>
    internal Task SeedAsync(CancellationToken cancellationToken = default)
        => SchemaInstaller.SeedAsync(_store, StateSchema.Create(_store.QualifiedTable), cancellationToken);

    /// <summary>
    /// The SQL <see cref="SeedAsync"/> applies, for DBAs who create schemas by hand (the role the store then runs
    /// as needs USAGE on the schema and SELECT, INSERT, UPDATE and DELETE on the table).
    /// </summary>
    internal static string SchemaSql(string schema = "public", string table = "durable_state")
    {
        var quotedSchema = SqlIdentifier.Quote(schema, nameof(schema));
        return $"CREATE SCHEMA IF NOT EXISTS {quotedSchema};\n{StateSchema.Create(quotedSchema + "." + SqlIdentifier.Quote(table, nameof(table)))}\n";
    }

    /// <summary>
    /// Drops the state table. The schema is dropped too, but only when it is not <c>public</c> and nothing else is
    /// left in it.
    /// </summary>
    internal Task DropAsync(CancellationToken cancellationToken = default)
        => SchemaInstaller.DropAsync(_store, cancellationToken);

    /// <summary>Reads the state stored under <paramref name="persistenceId"/>, or <c>null</c> when there is none.</summary>
    public async Task<DurableStateRecord?> LoadAsync(string persistenceId, CancellationToken cancellationToken = default)
    {
        ValidateId(persistenceId);
        var operation = StoreOperation.Start("state.load", _store, persistenceId);
        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.Load, cancellationToken, Id(persistenceId)).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var record = await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new DurableStateRecord(persistenceId, reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2))
                : null;
            operation.Succeeded();
            return record;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, $"Loading state '{InputChecks.Shorten(persistenceId)}'", e);
        }
    }

    /// <summary>
    /// Writes <paramref name="stateJson"/> under <paramref name="persistenceId"/> if the stored revision is
    /// <paramref name="expectedRevision"/> (0: nothing stored yet).
    /// </summary>
    /// <returns>The new revision, <paramref name="expectedRevision"/> + 1.</returns>
    /// <exception cref="StateConcurrencyException">The stored revision differs; nothing was written.</exception>
    public async Task<long> UpsertAsync(
        string persistenceId, long expectedRevision, string stateJson, CancellationToken cancellationToken = default)
    {
        ValidateId(persistenceId);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedRevision);
        InputChecks.Json(stateJson, $"The state '{InputChecks.Shorten(persistenceId)}'", nameof(stateJson));

        var operation = StoreOperation.Start("state.upsert", _store, persistenceId);
        try
        {
            var state = new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = stateJson };
            await using var prepared = expectedRevision == 0
                ? await _store.PrepareAsync(_sql.Insert, cancellationToken, Id(persistenceId), state).ConfigureAwait(false)
                : await _store.PrepareAsync(_sql.Update, cancellationToken, Id(persistenceId), state,
                    new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = expectedRevision }).ConfigureAwait(false);
            if (await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long revision)
            {
                operation.Succeeded();
                return revision;
            }

            var actual = await RevisionAsync(persistenceId, cancellationToken).ConfigureAwait(false);
            throw Conflict(ref operation, persistenceId, expectedRevision, actual);
        }
        catch (Exception e) when (e is not StateConcurrencyException)
        {
            throw Failed(ref operation, $"Writing state '{InputChecks.Shorten(persistenceId)}'", e);
        }
    }

    /// <summary>
    /// Deletes the state stored under <paramref name="persistenceId"/>. Deleting a state that does not exist
    /// succeeds (idempotent).
    /// </summary>
    /// <param name="persistenceId">The state's key.</param>
    /// <param name="expectedRevision">When set, delete only at this revision.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>True when a row was deleted.</returns>
    /// <exception cref="StateConcurrencyException">A state is stored at another revision; nothing was deleted.</exception>
    public async Task<bool> DeleteAsync(
        string persistenceId, long? expectedRevision = null, CancellationToken cancellationToken = default)
    {
        ValidateId(persistenceId);
        if (expectedRevision is { } expected)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(expected, nameof(expectedRevision));
        }

        var operation = StoreOperation.Start("state.delete", _store, persistenceId);
        try
        {
            await using var prepared = await _store.PrepareAsync(_sql.Delete, cancellationToken, Id(persistenceId),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (object?)expectedRevision ?? DBNull.Value }).ConfigureAwait(false);
            if (await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long)
            {
                operation.Succeeded();
                return true;
            }

            var actual = expectedRevision is null ? 0 : await RevisionAsync(persistenceId, cancellationToken).ConfigureAwait(false);
            if (actual == 0)
            {
                operation.Succeeded();
                return false;
            }

            throw Conflict(ref operation, persistenceId, expectedRevision!.Value, actual);
        }
        catch (Exception e) when (e is not StateConcurrencyException)
        {
            throw Failed(ref operation, $"Deleting state '{InputChecks.Shorten(persistenceId)}'", e);
        }
    }

    /// <summary>Disposes the data source if the store created it from a connection string.</summary>
    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private async Task<long> RevisionAsync(string persistenceId, CancellationToken cancellationToken)
    {
        await using var prepared = await _store.PrepareAsync(_sql.Revision, cancellationToken, Id(persistenceId)).ConfigureAwait(false);
        return await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long revision ? revision : 0;
    }

    private Exception Failed(ref StoreOperation operation, string what, Exception e)
    {
        var translated = _store.Translate(what, e);
        operation.Failed(translated);
        return translated;
    }

    private StateConcurrencyException Conflict(ref StoreOperation operation, string persistenceId, long expected, long actual)
    {
        operation.Conflicted();
        _logger.StateConflict(persistenceId, expected, actual);
        return new StateConcurrencyException(persistenceId, expected, actual);
    }

    /// <summary>
    /// Prepares the statement a grain's activation runs (<see cref="LoadAsync"/>) on <paramref name="connection"/>
    /// and runs it once for an id that cannot exist, e.g. from a data source's physical connection initializer.
    /// Only an optimization: returns <c>false</c> instead of throwing when it cannot.
    /// </summary>
    internal Task<bool> PrepareConnectionAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return _store.PrepareOnAsync(connection, [(_sql.Load, [Id("")])], cancellationToken);
    }

    private static NpgsqlParameter Id(string persistenceId)
        => new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = persistenceId };

    private static void ValidateId(string persistenceId)
        => InputChecks.Key(persistenceId, "Persistence id", nameof(persistenceId));
}
