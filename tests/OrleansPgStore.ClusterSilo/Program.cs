using System.Data.Common;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using OrleansPgStore.ClusterSilo;

// One silo of the multi-process cluster test, on PostgreSQL alone (UseOrleansPgStore: clustering, reminders, journal,
// reactions). Arguments: --connection, --schema, --cluster, --name, --silo-port, --gateway-port, and --tickers N to
// start N ticker grains here; --adonet CONNECTION wires Orleans' ADO.NET clustering and reminders instead (a benchmark's
// baseline). Prints "READY {silo address}" on stdout once started; logs go to stderr. Exits when its
// stdin closes, so it never outlives the test that started it.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var arguments = new ConfigurationBuilder().AddCommandLine(args).Build();
string Required(string key) => arguments[key] ?? throw new ArgumentException($"The cluster silo needs --{key}.");
var connectionString = Required("connection");
var tables = new TestTables(Required("schema"));
var cluster = Required("cluster");
var name = Required("name");
var adoNet = arguments["adonet"];
var tickers = int.Parse(arguments["tickers"] ?? "0", CultureInfo.InvariantCulture);

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("OrleansPgStore.Reactions", LogLevel.Information);
builder.Services.AddSingleton(tables);
builder.UseOrleans(silo =>
{
    silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster, cluster))
        .Configure<SiloOptions>(o => o.SiloName = name)
        .Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = IPAddress.Loopback;
            o.SiloPort = int.Parse(Required("silo-port"), CultureInfo.InvariantCulture);
            o.GatewayPort = int.Parse(Required("gateway-port"), CultureInfo.InvariantCulture);
        })
        // Settings for a test: a killed silo is declared dead within seconds (defaults: 5 s probes, 3 misses, 2 votes).
        .Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 3;
            o.NumVotesForDeathDeclaration = 1;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
        })
        // Orleans' default minimum is one minute; the test waits seconds.
        .Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));

    void Journal(OrleansPgStore.Options.PostgresJournalOptions o)
    {
        o.ConnectionString = connectionString;
        o.Schema = tables.Schema;
        o.Reactions.Workers = 3;
        StallingProjection.Register(o.Reactions, tables, name);
    }

    if (adoNet is null)
    {
        silo.UseOrleansPgStore(connectionString, Journal);
    }
    else
    {
        // The failover benchmark's baseline: Orleans' ADO.NET providers on a database with Orleans' scripts applied.
        DbProviderFactories.RegisterFactory("Npgsql", NpgsqlFactory.Instance);
        silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", adoNet))
            .UseAdoNetReminderService(o => (o.Invariant, o.ConnectionString) = ("Npgsql", adoNet))
            .AddPostgresJournal(Journal);
    }
});

using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IGrainFactory>();
for (var i = 0; i < tickers; i++)
{
    await grains.GetGrain<ITickerGrain>($"{name}-{i}").Start(TimeSpan.FromSeconds(1));
}

Console.Out.WriteLine($"READY {host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString()}");
Console.Out.Flush();
while (await Console.In.ReadLineAsync() is not null)
{
}

// The test closed stdin (or died): leave at once, as the test only kills or abandons its silos.
Environment.Exit(0);
