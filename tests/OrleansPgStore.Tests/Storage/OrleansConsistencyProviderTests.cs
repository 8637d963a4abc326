using Microsoft.Extensions.DependencyInjection;
using Orleans.EventSourcing.LogStorage;
using Orleans.EventSourcing.StateStorage;
using Orleans.Storage;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Storage;

/// <summary>
/// docs/json-contract.md: Orleans' own StateStorage consistency provider runs over this grain storage (its
/// GrainStateWithMetaData round-trips); its LogStorage provider stores the whole log as a List of events, which is refused
/// when the event type is object or a base without [JsonDerivedType].
/// </summary>
public sealed class OrleansConsistencyProviderTests
{
    [Fact]
    public async Task Orleans_state_storage_and_log_storage_providers_keep_their_grains_across_deactivations()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("orleans-providers");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1, configureSilo: silo => silo
            .AddStateStorageBasedLogConsistencyProvider(OrleansConsistencyProviders.StateStorage)
            .AddLogStorageBasedLogConsistencyProvider(OrleansConsistencyProviders.LogStorage));
        await cluster.DeployAsync();

        foreach (var grain in new IOrleansProviderGrain[]
        {
            cluster.Client.GetGrain<IStateStorageCountGrain>("s"), cluster.Client.GetGrain<ILogStorageCountGrain>("l"),
        })
        {
            await grain.Add(2, "a");
            await grain.Add(-5, "é \"b\"");
            await cluster.DeactivateAsync(grain);
            await grain.Add(10, "c");
            await cluster.DeactivateAsync(grain);

            var (total, version, notes) = await grain.Get();
            Assert.Equal((7, 3), (total, version));
            Assert.Equal(["a", "é \"b\"", "c"], notes);
        }

        // Each is one row of the durable-state table, in jsonb; no event rows.
        Assert.Equal(2L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".durable_state"));
        Assert.Equal(0L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events"));
        Assert.Equal(3, await schema.ScalarAsync<int>(
            $"SELECT jsonb_array_length(state->'log') FROM \"{schema.Name}\".durable_state WHERE persistence_id LIKE '%logstoragecount%'"));
    }

    [Fact]
    public async Task A_log_of_object_or_of_an_undeclared_base_is_refused_naming_it_and_a_log_of_a_concrete_event_round_trips()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("orleans-providers");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1);
        await cluster.DeployAsync();
        var storage = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(TestClusters.Provider);

        var objects = new LogStateWithMetaDataAndETag<object>();
        objects.StateAndMetaData.Log.Add(new Counted(1, "x"));
        await AssertRefused(storage, objects, "object");
        var bases = new LogStateWithMetaDataAndETag<AccountEvent>();
        bases.StateAndMetaData.Log.Add(new Deposited(1, "x"));
        await AssertRefused(storage, bases, typeof(AccountEvent).FullName!);

        var id = GrainId.Create("log", "concrete");
        var concrete = new GrainState<LogStateWithMetaData<Counted>> { State = new() };
        concrete.State.Log.Add(new Counted(3, "y"));
        await storage.WriteStateAsync("log", id, concrete);
        var read = new GrainState<LogStateWithMetaData<Counted>>();
        await storage.ReadStateAsync("log", id, read);
        Assert.NotNull(read.State);
        Assert.Equal([new Counted(3, "y")], read.State.Log);

        var view = new GrainState<GrainStateWithMetaData<CountedView>> { State = new(new CountedView { Total = 4, Notes = ["n"] }) { GlobalVersion = 2 } };
        await storage.WriteStateAsync("view", id, view);
        var viewRead = new GrainState<GrainStateWithMetaData<CountedView>>();
        await storage.ReadStateAsync("view", id, viewRead);
        Assert.NotNull(viewRead.State?.State);
        Assert.Equal((4, "n", 2), (viewRead.State.State.Total, Assert.Single(viewRead.State.State.Notes), viewRead.State.GlobalVersion));
    }

    private static async Task AssertRefused<TEntry>(IGrainStorage storage, LogStateWithMetaDataAndETag<TEntry> log, string named)
        where TEntry : class
    {
        var id = GrainId.Create("log", Guid.NewGuid().ToString("N"));
        var state = new GrainState<LogStateWithMetaData<TEntry>> { State = log.StateAndMetaData };

        var error = await Assert.ThrowsAsync<OrleansException>(() => storage.WriteStateAsync("log", id, state));

        Assert.Contains("cannot be written", error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        var after = new GrainState<LogStateWithMetaData<TEntry>>();
        await storage.ReadStateAsync("log", id, after);
        Assert.False(after.RecordExists);
    }
}
