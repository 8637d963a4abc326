using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Benchmarks;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.State;
using OrleansPgStore.Testing;

// Measures the engine against raw SQL doing the same work on the same server, pool and run, and prints ratios.
// Usage: dotnet run -c Release --project tests/OrleansPgStore.Benchmarks -- [--seconds N] [--out FILE] [--hold-seconds N]
//        [--only journal,batches,commitprofile,state,reactions,latency,unrelated,projections,tracing,killstorm,liveness,drainprofile,latencyprofile,
//         drainstatements (needs pg_stat_statements: ORLEANSPGSTORE_BENCH_CONNECTION),advancetiming]
//        [--streams 100,1000 (projections)] [--restarts N] [--drains N (liveness, drainstatements, advancetiming)] [--liveness crash,quiet,shares]
var arguments = new BenchmarkArguments(args);
var seconds = arguments.Number("--seconds", 3.0);
var outFile = arguments.String("--out");
var duration = TimeSpan.FromSeconds(seconds);

var externalServer = Environment.GetEnvironmentVariable("ORLEANSPGSTORE_BENCH_CONNECTION");
await using var cluster = externalServer is null ? await PrivatePostgresCluster.StartAsync(durable: true) : null;
var connectionString = new NpgsqlConnectionStringBuilder(externalServer ?? cluster!.ConnectionString)
{
    MaxPoolSize = 100,
    MinPoolSize = 0,
    NoResetOnClose = true,
}.ConnectionString;
await using var dataSource = NpgsqlDataSource.Create(connectionString);
var schema = "bench_" + Guid.NewGuid().ToString("N")[..8];

await Exec($"""
    CREATE SCHEMA {schema};
    CREATE TABLE {schema}.raw_events (id bigserial PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL,
        name text NOT NULL, data jsonb NOT NULL, created timestamptz NOT NULL DEFAULT now());
    CREATE TABLE {schema}.raw_events_occ (id bigserial PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL,
        name text NOT NULL, data jsonb NOT NULL, created timestamptz NOT NULL DEFAULT now(), UNIQUE (stream, version));
    CREATE TABLE {schema}.raw_state (persistence_id text PRIMARY KEY, revision bigint NOT NULL, state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now());
    """);
await using var journal = new JournalStore(new JournalStoreOptions { DataSource = dataSource, Schema = schema });
await using var state = new DurableStateStore(new DurableStateStoreOptions { DataSource = dataSource, Schema = schema });
await journal.SeedAsync();
await state.SeedAsync();

var report = new Report();
Console.WriteLine($"Server: PostgreSQL {await Scalar<string>("SHOW server_version")}, fsync={await Scalar<string>("SHOW fsync")}, " +
                  $"synchronous_commit={await Scalar<string>("SHOW synchronous_commit")}; {Environment.ProcessorCount} cores; {seconds}s per measurement");

var context = new BenchContext(dataSource, schema, duration, report) { ConnectionString = connectionString };
var only = arguments.String("--only")?.Split(',') ?? ["journal", "state", "reactions", "unrelated", "projections", "tracing", "killstorm", "liveness"];
if (only.Contains("drainprofile"))
{
    await DrainProfile.RunAsync(context);
}

if (only.Contains("drainstatements"))
{
    await DrainStatements.RunAsync(context, (int)arguments.Number("--drains", 4));
}

if (only.Contains("advancetiming"))
{
    await AdvanceTiming.RunAsync(context, (int)arguments.Number("--drains", 100));
}

if (only.Contains("commitprofile"))
{
    await CommitProfile.RunAsync(context);
}

if (only.Contains("latencyprofile"))
{
    await LatencyProfile.RunAsync(context);
}

if (only.Contains("journal") || only.Contains("batches"))
{
    await JournalBenchmarks.RunAsync(context, journal, batchesOnly: !only.Contains("journal"));
}

if (only.Contains("state"))
{
    await StateBenchmarks.RunAsync(context, state);
}

if (only.Contains("reactions"))
{
    await ReactionBenchmarks.RunAsync(context);
}

if (only.Contains("latency"))
{
    // Commit → handler latency alone (also part of "reactions").
    await ReactionBenchmarks.CommitToHandlerLatencyAsync(context);
}

if (only.Contains("unrelated"))
{
    await ReactionBenchmarks.UnrelatedTransactionAsync(context, TimeSpan.FromSeconds(arguments.Number("--hold-seconds", 60)));
}

if (only.Contains("projections"))
{
    await ProjectionBenchmarks.RunAsync(context, arguments.String("--streams")?.Split(',').Select(int.Parse).ToList());
}

if (only.Contains("tracing"))
{
    await TracingBenchmarks.RunAsync(context, journal);
}

if (only.Contains("killstorm"))
{
    await KillStormBenchmarks.RunAsync(context);
}

if (only.Contains("liveness"))
{
    await LivenessBenchmarks.RunAsync(context, cluster, (int)arguments.Number("--restarts", 10), (int)arguments.Number("--drains", 8),
        arguments.String("--liveness")?.Split(',') ?? ["crash", "quiet", "shares"]);
}

var table = report.ToMarkdown();
Console.WriteLine();
Console.WriteLine(table);
if (outFile is not null)
{
    await File.WriteAllTextAsync(outFile, table);
}

await Exec($"DROP SCHEMA {schema} CASCADE");
return;

async Task Exec(string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    await command.ExecuteNonQueryAsync();
}

async Task<T> Scalar<T>(string sql)
{
    await using var command = dataSource.CreateCommand(sql);
    return (T)(await command.ExecuteScalarAsync())!;
}
