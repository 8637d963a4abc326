using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// Where a commit's time goes beside the raw INSERT (<c>--only commitprofile</c>, printed, not reported), for a 50-event
/// batch and a single event: the server's time and WAL per statement (median of <c>EXPLAIN (ANALYZE, BUFFERS, WAL)</c>
/// on warmed tables), WAL per commit (the server's WAL position before and after 300 commits, commit records included),
/// and the client's share: <see cref="JournalStore.CommitAsync"/> against the very statement it sends, prepared and run
/// straight through Npgsql (same server work, none of the engine's C#), alternating.
/// </summary>
public static class CommitProfile
{
    public static async Task RunAsync(BenchContext context)
    {
        const string table = "prof_commits";
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = table });
        await journal.SeedAsync();
        var sql = new JournalSql($"{context.Schema}.{table}", JournalSchema.PositionsTable(context.Schema, table), offsetIsZero: true);
        var run = Guid.NewGuid().ToString("N")[..6];

        foreach (var size in new[] { 50, 1 })
        {
            var data = Enumerable.Repeat(BenchContext.Payload, size).ToArray();
            var names = Enumerable.Repeat("Deposited", size).ToArray();
            var events = data.Select(d => new EventData("Deposited", d)).ToArray();
            var versions = new Dictionary<string, long>();

            // A single event as the benchmark's rows send it: raw with VALUES, the engine with its scalar statement.
            NpgsqlParameter[] RawParameters(string stream, long version) =>
            [
                new NpgsqlParameter<string> { TypedValue = stream },
                new NpgsqlParameter<long> { TypedValue = version },
                size == 1
                    ? new NpgsqlParameter<string> { TypedValue = BenchContext.Payload, NpgsqlDbType = NpgsqlDbType.Jsonb }
                    : new NpgsqlParameter { Value = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb },
            ];

            NpgsqlParameter[] EngineParameters(string stream) =>
            [
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = stream },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = DBNull.Value },
                size == 1
                    ? new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = "Deposited" }
                    : new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = names },
                size == 1
                    ? new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Jsonb, TypedValue = BenchContext.Payload }
                    : new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb, Value = data },
                new NpgsqlParameter { NpgsqlDbType = size == 1 ? NpgsqlDbType.Uuid : NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = DBNull.Value },
            ];

            var engineSql = size == 1 ? sql.CommitOne : sql.Commit;
            string RawSql(string rawTable) => size == 1
                ? $"INSERT INTO {context.Schema}.{rawTable} (stream, version, name, data) VALUES ($1, $2, 'Deposited', $3)"
                : $"INSERT INTO {context.Schema}.{rawTable} (stream, version, name, data) SELECT $1, $2 + o, 'Deposited', d FROM unnest($3::jsonb[]) WITH ORDINALITY AS t(d, o)";

            // The statements, each on its own stream, as (label, text, parameters for the next call).
            var statements = new (string Label, string Sql, Func<NpgsqlParameter[]> Parameters)[]
            {
                ("raw INSERT", RawSql("raw_events"), () => RawParameters($"prof-raw-{run}-{size}", Next($"raw{size}", size))),
                ("raw INSERT, UNIQUE (stream, version)", RawSql("raw_events_occ"), () => RawParameters($"prof-occ-{run}-{size}", Next($"occ{size}", size))),
                ("engine commit statement", engineSql, () => EngineParameters($"prof-eng-{run}-{size}")),
            };

            long Next(string key, int step) => versions[key] = versions.GetValueOrDefault(key, -step) + step;

            Console.WriteLine($"{size}-event commits, server side (median of 101 EXPLAIN (ANALYZE, BUFFERS, WAL) after 100 warm-up runs):");
            foreach (var (label, text, parameters) in statements)
            {
                var samples = new List<(double Ms, long WalBytes, long WalRecords, long Hits)>();
                for (var i = 0; i < 201; i++)
                {
                    await using var explain = context.DataSource.CreateCommand("EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) " + text);
                    explain.Parameters.AddRange(parameters());
                    var json = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!).RootElement[0];
                    var plan = json.GetProperty("Plan");
                    if (i >= 100)
                    {
                        samples.Add((json.GetProperty("Execution Time").GetDouble(), Long(plan, "WAL Bytes"), Long(plan, "WAL Records"), Long(plan, "Shared Hit Blocks")));
                    }
                }

                var median = samples.OrderBy(s => s.Ms).ElementAt(samples.Count / 2);
                Console.WriteLine($"  {label}: {median.Ms:0.000} ms, {samples.Average(s => s.WalBytes):0} WAL bytes in {samples.Average(s => s.WalRecords):0} records, {samples.Average(s => s.Hits):0} buffer hits");
            }

            Console.WriteLine($"{size}-event commits, WAL per commit including the commit record (300 commits, one writer):");
            foreach (var (label, text, parameters) in statements)
            {
                var before = await context.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT pg_current_wal_insert_lsn()");
                for (var i = 0; i < 300; i++)
                {
                    await using var command = context.DataSource.CreateCommand(text);
                    command.Parameters.AddRange(parameters());
                    await command.ExecuteNonQueryAsync();
                }

                var after = await context.ScalarAsync<NpgsqlLogSequenceNumber>("SELECT pg_current_wal_insert_lsn()");
                Console.WriteLine($"  {label}: {(double)(ulong)(after - before) / 300:0} bytes");
            }

            // The client's share: the same statement, prepared, straight through Npgsql, against the engine's call.
            var stream = $"prof-client-{run}-{size}";
            var direct = TimeSpan.Zero;
            var engine = TimeSpan.Zero;
            for (var round = 0; round < 10; round++)
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < 100; i++)
                {
                    await using var connection = await context.DataSource.OpenConnectionAsync();
                    await using var command = new NpgsqlCommand(engineSql, connection);
                    command.Parameters.AddRange(EngineParameters(stream + "-direct"));
                    await command.PrepareAsync();
                    await using var reader = await command.ExecuteReaderAsync();
                    await reader.ReadAsync();
                    _ = (reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(size == 1 ? 2 : 3));
                }

                direct += round == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(started);
                started = Stopwatch.GetTimestamp();
                for (var i = 0; i < 100; i++)
                {
                    await journal.CommitAsync(stream + "-engine", events);
                }

                engine += round == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(started);
            }

            Console.WriteLine($"{size}-event commits, one writer, 900 each alternating in rounds of 100: the statement straight through Npgsql " +
                              $"{direct.TotalMilliseconds / 900:0.000} ms, JournalStore.CommitAsync {engine.TotalMilliseconds / 900:0.000} ms per commit");

            // The input checks alone (no I/O), the part of the client's share that grows with the batch.
            var checks = Stopwatch.StartNew();
            for (var i = 0; i < 10_000; i++)
            {
                CommitChecks.Batch(stream, events);
                CommitChecks.Metadata(EventMetadata.None, stream);
            }

            Console.WriteLine($"{size}-event commits: the input checks alone {checks.Elapsed.TotalMilliseconds / 10_000 * 1000:0.0} µs per commit (10,000 in a row, no I/O)");
        }
    }

    private static long Long(JsonElement plan, string property) => plan.TryGetProperty(property, out var value) ? value.GetInt64() : 0;
}
