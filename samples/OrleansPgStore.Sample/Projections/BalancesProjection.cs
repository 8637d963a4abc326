using OrleansPgStore.Store;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Sample.Projections;

/// <summary>
/// A read model kept by a transactional projection: one row per account with its balance, updated from the account's
/// events. The worker hands over a cycle's events of every claimed account with its open transaction; the upsert
/// commits together with the accounts' watermarks, so each event counts exactly once (no idempotency guard needed).
/// </summary>
public static class BalancesProjection
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Registers the projection on the journal's options.</summary>
    public static void Register(PostgresJournalOptions options)
        => options.Reactions.Project(["bank.opened", "bank.deposited", "bank.withdrawn"], ApplyAsync, ClearAsync);

    /// <summary>Creates the read model's table (the journal's own tables are created by the silo).</summary>
    public static async Task CreateTableAsync(PgStore stores, string schema)
    {
        await using var command = stores.DataSource.CreateCommand(Table(schema, """
            CREATE TABLE IF NOT EXISTS {table} (
                account  text    PRIMARY KEY,
                balance  numeric NOT NULL,
                events   bigint  NOT NULL)
            """));
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The read model's rows.</summary>
    public static async Task<List<(string Account, decimal Balance, long Events)>> ReadAsync(PgStore stores, string schema)
    {
        await using var command = stores.DataSource.CreateCommand(Table(schema, "SELECT account, balance, events FROM {table} ORDER BY account"));
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, decimal, long)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetDecimal(1), reader.GetInt64(2)));
        }

        return rows;
    }

    /// <summary>One upsert for the whole batch: per account, the sum of the changes and the number of events.</summary>
    private static async Task ApplyAsync(ProjectionBatch batch, IServiceProvider services, CancellationToken cancellationToken)
    {
        var accounts = batch.Targets
            .Select(t => (
                Account: t.Target["account/".Length..],
                Change: t.Events.Sum(Change),
                Events: (long)t.Events.Count))
            .ToList();
        await using var command = batch.CreateCommand(Table(Schema(services), """
            INSERT INTO {table} AS b (account, balance, events)
            SELECT * FROM unnest($1::text[], $2::numeric[], $3::bigint[])
            ON CONFLICT (account) DO UPDATE
            SET balance = b.balance + excluded.balance, events = b.events + excluded.events
            """));
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = accounts.Select(a => a.Account).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<decimal[]> { TypedValue = accounts.Select(a => a.Change).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = accounts.Select(a => a.Events).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The rebuild hook: empties the read model in the transaction that resets the accounts' progress.</summary>
    private static async Task ClearAsync(ProjectionTransaction transaction, IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var command = transaction.CreateCommand(Table(Schema(services), "DELETE FROM {table}"));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static decimal Change(RecordedEvent e) => e.Name switch
    {
        "bank.deposited" => Amount(e),
        "bank.withdrawn" => -Amount(e),
        _ => 0m,
    };

    private static string Schema(IServiceProvider services)
        => services.GetRequiredKeyedService<PgStore>("Postgres").Journal.QualifiedTable.Split('.')[0].Trim('"');

    private static decimal Amount(RecordedEvent e) => JsonDocument.Parse(e.Json).RootElement.GetProperty("amount").GetDecimal();

    // The schema comes from the silo's configuration (a validated identifier), never from event data.
    private static string Table(string schema, string sql) => sql.Replace("{table}", $"\"{schema}\".account_balances", StringComparison.Ordinal);
}
