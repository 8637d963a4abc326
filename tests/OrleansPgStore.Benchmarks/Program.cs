using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Benchmarks;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.State;
using OrleansPgStore.TestDatabase;

// Measures the engine against raw SQL doing the same work on the same server, pool and run, and prints ratios.
// Usage: dotnet run -c Release --project tests/OrleansPgStore.Benchmarks -- [--seconds N] [--out FILE]
var seconds = ArgValue("--seconds", 3.0);
var outFile = ArgString("--out");
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
    CREATE TABLE {schema}.raw_state (persistence_id text PRIMARY KEY, revision bigint NOT NULL, state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now());
    """);
await using var journal = new JournalStore(new JournalStoreOptions { DataSource = dataSource, Schema = schema });
await using var state = new DurableStateStore(new DurableStateStoreOptions { DataSource = dataSource, Schema = schema });
await journal.SeedAsync();
await state.SeedAsync();

const string payload = """{"amount":42,"currency":"EUR","note":"benchmark payload"}""";
var report = new Report();
Console.WriteLine($"Server: PostgreSQL {await Scalar<string>("SHOW server_version")}, fsync={await Scalar<string>("SHOW fsync")}, " +
                  $"synchronous_commit={await Scalar<string>("SHOW synchronous_commit")}; {Environment.ProcessorCount} cores; {seconds}s per measurement");

// 1. Single-event commits on distinct streams vs a bare single-row INSERT transaction.
Measurement? rawSingle = null, oursSingle = null;
foreach (var writers in new[] { 1, 4, 16, 64 })
{
    var run = Guid.NewGuid().ToString("N")[..6];
    var raw = await Harness.RunAsync(writers, duration, async (w, i) =>
    {
        await using var command = dataSource.CreateCommand($"INSERT INTO {schema}.raw_events (stream, version, name, data) VALUES ($1, $2, $3, $4::jsonb)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"raw-{run}-{w}" });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = i });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "Deposited" });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload });
        await command.ExecuteNonQueryAsync();
    });
    var versions = new long[writers];
    Array.Fill(versions, -1);
    var ours = await Harness.RunAsync(writers, duration, async (w, _) =>
    {
        var committed = await journal.CommitAsync($"ours-{run}-{w}", [new EventData("Deposited", payload)], expectedVersion: versions[w]);
        versions[w] = committed[^1].Version;
    });
    report.Add($"Commit 1 event, {writers} writer(s), distinct streams (commits/s)", raw.PerSecond, ours.PerSecond, "/s",
        writers == 16 ? "≥ 0.9×" : "");
    if (writers == 1)
    {
        (rawSingle, oursSingle) = (raw, ours);
    }
}

report.Add("Single-writer commit latency p50", rawSingle!.Percentile(50), oursSingle!.Percentile(50), "ms", "≤ 1.2×", lowerIsBetter: true);
report.Add("Single-writer commit latency p99", rawSingle.Percentile(99), oursSingle.Percentile(99), "ms", "≤ 1.2×", lowerIsBetter: true);

// 2. 50-event batches, 4 writers, vs a raw 50-row INSERT ... SELECT FROM unnest.
{
    var run = Guid.NewGuid().ToString("N")[..6];
    var batchData = Enumerable.Repeat(payload, 50).ToArray();
    var raw = await Harness.RunAsync(4, duration, async (w, i) =>
    {
        await using var command = dataSource.CreateCommand(
            $"INSERT INTO {schema}.raw_events (stream, version, name, data) SELECT $1, $2 + o, 'Deposited', d FROM unnest($3::jsonb[]) WITH ORDINALITY AS t(d, o)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"rawbatch-{run}-{w}" });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = i * 50 });
        command.Parameters.Add(new NpgsqlParameter { Value = batchData, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync();
    });
    var batch = batchData.Select(d => new EventData("Deposited", d)).ToArray();
    var ours = await Harness.RunAsync(4, duration, (w, _) => journal.CommitAsync($"batch-{run}-{w}", batch));
    report.Add("Commit 50-event batches, 4 writers (events/s)", raw.PerSecond * 50, ours.PerSecond * 50, "/s", "");
}

// 3. Loading a 10,000-event stream, without and with a snapshot at 9,990, vs a raw SELECT of the same rows.
{
    for (var i = 0; i < 20; i++)
    {
        var events = Enumerable.Range(0, 500).Select(_ => new EventData("Deposited", payload)).ToArray();
        await journal.CommitAsync("load-plain", events);
        await journal.CommitAsync("load-snap", events);
    }

    await journal.SaveSnapshotAsync("load-snap", 9990, """{"balance":419580}""");
    await Exec($"VACUUM ANALYZE {schema}.events");

    async Task<int> RawSelect(string stream, long fromVersion)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT position, stream, version, name, data::text, snapshot, event_id, correlation, causation::text, created " +
            $"FROM {schema}.events WHERE stream = $1 AND version >= $2 ORDER BY version, snapshot");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromVersion });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            _ = (reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4),
                reader.GetBoolean(5), reader.IsDBNull(6), reader.IsDBNull(7), reader.IsDBNull(8), reader.GetFieldValue<DateTimeOffset>(9));
            rows++;
        }

        return rows;
    }

    async Task<int> Load(string stream)
    {
        var rows = 0;
        await foreach (var _ in journal.LoadAsync(stream))
        {
            rows++;
        }

        return rows;
    }

    var rawPlain = await Harness.MedianMsAsync(15, () => RawSelect("load-plain", 0));
    var oursPlain = await Harness.MedianMsAsync(15, () => Load("load-plain"));
    report.Add("Load a 10,000-event stream, no snapshot (events/s)", 10_000 / rawPlain * 1000, 10_000 / oursPlain * 1000, "/s", "≥ 0.9×");
    var rawSnap = await Harness.MedianMsAsync(50, () => RawSelect("load-snap", 9990));
    var oursSnap = await Harness.MedianMsAsync(50, () => Load("load-snap"));
    report.Add("Load it with a snapshot at 9,990 (time; raw = SELECT of the same 10 rows)", rawSnap, oursSnap, "ms", "");
    report.AddValue("Load it with a snapshot at 9,990 vs without (time ratio)", oursSnap / oursPlain * 100, "% of full load", "");
}

// 4. Durable-state upserts vs a raw single-row UPDATE.
foreach (var writers in new[] { 1, 16 })
{
    var run = Guid.NewGuid().ToString("N")[..6];
    for (var w = 0; w < writers; w++)
    {
        await Exec($"INSERT INTO {schema}.raw_state VALUES ('raw-{run}-{w}', 1, '{payload}')");
    }

    var raw = await Harness.RunAsync(writers, duration, async (w, _) =>
    {
        await using var command = dataSource.CreateCommand(
            $"UPDATE {schema}.raw_state SET state = $2::jsonb, revision = revision + 1, updated_at = now() WHERE persistence_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"raw-{run}-{w}" });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = payload });
        await command.ExecuteNonQueryAsync();
    });
    var revisions = new long[writers];
    var ours = await Harness.RunAsync(writers, duration, async (w, _) =>
        revisions[w] = await state.UpsertAsync($"ours-{run}-{w}", revisions[w], payload));
    report.Add($"State upsert, {writers} writer(s) (writes/s)", raw.PerSecond, ours.PerSecond, "/s", "≥ 0.8×");
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

double ArgValue(string name, double fallback)
{
    var value = ArgString(name);
    return value is null ? fallback : double.Parse(value, CultureInfo.InvariantCulture);
}

string? ArgString(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
