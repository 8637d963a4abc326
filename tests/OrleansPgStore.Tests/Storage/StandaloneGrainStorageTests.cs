using OrleansPgStore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Serialization.Serializers;
using OrleansPgStore.Options;
using OrleansPgStore.Storage;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Storage;

/// <summary>The grain storage built without a silo, as storage test kits and users' unit tests build it.</summary>
public sealed class StandaloneGrainStorageTests
{
    private static readonly IActivatorProvider Activators =
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<IActivatorProvider>();

    [Fact]
    public async Task A_storage_created_without_a_silo_writes_reads_and_detects_conflicts()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("standalone");
        await using var storage = PostgresProviderFactory.StandaloneGrainStorage(
            "kit",
            new PostgresGrainStorageOptions { ConnectionString = schema.ConnectionString, Schema = schema.Name },
            serviceId: "kit-service",
            Activators);
        await storage.Store.SeedAsync();
        var id = GrainId.Create("kit", Guid.NewGuid().ToString("N"));

        var state = new GrainState<StorageState> { State = new StorageState { A = "one", B = 1, C = 2 } };
        await storage.WriteStateAsync("s", id, state);
        var read = new GrainState<StorageState> { State = new StorageState() };
        await storage.ReadStateAsync("s", id, read);

        Assert.True(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal(("one", 1, 2L), (read.State!.A, read.State.B, read.State.C));
        var stale = new GrainState<StorageState> { State = new StorageState { A = "stale" }, ETag = null };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", id, stale));
    }

    [Fact]
    public void Wrong_options_are_refused_naming_every_setting()
    {
        var error = Assert.Throws<OrleansConfigurationException>(() => PostgresProviderFactory.StandaloneGrainStorage(
            "kit", new PostgresGrainStorageOptions { Schema = "bad schema;" }, "svc", Activators));

        Assert.Contains("PostgreSQL grain storage 'kit'", error.Message);
        Assert.Contains("PostgresGrainStorageOptions.ConnectionString", error.Message);
        Assert.Contains("PostgresGrainStorageOptions.Schema", error.Message);
    }
}
