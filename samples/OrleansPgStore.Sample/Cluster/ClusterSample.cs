using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using OrleansPgStore.Sample.Grains;

namespace OrleansPgStore.Sample.Cluster;

/// <summary>
/// <c>--cluster-silos=N</c> (build/run-cluster.sh): N silo processes and a client on PostgreSQL alone — membership, reminders,
/// journal, state and the balances projection all in one database, no localhost clustering, no in-memory reminders. Runs
/// a workload through the client, kills one silo with SIGKILL, shows the survivors take over, and stops everything.
/// </summary>
internal static class ClusterSample
{
    private const int Accounts = 12;

    public static async Task RunAsync(IConfiguration settings, string connectionString, int silos, IEnumerable<string> args)
    {
        if (silos < 1)
        {
            throw new ArgumentException($"--cluster-silos needs at least one silo, not {silos}.");
        }

        var schema = settings["Postgres:Schema"]!;
        var clusterId = settings["Orleans:ClusterId"]!;
        // Everything the sample was given goes to its silos too, with the server and ports of each.
        var passed = args.Where(a => !a.StartsWith("--cluster", StringComparison.Ordinal)).ToList();
        // Accounts of this run only, so a run against a server that kept earlier runs counts its own events.
        var run = Guid.NewGuid().ToString("N")[..6];
        string Account(int i) => $"{run}-acct-{i:00}";
        var children = new List<SiloChild>();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            Console.WriteLine();
            Console.WriteLine($"== Starting {silos} silo processes on PostgreSQL alone (UseOrleansPgStore: membership, reminders, journal, projection)");
            var started = Stopwatch.StartNew();
            for (var i = 0; i < silos; i++)
            {
                children.Add(SiloChild.Start(i, passed.Concat([
                    $"--Postgres:ConnectionString={connectionString}",
                    $"--silo-port={FreePort()}",
                    $"--gateway-port={FreePort()}",
                ])));
            }

            await Task.WhenAll(children.Select(c => c.Ready)).WaitAsync(TimeSpan.FromMinutes(3));
            Console.WriteLine($"  {silos} silos started in {started.Elapsed.TotalSeconds:0.0} s");

            var clientBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            clientBuilder.UseOrleansClient(client => client
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, settings["Orleans:ServiceId"]!))
                // The client finds the gateways in the membership table its silos keep.
                .UsePostgresClustering(o =>
                {
                    o.ConnectionString = connectionString;
                    o.Schema = schema;
                }));
            using var clientHost = clientBuilder.Build();
            await clientHost.StartAsync();
            var grains = clientHost.Services.GetRequiredService<IClusterClient>();
            await WaitAsync(async () => (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count == silos, "every silo is active");
            await PrintMembershipAsync(dataSource, schema, clusterId);

            Console.WriteLine();
            Console.WriteLine($"== A workload through the client: {Accounts} accounts opened, deposits and withdrawals");
            var expectedEvents = 0L;
            await Task.WhenAll(Enumerable.Range(1, Accounts).Select(async i =>
            {
                var account = grains.GetGrain<IBankAccountGrain>(Account(i));
                await account.Open($"owner-{i:00}");
                await account.Deposit(100m * i, "opening deposit");
                await account.Withdraw(i, "fee");
            }));
            expectedEvents += Accounts * 3;
            await PrintPlacementAsync(grains, children);
            expectedEvents = await WaitForProjectionAsync(dataSource, schema, run, expectedEvents);

            if (silos > 1)
            {
                var victim = children[^1];
                var address = await victim.Ready;
                Console.WriteLine();
                Console.WriteLine($"== kill -9 {victim.Name} ({address}): the survivors find out through probes and the membership table");
                victim.Kill();
                var killed = Stopwatch.StartNew();
                await WaitAsync(async () => await StatusAsync(dataSource, schema, clusterId, address) == SiloStatus.Dead, $"{victim.Name} is declared dead");
                Console.WriteLine($"  {victim.Name} is Dead in the membership table {killed.Elapsed.TotalSeconds:0.0} s after the kill");

                // Its accounts come back on the survivors from the journal, as if nothing happened.
                await Task.WhenAll(Enumerable.Range(1, Accounts).Select(async i =>
                    await grains.GetGrain<IBankAccountGrain>(Account(i)).Deposit(10m, "after the kill")));
                expectedEvents += Accounts;
                Console.WriteLine($"  every account took a deposit {killed.Elapsed.TotalSeconds:0.0} s after the kill");
                await PrintPlacementAsync(grains, children);
                await WaitForProjectionAsync(dataSource, schema, run, expectedEvents);
                await PrintMembershipAsync(dataSource, schema, clusterId);
            }

            Console.WriteLine();
            Console.WriteLine("== Balances");
            foreach (var i in new[] { 1, Accounts / 2, Accounts })
            {
                var summary = await grains.GetGrain<IBankAccountGrain>(Account(i)).Summary();
                Console.WriteLine($"  {Account(i)} balance {summary.Balance,9:0.00} after {summary.Version} events");
            }

            var reminders = await CountAsync(
                dataSource, $"SELECT count(*) FROM \"{schema}\".orleans_reminders WHERE service_id = $1", settings["Orleans:ServiceId"]!);
            Console.WriteLine($"  reminders in PostgreSQL (the reaction workers keep themselves alive with them): {reminders}");
            await clientHost.StopAsync();
        }
        finally
        {
            Console.WriteLine();
            Console.WriteLine("== Stopping the silos");
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }
    }

    private static async Task PrintMembershipAsync(NpgsqlDataSource dataSource, string schema, string clusterId)
    {
        Console.WriteLine($"  \"{schema}\".orleans_membership:");
        await using var command = dataSource.CreateCommand(
            $"SELECT silo_name, address, port, generation, status FROM \"{schema}\".orleans_membership WHERE cluster_id = $1 ORDER BY silo_name, generation");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Console.WriteLine($"    {reader.GetString(0),-6} {reader.GetValue(1)}:{reader.GetInt32(2)} generation {reader.GetInt32(3)}  {(SiloStatus)reader.GetInt32(4)}");
        }
    }

    private static async Task PrintPlacementAsync(IClusterClient grains, List<SiloChild> children)
    {
        var names = children.ToDictionary(c => SiloAddress.FromParsableString(c.Ready.Result), c => c.Name);
        var accounts = (await grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            .Where(s => s.GrainId.Type.ToString() == "account")
            .GroupBy(s => names.GetValueOrDefault(s.SiloAddress, s.SiloAddress.ToString()))
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        Console.WriteLine("  where the accounts run: " + string.Join(", ", accounts.Select(g => $"{g.Key}: {g.Count()}")));
    }

    /// <summary>Waits until the balances projection has counted <paramref name="expected"/> events; prints and returns its count.</summary>
    private static async Task<long> WaitForProjectionAsync(NpgsqlDataSource dataSource, string schema, string run, long expected)
    {
        var sql = $"SELECT coalesce(sum(events), 0)::bigint FROM \"{schema}\".account_balances WHERE account LIKE $1";
        await WaitAsync(async () => await CountAsync(dataSource, sql, run + "-%") >= expected, $"the projection has {expected} events");
        var projected = await CountAsync(dataSource, sql, run + "-%");
        Console.WriteLine($"  the balances projection has counted {projected} of {expected} events, each once");
        return projected;
    }

    private static async Task<SiloStatus?> StatusAsync(NpgsqlDataSource dataSource, string schema, string clusterId, string address)
    {
        var silo = SiloAddress.FromParsableString(address);
        await using var command = dataSource.CreateCommand(
            $"SELECT status FROM \"{schema}\".orleans_membership WHERE cluster_id = $1 AND port = $2 AND generation = $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = silo.Endpoint.Port });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = silo.Generation });
        return await command.ExecuteScalarAsync() is int status ? (SiloStatus)status : null;
    }

    private static async Task<long> CountAsync(NpgsqlDataSource dataSource, string sql, string? parameter = null)
    {
        await using var command = dataSource.CreateCommand(sql);
        if (parameter is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = parameter });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting until {what}.");
            }

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
