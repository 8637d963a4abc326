using OrleansPgStore.Store;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.EventSourcing;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Hosting;
using OrleansPgStore.Storage;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Hosting;

/// <summary>Configuration-only hosting through Orleans' provider configuration, and distinct names for the two roles.</summary>
public sealed class ProviderNamesTests
{
    [Fact]
    public async Task A_silo_configured_from_IConfiguration_alone_runs_journaled_and_persistent_state_grains()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("configonly");
        // A co-hosted silo as an application builds it: Orleans reads its providers from configuration (what
        // appsettings.json would hold); no AddPostgres… call anywhere. Only clustering is set in code.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:ClusterId"] = "config-only",
            ["Orleans:ServiceId"] = "config-only",
            ["Orleans:GrainStorage:Postgres:ProviderType"] = "Postgres",
            ["Orleans:GrainStorage:Postgres:ConnectionString"] = schema.ConnectionString,
            ["Orleans:GrainStorage:Postgres:Schema"] = schema.Name,
            ["Orleans:GrainStorage:Postgres:SnapshotInterval"] = "3",
            ["Orleans:GrainStorage:Other:ProviderType"] = "PostgresGrainStorage",
            ["Orleans:GrainStorage:Other:ConnectionString"] = schema.ConnectionString,
            ["Orleans:GrainStorage:Other:Schema"] = schema.Name,
            ["Orleans:GrainStorage:Other:Table"] = "other_state",
        });
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort()));
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();

        var account = grains.GetGrain<IAccountGrain>("config-only");
        await account.Deposit(10m, "a");
        await account.Deposit(5m, "b");
        await account.Deposit(1m, "c");
        await grains.GetGrain<IProfileGrain>("config-only").Visit("Ada");

        Assert.Equal(16m, (await account.Get()).Balance);
        Assert.Equal("Ada", (await grains.GetGrain<IProfileGrain>("config-only").Get()).Name);
        Assert.Equal(3L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE NOT snapshot"));
        // SnapshotInterval came from the section too: a snapshot after the third event.
        Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE snapshot"));
        Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".durable_state"));
        var other = Assert.IsType<PostgresGrainStorage>(host.Services.GetRequiredKeyedService<IGrainStorage>("Other"));
        Assert.EndsWith("\"other_state\"", other.Store.QualifiedTable);
        await host.StopAsync();
    }

    [Fact]
    public async Task One_registration_serves_its_roles_under_distinct_names_on_one_pool()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("rolenames");
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo.AddPostgresJournal(
            "pg",
            new PostgresProviderNames { LogConsistency = "events", GrainStorage = TestClusters.Provider },
            options =>
            {
                options.ConnectionString = schema.ConnectionString;
                options.Schema = schema.Name;
            }));
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        // CounterGrain names no provider (the log-consistency role is the default); ProfileGrain names "Postgres".
        await cluster.Client.GetGrain<ICounterGrain>(7).Increment(2);
        await cluster.Client.GetGrain<IProfileGrain>("roles").Visit("Grace");
        Assert.Equal((2, 1), await cluster.Client.GetGrain<ICounterGrain>(7).Get());
        Assert.Equal("Grace", (await cluster.Client.GetGrain<IProfileGrain>("roles").Get()).Name);

        var services = cluster.Silos[0].ServiceProvider;
        var shared = services.GetRequiredKeyedService<PgStore>("pg");
        var journal = Assert.IsType<PostgresLogConsistencyProvider>(services.GetRequiredKeyedService<ILogViewAdaptorFactory>("events"));
        Assert.Same(shared.Journal, journal.Journal);
        Assert.Same(shared.States, Assert.IsType<PostgresGrainStorage>(services.GetRequiredKeyedService<IGrainStorage>(TestClusters.Provider)).Store);
        Assert.Null(services.GetKeyedService<ILogViewAdaptorFactory>(TestClusters.Provider));
        Assert.Null(services.GetKeyedService<IGrainStorage>("events"));
        Assert.Null(services.GetKeyedService<IGrainStorage>("pg"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
