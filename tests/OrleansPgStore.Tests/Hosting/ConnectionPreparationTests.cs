using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OrleansPgStore.Hosting;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;

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
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1, configure: o => o.ActivationReadConnections = 1);
        await cluster.DeployAsync();
        var services = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PostgresJournalServices>(TestClusters.Provider);
        await services.Journal.CommitAsync("account/read", [new EventData("Deposited", "{}"), new EventData("Deposited", "{}")]);

        // The first read holds the one activation connection while it is being read...
        await using var held = services.ActivationReads.ReplayAsync("account/read", CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await held.MoveNextAsync());

        // ...so the next one takes the main pool instead of queueing behind it (a queue would wait for the first).
        var entries = await services.ActivationReads.ReplayAsync("account/read", CancellationToken.None).ToListAsync()
            .AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([0L, 1L], entries.Select(e => e.Version));
        Assert.True(await held.MoveNextAsync());
        Assert.False(await held.MoveNextAsync());
    }

    [Fact]
    public async Task Every_connection_the_pool_opens_has_the_activation_reads_prepared()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("prepared");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1);
        await cluster.DeployAsync();
        var services = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PostgresJournalServices>(TestClusters.Provider);

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
