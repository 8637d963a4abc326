using OrleansPgStore.Store;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.TestingHost;
using OrleansPgStore.Benchmarks;
using OrleansPgStore.Hosting;
using OrleansPgStore.Plugin.Benchmarks;
using OrleansPgStore.Plugin.Benchmarks.ScaleOut;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.State;
using OrleansPgStore.Testing;

// Measures the Orleans plugin against the engine calls it makes, in one run on one server, and prints ratios:
// activation time against history length (snapshots on), RaiseEvent+ConfirmEvents and WriteStateAsync throughput
// across 64 grains against raw engine commits and upserts at the same concurrency.
// Usage: dotnet run -c Release --project tests/OrleansPgStore.Plugin.Benchmarks -- [--seconds N] [--out FILE]
// --scenario scaleout instead drains a projection with 1, 2 and 3 silo processes and times the handover after killing
// one (ScaleOut/ScaleOutBenchmark.cs); its child processes run this executable with --silo. --scenario tables compares
// the membership and reminder tables with Orleans' ADO.NET providers (Tables/ClusterTablesBenchmark.cs). --scenario
// failover times a silo start on an empty schema and the failover after a kill -9 (Failover/FailoverBenchmark.cs).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var arguments = new BenchmarkArguments(args);
var seconds = arguments.Number("--seconds", 3.0);
var outFile = arguments.String("--out");
if (args.Contains("--silo"))
{
    await ScaleOutSilo.RunAsync(arguments);
    return;
}

if (arguments.String("--scenario") == "tables")
{
    var tables = new Report();
    await OrleansPgStore.Plugin.Benchmarks.Tables.ClusterTablesBenchmark.RunAsync(arguments, tables);
    Console.WriteLine();
    Console.WriteLine(tables.ToMarkdown());
    if (outFile is not null)
    {
        await File.WriteAllTextAsync(outFile, tables.ToMarkdown());
    }

    return;
}

if (arguments.String("--scenario") == "failover")
{
    var failover = new Report();
    await OrleansPgStore.Plugin.Benchmarks.Failover.FailoverBenchmark.RunAsync(arguments, failover);
    Console.WriteLine();
    Console.WriteLine(failover.ToMarkdown());
    if (outFile is not null)
    {
        await File.WriteAllTextAsync(outFile, failover.ToMarkdown());
    }

    return;
}

if (arguments.String("--scenario") == "scaleout")
{
    var scaleOut = new Report();
    await ScaleOutBenchmark.RunAsync(arguments, scaleOut);
    Console.WriteLine();
    Console.WriteLine(scaleOut.ToMarkdown());
    if (outFile is not null)
    {
        await File.WriteAllTextAsync(outFile, scaleOut.ToMarkdown());
    }

    return;
}

var duration = TimeSpan.FromSeconds(seconds);
const int Writers = 64;
const int SnapshotInterval = 100;
const int EngineReplay = -1; // the key of the engine's own replay timings in MeasureActivationAsync

var externalServer = Environment.GetEnvironmentVariable("ORLEANSPGSTORE_BENCH_CONNECTION");
await using var server = externalServer is null ? await PrivatePostgresCluster.StartAsync(durable: true) : null;
var connectionString = new NpgsqlConnectionStringBuilder(externalServer ?? server!.ConnectionString) { MaxPoolSize = 100 }.ConnectionString;
var schema = "pbench_" + Guid.NewGuid().ToString("N")[..8];

var builder = new InProcessTestClusterBuilder(1);
builder.Options.ConfigureFileLogging = false;
builder.ConfigureSilo((_, silo) => silo.AddPostgresJournal(options =>
{
    options.ConnectionString = connectionString;
    options.Schema = schema;
    options.SnapshotInterval = SnapshotInterval;
}));
await using var cluster = builder.Build();
await cluster.DeployAsync();
var stores = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PgStore>("Postgres");
var grains = cluster.Client;
var report = new Report();
Console.WriteLine($"Server fsync={await ScalarAsync("SHOW fsync")}, synchronous_commit={await ScalarAsync("SHOW synchronous_commit")}; " +
                  $"{Environment.ProcessorCount} cores; {seconds}s per measurement; one silo in process");

