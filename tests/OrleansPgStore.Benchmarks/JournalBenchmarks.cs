using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Benchmarks;

/// <summary>Journal scenarios, each against raw SQL doing the same work on the same pool.</summary>
public static class JournalBenchmarks
{
    /// <param name="context">The run.</param>
    /// <param name="journal">The store measured.</param>
    /// <param name="batchesOnly">Only the 50-event batches (<c>--only batches</c>), e.g. for an A/B of the batch commit.</param>
    public static async Task RunAsync(BenchContext context, JournalStore journal, bool batchesOnly = false)
    {
        if (batchesOnly)
        {
            await BatchesAsync(context, journal);
            return;
        }

        // 1. Single-event commits on distinct streams vs a bare single-row INSERT transaction, and vs the same INSERT
        // into a table with the key our optimistic concurrency needs, UNIQUE (stream, version) (one more index to write).
        Measurement? rawSingle = null, occSingle = null, oursSingle = null;
        foreach (var writers in new[] { 1, 4, 16, 64 })
        {
            var run = Guid.NewGuid().ToString("N")[..6];
            var versions = new long[writers];
            Array.Fill(versions, -1);
            Func<int, long, Task> RawInsert(string table, string prefix) => async (w, i) =>
            {
                await using var command = context.DataSource.CreateCommand($"INSERT INTO {context.Schema}.{table} (stream, version, name, data) VALUES ($1, $2, $3, $4::jsonb)");
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"{prefix}-{run}-{w}" });
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = i });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "Deposited" });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = BenchContext.Payload });
                await command.ExecuteNonQueryAsync();
            };
            var runs = await Harness.AlternatingRunAsync(writers, context.Duration,
            [
                RawInsert("raw_events", "raw"),
                // Stream names as long as ours ("ours-…"): the stream is stored in the row and in the key.
                RawInsert("raw_events_occ", "occ1"),
                async (w, _) =>
                {
                    var committed = await journal.CommitAsync($"ours-{run}-{w}", [new EventData("Deposited", BenchContext.Payload)], expectedVersion: versions[w]);
                    versions[w] = committed[^1].Version;
                },
            ]);
            var (raw, occ, ours) = (runs[0], runs[1], runs[2]);
            context.Report.Add($"Commit 1 event, {writers} writer(s), distinct streams (commits/s)", raw.PerSecond, ours.PerSecond, "/s",
                writers == 16 ? "≥ 0.9×" : "");
            context.Report.Add($"Commit 1 event, {writers} writer(s), distinct streams, vs raw INSERT with the OCC key UNIQUE (stream, version) (commits/s)",
                occ.PerSecond, ours.PerSecond, "/s", "");
            if (writers == 1)
            {
                (rawSingle, occSingle, oursSingle) = (raw, occ, ours);
            }
        }

        context.Report.Add("Single-writer commit latency p50", rawSingle!.Percentile(50), oursSingle!.Percentile(50), "ms", "≤ 1.2×", lowerIsBetter: true);
        context.Report.Add("Single-writer commit latency p99", rawSingle.Percentile(99), oursSingle.Percentile(99), "ms", "≤ 1.2×", lowerIsBetter: true);
        context.Report.Add("Single-writer commit latency p50, vs raw INSERT with the OCC key", occSingle!.Percentile(50), oursSingle.Percentile(50), "ms", "", lowerIsBetter: true);
        context.Report.Add("Single-writer commit latency p99, vs raw INSERT with the OCC key", occSingle.Percentile(99), oursSingle.Percentile(99), "ms", "", lowerIsBetter: true);

        await BatchesAsync(context, journal);
        await LoadsAsync(context, journal);
    }

    /// <summary>
    /// 50-event batches, 4 writers, vs a raw 50-row INSERT ... SELECT FROM unnest, and vs the same INSERT into a table
    /// with the key our optimistic concurrency needs, UNIQUE (stream, version).
    /// </summary>
    private static async Task BatchesAsync(BenchContext context, JournalStore journal)
    {
        var run = Guid.NewGuid().ToString("N")[..6];
        var batchData = Enumerable.Repeat(BenchContext.Payload, 50).ToArray();
        var batch = batchData.Select(d => new EventData("Deposited", d)).ToArray();
        Func<int, long, Task> RawInsert(string table, string prefix) => async (w, i) =>
        {
            await using var command = context.DataSource.CreateCommand(
                $"INSERT INTO {context.Schema}.{table} (stream, version, name, data) SELECT $1, $2 + o, 'Deposited', d FROM unnest($3::jsonb[]) WITH ORDINALITY AS t(d, o)");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"{prefix}-{run}-{w}" });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = i * 50 });
            command.Parameters.Add(new NpgsqlParameter { Value = batchData, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            await command.ExecuteNonQueryAsync();
        };
        var runs = await Harness.AlternatingRunAsync(4, context.Duration,
        [
            RawInsert("raw_events", "rawbatch"),
            // Stream names as long as ours ("batch-…"): the stream is stored in the row and in the key.
            RawInsert("raw_events_occ", "occ50"),
            (w, _) => journal.CommitAsync($"batch-{run}-{w}", batch),
        ]);
        var (raw, occ, ours) = (runs[0], runs[1], runs[2]);
        context.Report.Add("Commit 50-event batches, 4 writers (events/s)", raw.PerSecond * 50, ours.PerSecond * 50, "/s", "");
        context.Report.Add("Commit 50-event batches, 4 writers, vs raw INSERT with the OCC key UNIQUE (stream, version) (events/s)",
            occ.PerSecond * 50, ours.PerSecond * 50, "/s", "");
    }

    /// <summary>Loading a 10,000-event stream, without and with a snapshot at 9,990, vs a raw SELECT of the same rows.</summary>
    private static async Task LoadsAsync(BenchContext context, JournalStore journal)
    {
        {
            for (var i = 0; i < 20; i++)
            {
                var events = Enumerable.Range(0, 500).Select(_ => new EventData("Deposited", BenchContext.Payload)).ToArray();
                await journal.CommitAsync("load-plain", events);
                await journal.CommitAsync("load-snap", events);
            }

            await journal.SaveSnapshotAsync("load-snap", 9990, """{"balance":419580}""");
            await context.ExecAsync($"VACUUM ANALYZE {context.Schema}.events");

            async Task<int> RawSelect(string stream, long fromVersion)
            {
                await using var command = context.DataSource.CreateCommand(
                    $"SELECT position, stream, version, name, data::text, snapshot, event_id, correlation, causation::text, created " +
                    $"FROM {context.Schema}.events WHERE stream = $1 AND version >= $2 ORDER BY version, snapshot");
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

            // What an activation needs of each row: version, name and payload (and the snapshot flag).
            async Task<int> RawSelectLean(string stream)
            {
                await using var command = context.DataSource.CreateCommand(
                    $"SELECT stream, version, name, data::text FROM {context.Schema}.events WHERE stream = $1 ORDER BY version, snapshot");
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
                await using var reader = await command.ExecuteReaderAsync();
                var rows = 0;
                while (await reader.ReadAsync())
                {
                    _ = (reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3));
                    rows++;
                }

                return rows;
            }

            async Task<int> Replay(string stream)
            {
                var rows = 0;
                await foreach (var _ in journal.ReplayAsync(stream))
                {
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

            var (rawPlain, oursPlain) = await Harness.PairedMedianMsAsync(31, () => RawSelect("load-plain", 0), () => Load("load-plain"));
            context.Report.Add("Load a 10,000-event stream, no snapshot (events/s)", 10_000 / rawPlain * 1000, 10_000 / oursPlain * 1000, "/s", "≥ 0.9×");
            var (rawLean, oursReplay) = await Harness.PairedMedianMsAsync(31, () => RawSelectLean("load-plain"), () => Replay("load-plain"));
            context.Report.Add("Replay a 10,000-event stream (what activation reads) vs a raw SELECT of stream, version, name, data (events/s)", 10_000 / rawLean * 1000, 10_000 / oursReplay * 1000, "/s", "≥ 0.9×");
            var (rawSnap, oursSnap) = await Harness.PairedMedianMsAsync(51, () => RawSelect("load-snap", 9990), () => Load("load-snap"));
            context.Report.Add("Load it with a snapshot at 9,990 (time; raw = SELECT of the same 10 rows)", rawSnap, oursSnap, "ms", "");
            context.Report.AddValue("Load it with a snapshot at 9,990 vs without (time ratio)", oursSnap / oursPlain * 100, "% of full load", "");
        }

    }
}
