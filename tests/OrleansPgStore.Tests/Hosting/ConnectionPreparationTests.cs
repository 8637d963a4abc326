using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OrleansPgStore.Hosting;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Hosting;

/// <summary>The journal registration's own data source prepares the activation reads on every connection it opens.</summary>
public sealed class ConnectionPreparationTests
{
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