// 1. Activation against history length. Each history ends like a grain's own: a snapshot at the last multiple of
//    the interval, then the events after it; activation reads the snapshot and that tail.
var histories = new[] { 100, 10_000, 100_000 };
foreach (var history in histories)
{
    await SeedHistoryAsync($"bench-account/history-{history}", history + 50);
}

var activation = await MeasureActivationAsync();
// The seeded snapshots were read as they are: an unreadable one is rebuilt from the events and replaced at the head.
if (await ScalarAsync($"SELECT count(*)::text FROM {stores.Journal.QualifiedTable} WHERE snapshot AND stream LIKE 'bench-account/history-%'")
    != histories.Length.ToString(CultureInfo.InvariantCulture))
{
    throw new InvalidOperationException("The seeded snapshots were not read as they are: the activations above rebuilt them.");
}

foreach (var history in new[] { 10_000, 100_000 })
{
    report.Add($"Activation (first call) with {history:#,0} events of history vs 100, snapshots on (median ms)", activation[100], activation[history], "ms", "≤ 1.2×", lowerIsBetter: true);
}

// 2. One event per call from 64 writers on 64 grains vs the engine's commit on 64 streams.
{
    var run = Guid.NewGuid().ToString("N")[..6];
    var versions = new long[Writers];
    Array.Fill(versions, -1);
    var raw = await Harness.RunAsync(Writers, duration, async (w, _) =>
    {
        var committed = await stores.Journal.CommitAsync($"raw-{run}-{w}", [new EventData("bench.deposited", """{"amount":1}""")], expectedVersion: versions[w]);
        versions[w] = committed[^1].Version;
    });
    Array.Fill(versions, -1);
    var rawWithIds = await Harness.RunAsync(Writers, duration, async (w, _) =>
    {
        var committed = await stores.Journal.CommitAsync(
            $"raw-ids-{run}-{w}", [new EventData("bench.deposited", """{"amount":1}""", Guid.CreateVersion7())], expectedVersion: versions[w]);
        versions[w] = committed[^1].Version;
    });
    var ours = await Harness.RunAsync(Writers, duration, (w, _) => grains.GetGrain<IBenchAccountGrain>($"writer-{run}-{w}").Deposit(1));
    report.Add($"RaiseEvent+ConfirmEvents, {Writers} grains vs engine commit (events/s)", raw.PerSecond, ours.PerSecond, "/s", "≥ 0.8×");
    report.Add($"RaiseEvent+ConfirmEvents, {Writers} grains vs engine commit with event ids (events/s)", rawWithIds.PerSecond, ours.PerSecond, "/s", "");
}

// 3. WriteStateAsync from 64 grains vs the engine's upsert on 64 ids.
{
    var run = Guid.NewGuid().ToString("N")[..6];
    var revisions = new long[Writers];
    var raw = await Harness.RunAsync(Writers, duration, async (w, i) =>
        revisions[w] = await stores.States.UpsertAsync($"raw-{run}-{w}", revisions[w], $$"""{"visits":{{i}},"note":"n"}"""));
    var ours = await Harness.RunAsync(Writers, duration, (w, _) => grains.GetGrain<IBenchProfileGrain>($"writer-{run}-{w}").Visit("n"));
    report.Add($"[PersistentState] WriteStateAsync, {Writers} grains vs engine upsert (writes/s)", raw.PerSecond, ours.PerSecond, "/s", "");
}

