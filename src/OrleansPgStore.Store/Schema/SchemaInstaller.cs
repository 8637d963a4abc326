using System.Diagnostics;
using Npgsql;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Store.Schema;

/// <summary>Applies and removes a store's DDL safely while other processes do the same.</summary>
internal static class SchemaInstaller
{
    /// <summary>
    /// Creates the schema (if missing) and runs <paramref name="ddl"/>, all in one transaction holding the
    /// schema's and then the table's advisory lock, so concurrent seeds of any tables in one schema serialize
    /// instead of racing on the catalog. The DDL is idempotent (<c>IF NOT EXISTS</c> throughout).
    /// </summary>
    /// <remarks>
    /// <c>CREATE SCHEMA IF NOT EXISTS</c> demands CREATE on the database even when the schema exists, which a role
    /// that only owns its schema lacks; so the schema is created only when it is missing.
    /// </remarks>
    public static async Task SeedAsync(StoreConnection store, string ddl, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await LockAsync(store, connection, transaction, cancellationToken).ConfigureAwait(false);

            bool schemaExists;
            await using (var exists = store.CreateCommand("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = @schema)", connection, transaction))
            {
                exists.Parameters.AddWithValue("schema", store.Schema);
                schemaExists = (bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            var sql = schemaExists ? ddl : $"CREATE SCHEMA IF NOT EXISTS {store.QuotedSchema};\n{ddl}";
            await using (var command = store.CreateCommand(sql, connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw store.Translate($"Seed of {store.QualifiedTable}", e);
        }

        store.Logger.Seeded(store.QualifiedTable, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// Drops the store's table (with its indexes), then the schema only if it is not <c>public</c> and nothing
    /// else is left in it: a schema shared with other stores or with the application always survives.
    /// </summary>
    /// <param name="store">The store whose table goes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <param name="companions">Tables that belong to the store's table (quoted and qualified), dropped with it.</param>
    public static async Task DropAsync(StoreConnection store, CancellationToken cancellationToken, params string[] companions)
    {
        try
        {
            await using var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await LockAsync(store, connection, transaction, cancellationToken).ConfigureAwait(false);

            var tables = string.Join(", ", companions.Prepend(store.QualifiedTable));
            await using (var command = store.CreateCommand($"DROP TABLE IF EXISTS {tables};", connection, transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (store.Schema != "public")
            {
                // pg_depend lists everything that lives in the schema (tables, types, functions, sequences...).
                var dropIfEmpty =
                    $"""
                    DO $drop$
                    BEGIN
                        IF EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = {Literal(store.Schema)})
                           AND NOT EXISTS (
                               SELECT 1 FROM pg_depend d JOIN pg_namespace n ON d.refobjid = n.oid
                               WHERE n.nspname = {Literal(store.Schema)} AND d.refclassid = 'pg_namespace'::regclass)
                        THEN
                            DROP SCHEMA {store.QuotedSchema} RESTRICT;
                        END IF;
                    END
                    $drop$;
                    """;
                await using var command = store.CreateCommand(dropIfEmpty, connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw store.Translate($"Drop of {store.QualifiedTable}", e);
        }

        store.Logger.Dropped(store.QualifiedTable);
    }

    private static async Task LockAsync(StoreConnection store, NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = store.CreateCommand(SchemaLocks.LockSchemaThenTable, connection, transaction);
        command.Parameters.AddWithValue("schema", store.Schema);
        command.Parameters.AddWithValue("table", store.Table);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // Only ever called with a validated identifier ([a-zA-Z0-9_]), so it cannot contain a quote.
    private static string Literal(string validatedIdentifier) => "'" + validatedIdentifier + "'";
}
