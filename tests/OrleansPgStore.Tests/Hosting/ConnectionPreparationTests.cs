using OrleansPgStore.Store;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OrleansPgStore.Hosting;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Hosting;

/// <summary>
/// The journal registration's own data sources prepare the activation reads on every connection they open, and
/// activations read on a few warm connections of their own when one is free.
/// </summary>
public sealed class ConnectionPreparationTests
{
    [Fact]
    public async Task Activation_reads_take_their_own_connection_when_free_and_the_main_pool_when_not()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("actreads");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1, configure: o => o.WarmReadConnections = 1);
        await cluster.DeployAsync();
        var services = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PgStore>(TestClusters.Provider);
        await services.Journal.CommitAsync("account/read", [new EventData("Deposited", "{}"), new EventData("Deposited", "{}")]);

        // The first read holds the one activation connection while it is being read...
        await using var held = services.Reads.ReplayAsync("account/read", CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await held.MoveNextAsync());

        // ...so the next one takes the main pool instead of queueing behind it (a queue would wait for the first).
        var entries = await services.Reads.ReplayAsync("account/read", CancellationToken.None).ToListAsync()
            .AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([0L, 1L], entries.Select(e => e.Version));
        Assert.True(await held.MoveNextAsync());
        Assert.False(await held.MoveNextAsync());
    }

    [Theory]
    [InlineData("Minimum Pool Size=10", 4)]
    [InlineData("Minimum Pool Size=10;Maximum Pool Size=12", 4)]
    [InlineData("Minimum Pool Size=2;Maximum Pool Size=3", 3)]
    [InlineData("Minimum Pool Size=3;Maximum Pool Size=3", 3)]
    [InlineData("Maximum Pool Size=2", 2)]
    public async Task A_silo_starts_and_serves_grains_whatever_pool_sizes_the_connection_string_sets(string pool, int activationConnections)
    {
        await using var schema = await PostgresTestSchema.CreateAsync("poolsize");
        await using var cluster = TestClusters.Build(
            $"{schema.ConnectionString};{pool}", schema.Name, silos: 1, configure: o => o.WarmReadConnections = 4);
        await cluster.DeployAsync();

        var account = cluster.Client.GetGrain<IAccountGrain>("pool/" + Guid.NewGuid().ToString("N"));
        await account.Deposit(5, "first");
        Assert.Equal(5m, (await account.Refresh()).Balance);

        // The activation-read pool keeps within the connection string's bounds: never above its maximum, and its
        // minimum (which Npgsql requires to be at most its maximum) no higher than that.
        var main = new NpgsqlConnectionStringBuilder($"{schema.ConnectionString};{pool}");
        var activation = WarmReads.PoolFor(main.ConnectionString, 4);
        Assert.Equal(activationConnections, activation.MaxPoolSize);
        Assert.Equal(Math.Min(main.MinPoolSize, activationConnections), activation.MinPoolSize);
    }

    [Fact]
    public async Task Every_connection_the_pool_opens_has_the_activation_reads_prepared()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("prepared");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1);
        await cluster.DeployAsync();
        var services = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PgStore>(TestClusters.Provider);

        // Connections opened while seeding, before the tables existed, could not prepare anything: start afresh, and
        // hold more connections than the silo has used so far, as a burst of writers would.
        services.DataSource.Clear();
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                connections.Add(await services.DataSource.OpenConnectionAsync());
            }

            foreach (var connection in connections)
            {
                await using var command = new NpgsqlCommand(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT version, name, data::text, snapshot%'", connection);
                Assert.Equal(1L, await command.ExecuteScalarAsync());
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
