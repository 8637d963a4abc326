using Npgsql;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Leasing;

/// <summary>
/// The claim is planned once per connection, not per call, however large the subscriptions table: its counts are part
/// of its text, so PostgreSQL's generic plan is estimated right and chosen after the first five executions.
/// </summary>
public sealed class ClaimPlanTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task Claims_on_100k_subscriptions_settle_on_one_generic_plan_per_connection()
    {
        // One physical connection, so the statement's plan statistics can be read on it afterwards.
        var builder = new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 1 };
        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "plan_subs" });
        await leases.SeedAsync();
        await db.Schema.ExecuteAsync($"""
            INSERT INTO "{db.Name}".plan_subs (stream, source, work) SELECT 's' || i, 's' || i, CASE WHEN i % 100 = 0 THEN 100 ELSE -1 END
            FROM generate_series(1, 100000) i
            """);
        await db.Schema.ExecuteAsync($"ANALYZE \"{db.Name}\".plan_subs");

        for (var i = 0; i < 8; i++)
        {
            var claimed = await leases.ClaimAsync(8, 2, "h", TimeSpan.FromMinutes(1));
            Assert.Equal(10, claimed.Count);
            await leases.AckAsync(claimed.Select(l => new LeaseOutcome(l.Stream, "h", l.At)).ToList());
        }

        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%FOR UPDATE OF s SKIP LOCKED%'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "the claim is a prepared statement on the connection");
        var (generic, custom) = (reader.GetInt64(0), reader.GetInt64(1));
        Assert.True(generic >= 3 && custom <= 5, $"8 claims: {generic} generic plans, {custom} custom plans");
        Assert.False(await reader.ReadAsync(), "one claim statement for one loop's counts");
    }
}
