using OrleansPgStore.Tests.Grains;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// Two live activations of one grain (one per cluster, as in a split brain or during a silo failure) appending
/// to the same stream at once: optimistic concurrency makes them take turns, and no event is lost or doubled.
/// </summary>
public sealed class RaceTests
{
    [Fact]
    public async Task Two_activations_racing_on_one_grain_lose_no_event()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("race");
        await using var left = TestClusters.Build(schema.ConnectionString, schema.Name);
        await using var right = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1);
        await Task.WhenAll(left.DeployAsync(), right.DeployAsync());
        var fromLeft = left.Client.GetGrain<IAccountGrain>("contested");
        var fromRight = right.Client.GetGrain<IAccountGrain>("contested");
        const int perSide = 40;

        await Task.WhenAll(
            Task.WhenAll(Enumerable.Range(0, perSide).Select(i => fromLeft.Deposit(1, $"L{i}"))),
            Task.WhenAll(Enumerable.Range(0, perSide).Select(i => fromRight.Deposit(2, $"R{i}"))),
            Task.WhenAll(Enumerable.Range(0, perSide / 4).Select(i => fromRight.DepositMany(2, 0, $"B{i}-"))));

        var expectedMemos = Enumerable.Range(0, perSide).SelectMany(i => new[] { $"L{i}", $"R{i}" })
            .Concat(Enumerable.Range(0, perSide / 4).SelectMany(i => new[] { $"B{i}-0", $"B{i}-1" }))
            .Order()
            .ToList();
        var total = expectedMemos.Count;
        foreach (var side in new[] { fromLeft, fromRight })
        {
            var view = await side.Refresh();
            Assert.Equal(total, view.Version);
            Assert.Equal(perSide * 3, view.Balance);
            Assert.Equal(expectedMemos, view.Memos.Order().ToList());
        }

        // In the table: exactly one row per event, versions 0..n-1 without gaps, every memo once.
        Assert.Equal((long)total, await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'account/contested' AND NOT snapshot"));
        Assert.Equal((long)total - 1, await schema.ScalarAsync<long>(
            $"SELECT max(version) FROM \"{schema.Name}\".events WHERE stream = 'account/contested' AND NOT snapshot"));
        Assert.Equal((long)total, await schema.ScalarAsync<long>(
            $"SELECT count(DISTINCT data->>'memo') FROM \"{schema.Name}\".events WHERE stream = 'account/contested' AND NOT snapshot"));
    }

    [Fact]
    public async Task A_conditional_event_loses_to_an_event_confirmed_first_by_the_other_activation()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("race");
        await using var left = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1);
        await using var right = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1);
        await Task.WhenAll(left.DeployAsync(), right.DeployAsync());
        var fromLeft = left.Client.GetGrain<IAccountGrain>("conditional");
        var fromRight = right.Client.GetGrain<IAccountGrain>("conditional");
        Assert.Equal(0, (await fromLeft.Get()).Version);
        Assert.Equal(0, (await fromRight.Get()).Version);

        await fromRight.Deposit(1, "right first");

        // The left activation still believes the stream is at version 0: its conditional append must fail.
        Assert.False(await fromLeft.TryDeposit(5, "left late"));
        var view = await fromLeft.Get();
        Assert.Equal(1, view.Version);
        Assert.Equal(new[] { "right first" }, view.Memos);
    }
}
