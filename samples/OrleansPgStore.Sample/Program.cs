using OrleansPgStore.Store;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansPgStore.Hosting;
using OrleansPgStore.Sample.Cluster;
using OrleansPgStore.Sample.Grains;
using OrleansPgStore.Sample.Projections;
using OrleansPgStore.Storage;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;

// The sample silo: bank accounts as JournaledGrains, a customer profile as a [PersistentState] grain, and a
// balances projection kept by a reaction, all in PostgreSQL through one AddPostgresJournal call. It runs a few
// operations, restarts the silo to show that everything comes back, prints what the tables hold, and exits.
// Server: Postgres:ConnectionString from silo-config/appsettings.json, the environment (Postgres__ConnectionString)
// or the command line (--Postgres:ConnectionString=...); when none is set, a private throw-away PostgreSQL.
// With --cluster-silos=N (build/run-cluster.sh) it runs N silo processes and a client instead, on PostgreSQL alone.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var settings = new ConfigurationBuilder()
    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "silo-config", "appsettings.json"), optional: false)
    .AddEnvironmentVariables()
    .AddCommandLine(args)
    .Build();

if (settings["cluster-silo"] is not null)
{
    // A silo process of the cluster sample (build/run-cluster.sh), started by the sample itself.
    await ClusterSilo.RunAsync(settings);
    return;
}

PrivatePostgresCluster? privateServer = null;
var connectionString = settings["Postgres:ConnectionString"];
if (string.IsNullOrWhiteSpace(connectionString))
{
    Console.WriteLine("No Postgres:ConnectionString configured: starting a private throw-away PostgreSQL server...");
    privateServer = await PrivatePostgresCluster.StartAsync();
    connectionString = privateServer.ConnectionString;
    Console.WriteLine($"  listening on 127.0.0.1:{privateServer.Port}; it is deleted when the sample exits.");
}

try
{
    if (settings["cluster-silos"] is { } silos)
    {
        // build/run-cluster.sh: several silo processes and a client on PostgreSQL alone.
        await ClusterSample.RunAsync(settings, connectionString, int.Parse(silos, CultureInfo.InvariantCulture), args);
        return;
    }

    Console.WriteLine();
    Console.WriteLine("== First silo run");
    using (var silo = BuildSilo(settings, connectionString))
    {
        await silo.StartAsync();
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        await BalancesProjection.CreateTableAsync(silo.Services.GetRequiredKeyedService<PgStore>("Postgres"), settings["Postgres:Schema"]!);

        var alice = grains.GetGrain<ICustomerProfileGrain>("alice");
        await alice.Update("Alice Liddell", "alice@example.com");
        var checking = grains.GetGrain<IBankAccountGrain>("alice-checking");
        var savings = grains.GetGrain<IBankAccountGrain>("alice-savings");
        foreach (var (account, id) in new[] { (checking, "alice-checking"), (savings, "alice-savings") })
        {
            await account.Open("alice");
            await alice.AddAccount(id);
        }

        await checking.Deposit(1200m, "salary");
        await checking.Withdraw(45.50m, "groceries");
        await checking.Withdraw(300m, "transfer to savings");
        await savings.Deposit(300m, "transfer from checking");
        for (var month = 1; month <= 6; month++)
        {
            await savings.Deposit(10m, $"interest month {month}");
        }

        try
        {
            await savings.Withdraw(1_000_000m, "yacht");
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"  refused as expected: {e.Message}");
        }

        await PrintAccountsAsync(grains);
        await silo.StopAsync();
    }

    Console.WriteLine();
    Console.WriteLine("== Second silo run (a new process would see the same): state comes back from PostgreSQL");
    using (var silo = BuildSilo(settings, connectionString))
    {
        await silo.StartAsync();
        var grains = silo.Services.GetRequiredService<IGrainFactory>();
        await PrintAccountsAsync(grains);

        var (profile, etag) = await grains.GetGrain<ICustomerProfileGrain>("alice").Get();
        Console.WriteLine($"  profile alice: {profile.Name} <{profile.Email}>, accounts [{string.Join(", ", profile.Accounts)}], ETag {etag}");
        var statement = await grains.GetGrain<IBankAccountGrain>("alice-checking").Statement();
        Console.WriteLine("  statement of alice-checking, read from the journal:");
        foreach (var e in statement)
        {
            Console.WriteLine($"    {e}");
        }

        Console.WriteLine();
        Console.WriteLine("== What the tables hold (payloads are jsonb, queryable in SQL)");
        var stores = silo.Services.GetRequiredKeyedService<PgStore>("Postgres");
        await foreach (var e in stores.Journal.QueryAsync(new JournalQuery { StreamPattern = "^account/alice-savings$", IncludeSnapshots = true }))
        {
            Console.WriteLine($"  {stores.Journal.QualifiedTable} {e.Stream} v{e.Version} {e.Name,-15} {e.Json}");
        }

        var serviceId = settings["Orleans:ServiceId"]!;
        var profileRow = await stores.States.LoadAsync(PersistenceIds.For(serviceId, "profile", GrainId.Create("customer", "alice")));
        Console.WriteLine($"  durable_state {profileRow?.PersistenceId} revision {profileRow?.Revision} {profileRow?.Json}");
        Console.WriteLine();
        Console.WriteLine("== The balances projection, kept by a transactional projection from the same events (exactly once, in order per account)");
        var expected = await stores.Journal.QueryAsync(new JournalQuery { StreamPattern = "^account/" }).CountAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var rows = await BalancesProjection.ReadAsync(stores, settings["Postgres:Schema"]!);
        while (rows.Sum(r => r.Events) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            rows = await BalancesProjection.ReadAsync(stores, settings["Postgres:Schema"]!);
        }

        foreach (var (account, balance, events) in rows)
        {
            Console.WriteLine($"  account_balances {account,-15} balance {balance,9:0.00} from {events} events");
        }

        Console.WriteLine(rows.Sum(r => r.Events) == expected
            ? $"  the projection has caught up with all {expected} events"
            : $"  the projection is still behind ({rows.Sum(r => r.Events)} of {expected} events)");
        await silo.StopAsync();
    }
}
finally
{
    if (privateServer is not null)
    {
        await privateServer.DisposeAsync();
    }
}

return;

static IHost BuildSilo(IConfiguration settings, string connectionString)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Configuration.AddConfiguration(settings);
    builder.Configuration["Postgres:ConnectionString"] = connectionString;
    builder.UseOrleans(silo => silo
        .UseLocalhostClustering(serviceId: settings["Orleans:ServiceId"]!, clusterId: settings["Orleans:ClusterId"]!)
        // Reminders also revive reaction workers (each silo starts its share itself); a real deployment uses a persistent reminder service.
        .UseInMemoryReminderService()
        .AddPostgresJournal("Postgres", options => options
            .Bind(builder.Configuration.GetSection("Postgres"))
            .Configure(BalancesProjection.Register)));
    return builder.Build();
}

static async Task PrintAccountsAsync(IGrainFactory grains)
{
    foreach (var id in new[] { "alice-checking", "alice-savings" })
    {
        var summary = await grains.GetGrain<IBankAccountGrain>(id).Summary();
        Console.WriteLine($"  {id,-15} owner {summary.Owner}, balance {summary.Balance,9:0.00}, {summary.Version} events");
    }
}
