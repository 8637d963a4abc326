using Orleans.TestingHost;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Hosting;

/// <summary>
/// The grain test a user writes with OrleansPgStore.Testing (docs/orleans.md, "Testing your own grains"): a silo on a real,
/// throw-away PostgreSQL in a few lines. README.md's own version runs from the packages in build/package-smoke.sh.
/// </summary>
public sealed class UserGrainTestExample
{
    [Fact]
    public async Task A_counter_keeps_its_count_across_a_cluster_restart()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("counter-test");   // a schema of its own
        var cluster = Cluster(schema);
        await cluster.DeployAsync();
        await cluster.Client.GetGrain<ICounterGrain>(1).Increment(5);
        await cluster.DisposeAsync();

        var restarted = Cluster(schema);
        await restarted.DeployAsync();
        Assert.Equal((5, 1), await restarted.Client.GetGrain<ICounterGrain>(1).Get());
        await restarted.DisposeAsync();
    }

    private static InProcessTestCluster Cluster(PostgresTestSchema schema)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddPostgresJournal(options =>
        {
            options.ConnectionString = schema.ConnectionString;
            options.Schema = schema.Name;
        }));
        return builder.Build();
    }
}