// 4. Activation again, now that 64 concurrent writers have widened the connection pool: reads land on physical
//    connections that have never run them. The figure should not depend on the pool's history.
{
    var afterBurst = await MeasureActivationAsync();
    report.Add("Activation with 10,000 events of history: after a 64-way write burst vs fresh silo (median ms)", activation[10_000], afterBurst[10_000], "ms", "≤ 1.2×", lowerIsBetter: true);
    report.Add("Engine ReplayAsync of that stream on the same pool: after the burst vs fresh (median ms)", activation[EngineReplay], afterBurst[EngineReplay], "ms", "", lowerIsBetter: true);

    // The same read on a one-connection pool opened now, same server: if this one is fast, what the burst left behind
    // is on the pool's side (its many idle connections taken in turn), not the server's.
    await using var single = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1 }.ConnectionString);
    await using var singleJournal = new JournalStore(new JournalStoreOptions { DataSource = single, Schema = schema });
    var singleTimings = new List<double>();
    for (var round = 0; round < 101; round++)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await foreach (var _ in singleJournal.ReplayAsync("bench-account/history-10000"))
        {
        }

        if (round > 0)
        {
            singleTimings.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    report.Add("Engine ReplayAsync of that stream after the burst: one-connection pool vs the silo's pool (median ms)",
        afterBurst[EngineReplay], singleTimings.Order().ElementAt(singleTimings.Count / 2), "ms", "", lowerIsBetter: true);
}

Console.WriteLine();
Console.WriteLine(report.ToMarkdown());
if (outFile is not null)
{
    await File.WriteAllTextAsync(outFile, report.ToMarkdown());
}

await cluster.StopAllSilosAsync();
return;

// Activation time per history length: each round deactivates and re-activates every grain once. The sizes take turns,
// so noise from other work on the machine spreads evenly over them.
async Task<Dictionary<int, double>> MeasureActivationAsync()
{
    var timings = histories.Append(EngineReplay).ToDictionary(h => h, _ => new List<double>());
    for (var round = 0; round < 101; round++)
    {
        foreach (var history in histories)
        {
            var grain = grains.GetGrain<IBenchAccountGrain>($"history-{history}");
            await cluster.DeactivateAsync(grain);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (await grain.Balance() != history + 50)
            {
                throw new InvalidOperationException($"Activation of history-{history} read a wrong balance.");
            }

            if (round > 0)
            {
                timings[history].Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        // The engine's own read of the 10,000-event stream on the same pool: tells the database side from Orleans'.
        var replayStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        await foreach (var _ in stores.Journal.ReplayAsync("bench-account/history-10000"))
        {
        }

        if (round > 0)
        {
            timings[EngineReplay].Add(System.Diagnostics.Stopwatch.GetElapsedTime(replayStarted).TotalMilliseconds);
        }
    }

    return timings.ToDictionary(t => t.Key, t => t.Value.Order().ElementAt(t.Value.Count / 2));
}

// Writes a grain's history straight through the engine, in batches, with a snapshot where the grain would have
// written its last one.
async Task SeedHistoryAsync(string stream, int events)
{
    const int batch = 5_000;
    for (var written = 0; written < events; written += batch)
    {
        var count = Math.Min(batch, events - written);
        await stores.Journal.CommitAsync(stream, Enumerable.Range(0, count).Select(_ => new EventData("bench.deposited", """{"amount":1}""")).ToList());
    }

    var snapshotAt = events / SnapshotInterval * SnapshotInterval;
    await stores.Journal.SaveSnapshotAsync(stream, snapshotAt - 1, SnapshotPayload(snapshotAt, new BenchAccountState { Balance = snapshotAt }));
}

// The snapshot payload the grain writes: its state in Orleans' serialization, base64, beside the grain version.
string SnapshotPayload(int grainVersion, BenchAccountState state)
{
    var services = cluster.Silos[0].ServiceProvider;
    return System.Text.Json.JsonSerializer.Serialize(new
    {
        grainVersion,
        format = "orleans",
        type = services.GetRequiredService<Orleans.Serialization.TypeSystem.TypeConverter>().Format(typeof(BenchAccountState)),
        state = services.GetRequiredService<Orleans.Serialization.Serializer>().SerializeToArray(state),
    });
}

async Task<string> ScalarAsync(string sql)
{
    await using var command = stores.DataSource.CreateCommand(sql);
    return (string)(await command.ExecuteScalarAsync())!;
}
