using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrleansPgStore.Testing;
using OrleansPgStore.TestSupport;

namespace OrleansPgStore.Tests.Health;

/// <summary>docs/operations.md's health table: a database that does not answer makes the silo Unhealthy, until it answers.</summary>
public sealed class UnreachableDatabaseHealthTests
{
    [Fact]
    public async Task A_database_that_does_not_answer_is_unhealthy_until_it_is_back()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("health-down");
        var (proxy, throughProxy) = FaultProxy.To(schema.ConnectionString, b => b.Pooling = false);
        await using var _ = proxy;
        await using var cluster = TestClusters.Build(throughProxy, schema.Name, silos: 1, configureSilo: silo =>
            silo.Services.AddHealthChecks().AddPostgresJournal(TestClusters.Provider));
        await cluster.DeployAsync();
        var health = cluster.Silos[0].ServiceProvider.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        proxy.Down = true;
        var down = await health.CheckHealthAsync();
        proxy.Down = false;

        var entry = Assert.Single(down.Entries).Value;
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
    }
}
