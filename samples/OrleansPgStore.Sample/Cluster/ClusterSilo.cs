using OrleansPgStore.Store;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using OrleansPgStore.Hosting;
using OrleansPgStore.Sample.Projections;

namespace OrleansPgStore.Sample.Cluster;

/// <summary>
/// One silo process of the cluster sample (<c>--cluster-silo K</c>, started by <see cref="ClusterSample"/>): the sample's
/// grains and projection with the whole app on PostgreSQL (<c>UseOrleansPgStore</c>: membership, reminders, journal,
/// storage, reactions), on the ports it is given. Prints <c>READY {silo address}</c> on stdout once started and exits
/// when its stdin closes, so it never outlives the sample that started it.
/// </summary>
internal static class ClusterSilo
{
    public static async Task RunAsync(IConfiguration settings)
    {
        var index = int.Parse(settings["cluster-silo"]!, CultureInfo.InvariantCulture);
        var connectionString = settings["Postgres:ConnectionString"]!;
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddConfiguration(settings);
        // One line per log entry: the sample prints them prefixed with the silo's name.
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.UseOrleans(silo => silo
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (settings["Orleans:ClusterId"]!, settings["Orleans:ServiceId"]!))
            .Configure<SiloOptions>(o => o.SiloName = $"silo{index}")
            .Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = IPAddress.Loopback;
                o.SiloPort = int.Parse(settings["silo-port"]!, CultureInfo.InvariantCulture);
                o.GatewayPort = int.Parse(settings["gateway-port"]!, CultureInfo.InvariantCulture);
            })
            // A lost silo is declared dead within seconds, for the demonstration (defaults: 5 s probes, 3 misses).
            .Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 3;
                o.NumVotesForDeathDeclaration = 1;
            })
            .UseOrleansPgStore(connectionString, options =>
            {
                builder.Configuration.GetSection("Postgres").Bind(options);
                BalancesProjection.Register(options);
            }));

        using var host = builder.Build();
        await host.StartAsync();
        if (index == 0)
        {
            // One silo creates the read model's table, before the client starts (the silos create everything else).
            await BalancesProjection.CreateTableAsync(host.Services.GetRequiredKeyedService<PgStore>("Postgres"), settings["Postgres:Schema"]!);
        }

        Console.Out.WriteLine($"READY {host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString()}");
        Console.Out.Flush();
        while (await Console.In.ReadLineAsync() is not null)
        {
        }

        await host.StopAsync();
    }
}
