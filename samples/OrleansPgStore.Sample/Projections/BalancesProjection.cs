using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Sample.Projections;

/// <summary>
/// A read model kept by a reaction: one row per account with its balance, updated from the account's events.
/// Reactions deliver at least once, in order per account, so the update is idempotent by global position.
/// </summary>
public static class BalancesProjection
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Registers the reaction on the journal's options.</summary>
    public static void Register(PostgresJournalOptions options)
    {
        options.Reactions.On("bank.opened", (e, services, ct) => ApplyAsync(e, 0m, services, ct));
        options.Reactions.On("bank.deposited", (e, services, ct) => ApplyAsync(e, Amount(e), services, ct));
        options.Reactions.On("bank.withdrawn", (e, services, ct) => ApplyAsync(e, -Amount(e), services, ct));
    }

    /// <summary>Creates the read model's table (the journal's own tables are created by the silo).</summary>
    public static async Task CreateTableAsync(PostgresJournalServices stores, string schema)
    {
        await using var command = stores.DataSource.CreateCommand(Table(schema, """
            CREATE TABLE IF NOT EXISTS {table} (
                account  text    PRIMARY KEY,
                balance  numeric NOT NULL,
                events   bigint  NOT NULL,
                position bigint  NOT NULL)
            """));
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The read model's rows.</summary>
    public static async Task<List<(string Account, decimal Balance, long Events)>> ReadAsync(PostgresJournalServices stores, string schema)
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

    private static async Task ApplyAsync(RecordedEvent e, decimal change, IServiceProvider services, CancellationToken cancellationToken)
    {
        var stores = services.GetRequiredKeyedService<PostgresJournalServices>("Postgres");
        var schema = stores.Journal.QualifiedTable.Split('.')[0].Trim('"');
        await using var command = stores.DataSource.CreateCommand(Table(schema, """
            INSERT INTO {table} AS b (account, balance, events, position) VALUES ($1, $2, 1, $3)
            ON CONFLICT (account) DO UPDATE
            SET balance = b.balance + excluded.balance, events = b.events + 1, position = excluded.position
            WHERE b.position < excluded.position
            """));
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream["account/".Length..] });
        command.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = change });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static decimal Amount(RecordedEvent e) => JsonDocument.Parse(e.Json).RootElement.GetProperty("amount").GetDecimal();

    // The schema comes from the silo's configuration (a validated identifier), never from event data.
    private static string Table(string schema, string sql) => sql.Replace("{table}", $"\"{schema}\".account_balances", StringComparison.Ordinal);
}
