using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Npgsql;
using OrleansPgStore.Benchmarks;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Plugin.Benchmarks.Failover;

/// <summary>
/// <c>--scenario failover</c>: silo processes of tests/OrleansPgStore.ClusterSilo (UseOrleansPgStore alone, the
/// membership settings of docs/clustering-and-reminders.md) on an empty schema per round: the first silo's start on the
/// empty schema (it creates every table), two more, then SIGKILL of one and the times until its membership row is Dead
/// and until a reminder of a grain it hosted fires on a survivor. Medians over <c>--rounds</c> (default 3). With
/// <c>--adonet-scripts DIR</c> (as <c>--scenario tables</c>) each round also runs the same silos on Orleans' ADO.NET
/// clustering and reminders, in a database of its own with Orleans' scripts applied, as the baseline.
/// </summary>
internal static class FailoverBenchmark
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public static async Task RunAsync(BenchmarkArguments arguments, Report report)
    {
        var rounds = (int)arguments.Number("--rounds", 3);
        // Optional baseline: Orleans' ADO.NET providers, with their scripts (see --scenario tables) applied by hand.
        var scripts = arguments.String("--adonet-scripts");
        var external = Environment.GetEnvironmentVariable("ORLEANSPGSTORE_BENCH_CONNECTION");
        await using var server = external is null ? await PrivatePostgresCluster.StartAsync(durable: true) : null;
        var connectionString = external ?? server!.ConnectionString;
        Console.WriteLine($"Failover: {rounds} rounds of 3 silo processes on an empty schema{(scripts is null ? "" : ", each side")}; " +
                          $"{Environment.ProcessorCount} cores; server fsync=on");
        var ours = new List<(double Start, double Dead, double Reminder)>();
        var ado = new List<(double Start, double Dead, double Reminder)>();
        for (var round = 0; round < rounds; round++)
        {
            var result = await RunRoundAsync(connectionString, adoNet: false, round);
            Console.WriteLine($"  round {round + 1}, OrleansPgStore: first silo on the empty schema {result.Start:0.00} s; kill → Dead {result.Dead:0.00} s; kill → reminder on a survivor {result.Reminder:0.00} s");
            ours.Add(result);
            if (scripts is not null)
            {
                var database = await CreateAdoNetDatabaseAsync(connectionString, scripts);
                result = await RunRoundAsync(database, adoNet: true, round);
                Console.WriteLine($"  round {round + 1}, ADO.NET:        first silo on the scripted database {result.Start:0.00} s; kill → Dead {result.Dead:0.00} s; kill → reminder on a survivor {result.Reminder:0.00} s");
                ado.Add(result);
            }
        }

        var rows = new (string Scenario, Func<(double Start, double Dead, double Reminder), double> Value)[]
        {
            ("Cluster: first silo process start, to ready (median; OrleansPgStore creates every table, ADO.NET's scripts applied by hand)", r => r.Start),
            ("Cluster: kill -9 of 1 of 3 silos → its membership row Dead (median)", r => r.Dead),
            ("Cluster: kill -9 of 1 of 3 silos → its grain's reminder fires on a survivor, 1 s period (median)", r => r.Reminder),
        };
        foreach (var (scenario, value) in rows)
        {
            if (scripts is null)
            {
                report.AddValue(scenario, Median(ours.Select(value)), "s", "");
            }
            else
            {
                report.Add(scenario, Median(ado.Select(value)), Median(ours.Select(value)), "s", "", lowerIsBetter: true);
            }
        }
    }

    /// <summary>A database of its own with Orleans' ADO.NET PostgreSQL scripts applied.</summary>
    private static async Task<string> CreateAdoNetDatabaseAsync(string connectionString, string folder)
    {
        var name = $"failover_adonet_{Guid.NewGuid().ToString("N")[..8]}";
        await using (var admin = NpgsqlDataSource.Create(connectionString))
        {
            await ExecAsync(admin, $"CREATE DATABASE {name}");
        }

        var database = new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString;
        await using var source = NpgsqlDataSource.Create(database);
        foreach (var script in (string[])["PostgreSQL-Main.sql", "PostgreSQL-Clustering.sql", "PostgreSQL-Reminders.sql"])
        {
            await ExecAsync(source, await File.ReadAllTextAsync(Path.Combine(folder, script)));
        }

        return database;
    }

    private static async Task<(double Start, double Dead, double Reminder)> RunRoundAsync(string connectionString, bool adoNet, int round)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var schema = $"failover_{Guid.NewGuid().ToString("N")[..8]}";
        var cluster = $"failover-{round}";
        // The ClusterSilo's own tables (its TestTables); the silos create every OrleansPgStore table.
        await ExecAsync(dataSource, $"""
            CREATE SCHEMA "{schema}";
            CREATE TABLE "{schema}".ticks (grain text NOT NULL, silo text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE TABLE "{schema}".model (position bigint NOT NULL, stream text NOT NULL, silo text NOT NULL);
            CREATE TABLE "{schema}".stall (target text PRIMARY KEY, silo text NOT NULL);
            """);
        var silos = new List<(string Name, Process Process, Task<string> Ready)>();
        try
        {
            var started = Stopwatch.StartNew();
            silos.Add(Start("s1", connectionString, schema, cluster, adoNet));
            await silos[0].Ready.WaitAsync(Patience);
            var start = started.Elapsed.TotalSeconds;
            silos.Add(Start("s2", connectionString, schema, cluster, adoNet));
            silos.Add(Start("s3", connectionString, schema, cluster, adoNet));
            await Task.WhenAll(silos.Select(s => s.Ready)).WaitAsync(Patience);
            await WaitAsync(async () => await ScalarAsync(dataSource, $"SELECT count(DISTINCT silo) FROM \"{schema}\".ticks") == 3, "every silo's ticker ticked");

            var victim = silos[^1];
            var port = SiloAddress.FromParsableString(await victim.Ready).Endpoint.Port;
            victim.Process.Kill();
            var killed = Stopwatch.StartNew();
            object? killedAt;
            await using (var now = dataSource.CreateCommand("SELECT clock_timestamp()"))
            {
                killedAt = await now.ExecuteScalarAsync();
            }

            var dead = Task.Run(async () =>
            {
                var membership = adoNet
                    ? $"SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = $1 AND port = $2 AND status = {(int)SiloStatus.Dead}"
                    : $"SELECT count(*) FROM \"{schema}\".orleans_membership WHERE cluster_id = $1 AND port = $2 AND status = {(int)SiloStatus.Dead}";
                await WaitAsync(async () => await ScalarAsync(dataSource, membership, cluster, port) == 1, "the killed silo is Dead");
                return killed.Elapsed.TotalSeconds;
            });
            var reminder = Task.Run(async () =>
            {
                await WaitAsync(async () => await ScalarAsync(dataSource,
                    $"SELECT count(*) FROM \"{schema}\".ticks WHERE grain LIKE 's3-%' AND silo <> 's3' AND at > $1", killedAt!) > 0, "a reminder of the killed silo's grain fired on a survivor");
                return killed.Elapsed.TotalSeconds;
            });
            return (start, await dead, await reminder);
        }
        finally
        {
            foreach (var (_, process, _) in silos)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                process.Dispose();
            }

            await ExecAsync(dataSource, $"DROP SCHEMA \"{schema}\" CASCADE");
        }
    }

    /// <summary>Starts a ClusterSilo (<c>dotnet OrleansPgStore.ClusterSilo.dll</c>) with two ticker grains; its stdin stays open while it runs.</summary>
    private static (string Name, Process Process, Task<string> Ready) Start(string name, string connectionString, string schema, string cluster, bool adoNet)
    {
        var dll = typeof(FailoverBenchmark).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ClusterSilo").Value!;
        var start = new ProcessStartInfo
        {
            FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     dll, $"--name={name}", $"--connection={connectionString}", $"--schema={schema}", $"--cluster={cluster}",
                     $"--silo-port={FreePort()}", $"--gateway-port={FreePort()}", "--tickers=2",
                 }.Concat(adoNet ? [$"--adonet={connectionString}"] : []))
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("READY ", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult(e.Data["READY ".Length..].Trim());
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null && (e.Data.Contains("crit:", StringComparison.Ordinal) || e.Data.Contains("Released", StringComparison.Ordinal)))
            {
                Console.WriteLine($"    [{name}] {(e.Data.Length > 200 ? e.Data[..200] + " …" : e.Data)}");
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (name, process, ready.Task);
    }

    private static async Task ExecAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql, params object[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting until {what}.");
            }

            await Task.Delay(50);
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
