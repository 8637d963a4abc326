using OrleansPgStore.Tests.Grains;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>Everything persisted survives a restart of all silos (a new cluster of the same service).</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Journaled_and_persistent_state_grains_survive_a_restart_of_all_silos()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("restart");
        var serviceId = "restart-" + Guid.NewGuid().ToString("N");

        await using (var before = TestClusters.Build(schema.ConnectionString, schema.Name, serviceId: serviceId))
        {
            await before.DeployAsync();
            var account = before.Client.GetGrain<IAccountGrain>("alice");
            await account.DepositMany(7, 10, "d");
            await account.Withdraw(5);
            await before.Client.GetGrain<ICounterGrain>(1).Increment(3);
            await before.Client.GetGrain<IProfileGrain>("alice").Visit("Alice");
            await before.StopAllSilosAsync();
        }

        await using var after = TestClusters.Build(schema.ConnectionString, schema.Name, serviceId: serviceId);
        await after.DeployAsync();

        var reloaded = await after.Client.GetGrain<IAccountGrain>("alice").Get();
        Assert.Equal(65, reloaded.Balance);
        Assert.Equal(8, reloaded.Version);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"d{i}"), reloaded.Memos);
        Assert.Equal(new Withdrawn(5), Assert.Single(await after.Client.GetGrain<IAccountGrain>("alice").History(7, 8)));
        Assert.Equal((3, 1), await after.Client.GetGrain<ICounterGrain>(1).Get());
        Assert.Equal(new ProfileView("Alice", 1, "1", true), await after.Client.GetGrain<IProfileGrain>("alice").Get());

        // And the grains carry on where they were.
        await after.Client.GetGrain<IAccountGrain>("alice").Deposit(1, "after");
        Assert.Equal(9, (await after.Client.GetGrain<IAccountGrain>("alice").Refresh()).Version);
    }
}
