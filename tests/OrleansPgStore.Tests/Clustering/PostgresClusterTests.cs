using OrleansPgStore.Store;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Clustering;

/// <summary>
/// A real cluster on PostgreSQL alone: silos on TCP ports of their own that find each other through the membership
/// table, reminders in the reminder table, and a client that finds its gateways there. No localhost clustering, no
/// in-memory reminders, nothing shared in process.
/// </summary>
public sealed class PostgresClusterTests
{
    [Fact]
    public async Task Two_silos_and_a_client_run_on_PostgreSQL_alone_and_a_reminder_fires()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("cluster");
        var clusterId = "c-" + Guid.NewGuid().ToString("N")[..8];
        var hosts = new List<IHost>();
        try
        {
            // One silo wired call by call, the other with the one-line setup: both on the same tables.
            hosts.Add(await StartSiloAsync(clusterId, silo => silo
                .UsePostgresClustering(o =>
                {
                    o.ConnectionString = schema.ConnectionString;
                    o.Schema = schema.Name;
                })
                .UsePostgresReminderService(o =>
                {
                    o.ConnectionString = schema.ConnectionString;
                    o.Schema = schema.Name;
                })));
            hosts.Add(await StartSiloAsync(clusterId, silo => silo.UseOrleansPgStore(schema.ConnectionString, o => o.Schema = schema.Name)));

            var client = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            client.UseOrleansClient(c => c
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId))
                .UsePostgresClustering(o =>
                {
                    o.ConnectionString = schema.ConnectionString;
                    o.Schema = schema.Name;
                }));
            var clientHost = client.Build();
            await clientHost.StartAsync();
            hosts.Insert(0, clientHost);
            var grains = clientHost.Services.GetRequiredService<IClusterClient>();

            // Both silos joined through the table and see each other.
            var management = grains.GetGrain<IManagementGrain>(0);
            await Eventually(async () => (await management.GetHosts(onlyActive: true)).Count == 2);
            Assert.Equal(2L, await schema.ScalarAsync<long>(
                $"SELECT count(*) FROM \"{schema.Name}\".orleans_membership WHERE cluster_id = @c AND status = @active",
                ("c", clusterId), ("active", (int)SiloStatus.Active)));

            // The client found both gateways in the table.
            var gateways = await clientHost.Services.GetRequiredService<Orleans.Messaging.IGatewayListProvider>().GetGateways();
            Assert.Equal(2, gateways.Count);

            // A reminder stored in PostgreSQL fires (the reminder service reads it back from its ring range).
            var probe = grains.GetGrain<IReminderProbeGrain>("probe");
            await probe.Start(TimeSpan.FromSeconds(1));
            Assert.Equal(1L, await schema.ScalarAsync<long>(
                $"SELECT count(*) FROM \"{schema.Name}\".orleans_reminders WHERE service_id = @s AND reminder_name = 'probe'", ("s", clusterId)));
            await Eventually(async () => (await probe.Ticks()).Ticks >= 2);

            // The one-line silo runs clustering and reminders on its journal's data source: one pool.
            var oneLine = hosts[^1].Services;
            var pool = oneLine.GetRequiredKeyedService<OrleansPgStore.Store.PgStore>("Postgres").DataSource;
            Assert.Same(pool, oneLine.GetRequiredService<Microsoft.Extensions.Options.IOptions<OrleansPgStore.Options.PostgresClusteringOptions>>().Value.DataSource);
            Assert.Same(pool, oneLine.GetRequiredService<Microsoft.Extensions.Options.IOptions<OrleansPgStore.Options.PostgresReminderOptions>>().Value.DataSource);
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.StopAsync();
                host.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_client_never_creates_tables_and_fails_naming_the_missing_table()
    {
        // A schema no silo has seeded: the client's gateway list has nothing to read, and must not create it.
        await using var schema = await PostgresTestSchema.CreateAsync("clientonly");
        var client = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        client.UseOrleansClient(c => c
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = ("client-only", "client-only"))
            .UsePostgresClustering(o =>
            {
                o.ConnectionString = schema.ConnectionString;
                o.Schema = schema.Name;
            }));
        using var clientHost = client.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => clientHost.StartAsync());

        Assert.Contains("orleans_membership", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0L, await schema.ScalarAsync<long>(
            "SELECT count(*) FROM pg_class WHERE relnamespace = @schema::regnamespace", ("schema", $"\"{schema.Name}\"")));
    }

    [Fact]
    public async Task A_silo_and_a_client_configured_from_IConfiguration_alone_use_the_PostgreSQL_providers()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("clusterconfig");
        var clusterId = "cfg-" + Guid.NewGuid().ToString("N")[..8];
        var settings = new Dictionary<string, string?>
        {
            ["Orleans:ClusterId"] = clusterId,
            ["Orleans:ServiceId"] = clusterId,
            ["Orleans:Clustering:ProviderType"] = "Postgres",
            ["Orleans:Clustering:ConnectionName"] = "app",
            ["Orleans:Clustering:Schema"] = schema.Name,
            ["Orleans:Clustering:MembershipTable"] = "members",
            ["Orleans:Reminders:ProviderType"] = "Postgres",
            ["Orleans:Reminders:ConnectionString"] = schema.ConnectionString,
            ["Orleans:Reminders:Schema"] = schema.Name,
            ["Orleans:Reminders:Table"] = "timers",
            ["ConnectionStrings:app"] = schema.ConnectionString,
        };
        var silo = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        silo.Configuration.AddInMemoryCollection(settings);
        silo.UseOrleans(s => s.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = IPAddress.Loopback;
            o.SiloPort = FreePort();
            o.GatewayPort = FreePort();
        }));
        using var siloHost = silo.Build();
        await siloHost.StartAsync();
        var client = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // A client's configuration names no reminder provider (Orleans refuses a Reminders section on clients).
        client.Configuration.AddInMemoryCollection(settings.Where(s => !s.Key.StartsWith("Orleans:Reminders", StringComparison.Ordinal)));
        client.UseOrleansClient(_ => { });
        using var clientHost = client.Build();
        await clientHost.StartAsync();
        try
        {
            Assert.Equal("PostgresMembershipTable", siloHost.Services.GetRequiredService<IMembershipTable>().GetType().Name);
            Assert.Equal("PostgresReminderTable", siloHost.Services.GetRequiredService<IReminderTable>().GetType().Name);
            Assert.Equal("PostgresGatewayListProvider", clientHost.Services.GetRequiredService<Orleans.Messaging.IGatewayListProvider>().GetType().Name);

            await clientHost.Services.GetRequiredService<IClusterClient>().GetGrain<IReminderProbeGrain>("cfg").Start(TimeSpan.FromMinutes(1));
            Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".members WHERE cluster_id = @c", ("c", clusterId)));
            Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".timers WHERE service_id = @s", ("s", clusterId)));
        }
        finally
        {
            await clientHost.StopAsync();
            await siloHost.StopAsync();
        }
    }

    private static async Task<IHost> StartSiloAsync(string clusterId, Action<ISiloBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId));
            silo.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = IPAddress.Loopback;
                o.SiloPort = FreePort();
                o.GatewayPort = FreePort();
            });
            // Orleans' default minimum is one minute; a test waits seconds.
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            configure(silo);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 90 seconds.");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
