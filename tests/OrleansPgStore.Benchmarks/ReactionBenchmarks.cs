using System.Diagnostics;
using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Benchmarks;

/// <summary>Leasing and reaction scenarios: claim latency by table size, drain throughput, commit→handler latency.</summary>
public static class ReactionBenchmarks
{
    public static async Task RunAsync(BenchContext context)
    {
        // Drains and latencies first: the claim scenario churns a 100k-row table, and autovacuum cleaning up after
        // it would otherwise disturb these short measurements.
        await DrainAsync(context);
        await CommitToHandlerLatencyAsync(context);
        await ClaimLatencyAsync(context);
    }

    /// <summary>Claim (8 lagging + 2 leading) with 1k, 10k and 100k subscriptions, 1% or all of them with work.</summary>
    private static async Task ClaimLatencyAsync(BenchContext context)
    {
        var p50At1k = new Dictionary<string, double>();
        foreach (var size in new[] { 1_000, 10_000, 100_000 })
        {
            var table = $"subs_{size}";
            await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = table });
            await leases.SeedAsync();
            await context.ExecAsync($"INSERT INTO {context.Schema}.{table} (stream, source) SELECT 's' || i, 's' || i FROM generate_series(1, {size}) i");
            foreach (var (label, share) in new[] { ("1%", 100), ("100%", 1) })
            {
                await context.ExecAsync($"UPDATE {context.Schema}.{table} SET work = CASE WHEN substr(stream, 2)::int % {share} = 0 THEN 100 ELSE -1 END, at = -1, retry = -1, leased_by = NULL, leased_until = NULL");
                await context.ExecAsync($"VACUUM ANALYZE {context.Schema}.{table}");

                // Baseline: a bare primary-key UPDATE of one subscription row on the same table and pool.
                var raw = await Harness.RunAsync(1, context.Duration / 2, async (_, i) =>
                {
                    await using var command = context.DataSource.CreateCommand($"UPDATE {context.Schema}.{table} SET priority = 0 WHERE stream = $1");
                    command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "s" + (1 + (i % size)) });
                    await command.ExecuteNonQueryAsync();
                });
                var latencies = new List<double>();
                var ours = await Harness.RunAsync(1, context.Duration / 2, async (_, _) =>
                {
                    var started = Stopwatch.GetTimestamp();
                    var claimed = await leases.ClaimAsync(8, 2, "bench", TimeSpan.FromMinutes(1));
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    // Release without progress so the same work stays claimable (not timed).
                    await leases.AckAsync(claimed.Select(l => new LeaseOutcome(l.Stream, "bench", l.At)).ToList());
                });
                var measured = new Measurement(latencies.Count, ours.Elapsed, latencies.ToArray());
                context.Report.Add($"Claim 10 leases, {size:#,0} subscriptions, {label} with work: p50 (raw = 1-row PK UPDATE)",
                    raw.Percentile(50), measured.Percentile(50), "ms", "≤ 1.5 ms p50", lowerIsBetter: true);
                context.Report.AddValue($"Claim, {size:#,0} subscriptions, {label} with work: p99", measured.Percentile(99), "ms", "");
                if (size == 1_000)
                {
                    p50At1k[label] = measured.Percentile(50);
                }
                else if (size == 100_000)
                {
                    context.Report.AddValue($"Claim p50 at 100k vs 1k subscriptions, {label} with work", measured.Percentile(50) / p50At1k[label] * 100, "% of the 1k time", "≤ 120%");
                }
            }
        }
    }

    /// <summary>One worker drains 100 streams × 100 events: no-op handler with 10- and 100-event pages, and a handler writing a row per event.</summary>
    private static async Task DrainAsync(BenchContext context)
    {
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = "drain_events" });
        await journal.SeedAsync();
        for (var s = 0; s < 100; s++)
        {
            await journal.CommitAsync($"drain-{s}", Enumerable.Range(0, 100).Select(_ => new EventData("Happened", BenchContext.Payload)).ToArray());
        }

        await context.ExecAsync($"VACUUM ANALYZE {context.Schema}.drain_events; CREATE TABLE {context.Schema}.drain_effects (position bigint PRIMARY KEY, stream text)");

        // Baseline: reading the same 10,000 rows through Npgsql in one query.
        var rawMs = await Harness.MedianMsAsync(5, async () =>
        {
            await using var command = context.DataSource.CreateCommand(
                $"SELECT position, stream, version, name, data::text, created FROM {context.Schema}.drain_events ORDER BY position");
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                _ = (reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5));
            }
        });
        var rawPerSecond = 10_000 / rawMs * 1000;

        foreach (var (label, pageSize, writes) in new[] { ("no-op handler, 10-event pages", 10, false), ("no-op handler, 100-event pages", 100, false), ("handler writing 1 row per event, 100-event pages", 100, true) })
        {
            // A drain takes tens of milliseconds: the median of three from fresh subscriptions.
            var runs = new List<double>();
            for (var run = 0; run < 3; run++)
            {
                runs.Add(await DrainOnceAsync(context, journal, $"drain_subs_{pageSize}_{(writes ? "w" : "n")}_{run}", pageSize, writes));
            }

            context.Report.Add($"Drain 100 streams × 100 events, one worker, {label} (events/s; raw = one SELECT of the rows)",
                rawPerSecond, runs.Order().ElementAt(1), "/s", pageSize == 10 ? "≥ 40,000/s" : writes ? "" : "≥ 150,000/s");
        }
    }

    private static async Task<double> DrainOnceAsync(BenchContext context, JournalStore journal, string table, int pageSize, bool writes)
    {
        await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = table });
        await leases.SeedAsync();
        await context.ExecAsync($"TRUNCATE {context.Schema}.drain_effects");
        var registry = new ReactionRegistry().On("Happened", async (e, ct) =>
        {
            if (writes)
            {
                await using var command = context.DataSource.CreateCommand($"INSERT INTO {context.Schema}.drain_effects VALUES ($1, $2) ON CONFLICT DO NOTHING");
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
                await command.ExecuteNonQueryAsync(ct);
            }
        });
        var loop = new ReactionLoop(journal, leases, registry, new ReactionOptions
        {
            Name = table,
            PageSize = pageSize,
            MaxClaim = 32,
            MaxConcurrency = 8,
            CorrelationBatch = 10_000,
        });

        var started = Stopwatch.GetTimestamp();
        var handled = 0;
        while (handled < 10_000)
        {
            var result = await loop.RunCycleAsync();
            handled += result.Handled;
            if (result.Idle && !result.Settling && handled < 10_000)
            {
                throw new InvalidOperationException($"drain went idle after {handled} events");
            }
        }

        return handled / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Commit → handler latency while a write transaction stays open in another database of the server for
    /// <paramref name="hold"/> (a batch job): the feed is fenced on appends to its own table, so the job must not delay it.
    /// </summary>
    public static async Task UnrelatedTransactionAsync(BenchContext context, TimeSpan hold)
    {
        var database = "bench_unrelated_" + Guid.NewGuid().ToString("N")[..8];
        await context.ExecAsync($"CREATE DATABASE {database}");
        try
        {
            const string events = "unrelated_events";
            await using var writer = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = events, NotifyOnCommit = true });
            await using var reader = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = events });
            await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = events + "_subs" });
            await writer.SeedAsync();
            await leases.SeedAsync();

            var arrived = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
            var registry = new ReactionRegistry().On("Ping", (e, _) =>
            {
                arrived.TryAdd(e.Position, Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            });
            var loop = new ReactionLoop(reader, leases, registry, new ReactionOptions { Name = events, PollInterval = TimeSpan.FromMilliseconds(100) });
            await using var worker = new ReactionWorker(loop, reader, listen: true);
            await worker.StartAsync();

            // The batch job: a write transaction in another database, open for the whole measurement.
            var jobConnection = new NpgsqlConnectionStringBuilder(context.ConnectionString) { Database = database, Pooling = false }.ConnectionString;
            await using var job = new NpgsqlConnection(jobConnection);
            await job.OpenAsync();
            await using (var create = new NpgsqlCommand("CREATE TABLE batch (x int)", job))
            {
                await create.ExecuteNonQueryAsync();
            }

            await using var transaction = await job.BeginTransactionAsync();
            await using (var write = new NpgsqlCommand("INSERT INTO batch VALUES (1)", job, transaction))
            {
                await write.ExecuteNonQueryAsync();
            }

            var committed = new List<(long Position, long At)>();
            var until = Stopwatch.GetTimestamp() + (long)(hold.TotalSeconds * Stopwatch.Frequency);
            var i = 0;
            while (Stopwatch.GetTimestamp() < until)
            {
                var at = Stopwatch.GetTimestamp();
                var e = (await writer.CommitAsync($"ping-{i++ % 10}", [new EventData("Ping", "{}")]))[0];
                committed.Add((e.Position, at));
                await Task.Delay(100);
            }

            // Every ping must be handled while the job is still open; give the last ones up to 10 s.
            var deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
            while (arrived.Count < committed.Count && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(10);
            }

            var latencies = committed
                .Select(c => arrived.TryGetValue(c.Position, out var handled)
                    ? (handled - c.At) * 1000.0 / Stopwatch.Frequency
                    : (Stopwatch.GetTimestamp() - c.At) * 1000.0 / Stopwatch.Frequency)
                .ToArray();
            await transaction.RollbackAsync();
            // The first pings warm the worker up (connections, prepared statements), as in the latency scenario below.
            latencies = latencies[Math.Min(5, latencies.Length - 1)..];
            var measured = new Measurement(latencies.Length, TimeSpan.Zero, latencies);
            context.Report.AddValue($"Reaction delay with an unrelated write transaction held open {hold.TotalSeconds:0} s (another database; commit → handled p50)", measured.Percentile(50), "ms", "");
            context.Report.AddValue($"Reaction delay with an unrelated write transaction held open {hold.TotalSeconds:0} s (commit → handled p99)", measured.Percentile(99), "ms", "");
            context.Report.AddValue($"Reaction delay with an unrelated write transaction held open {hold.TotalSeconds:0} s (commit → handled max, {arrived.Count}/{committed.Count} handled while it was open)", latencies.Max(), "ms", "≤ 1,000 ms");
        }
        finally
        {
            await context.ExecAsync($"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    /// <summary>Commit → handler latency across two store instances (as two processes would), with and without notifications.</summary>
    public static async Task CommitToHandlerLatencyAsync(BenchContext context)
    {
        var results = new Dictionary<bool, Measurement>();
        var commits = new List<double>();
        var afterCommit = new List<double>();
        foreach (var notify in new[] { true, false })
        {
            var events = $"latency_events_{(notify ? "n" : "p")}";
            await using var writer = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = events, NotifyOnCommit = notify });
            await using var reader = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = events });
            await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = events + "_subs" });
            await writer.SeedAsync();
            await leases.SeedAsync();

            TaskCompletionSource<long>? arrived = null;
            var registry = new ReactionRegistry().On("Ping", (_, _) =>
            {
                arrived?.TrySetResult(Stopwatch.GetTimestamp());
                return Task.CompletedTask;
            });
            var loop = new ReactionLoop(reader, leases, registry, new ReactionOptions { Name = events, PollInterval = TimeSpan.FromMilliseconds(notify ? 1000 : 100) });
            await using var worker = new ReactionWorker(loop, reader, listen: notify);
            await worker.StartAsync();

            var latencies = new List<double>();
            for (var i = 0; i < (notify ? 300 : 60); i++)
            {
                arrived = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                var started = Stopwatch.GetTimestamp();
                await writer.CommitAsync($"ping-{i % 10}", [new EventData("Ping", "{}")]);
                var committed = Stopwatch.GetTimestamp();
                var handled = await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
                latencies.Add(Stopwatch.GetElapsedTime(started, handled).TotalMilliseconds);
                if (notify && i >= 5)
                {
                    // The commit's own durable write, and what the reaction path adds after it (0 when the handler ran first).
                    commits.Add(Stopwatch.GetElapsedTime(started, committed).TotalMilliseconds);
                    afterCommit.Add(Math.Max(0, Stopwatch.GetElapsedTime(committed, handled).TotalMilliseconds));
                }
                await Task.Delay(Random.Shared.Next(1, 5));
            }

            results[notify] = new Measurement(latencies.Count, TimeSpan.Zero, latencies[5..].ToArray());
            Console.WriteLine($"    {(notify ? "notify" : "poll")}: slowest {string.Join(", ", latencies[5..].OrderDescending().Take(8).Select(l => l.ToString("0.0")))} ms");
        }

        context.Report.AddValue("Commit → handler latency p50, other process, LISTEN/NOTIFY", results[true].Percentile(50), "ms", "");
        context.Report.AddValue("Commit → handler latency p99, other process, LISTEN/NOTIFY", results[true].Percentile(99), "ms", "≤ 10 ms");
        context.Report.AddValue("… of which the commit itself (fsync included), p99", new Measurement(commits.Count, TimeSpan.Zero, commits.ToArray()).Percentile(99), "ms", "");
        context.Report.AddValue("… from the commit's return to the handler, p50", new Measurement(afterCommit.Count, TimeSpan.Zero, afterCommit.ToArray()).Percentile(50), "ms", "");
        context.Report.AddValue("… from the commit's return to the handler, p99", new Measurement(afterCommit.Count, TimeSpan.Zero, afterCommit.ToArray()).Percentile(99), "ms", "");
        context.Report.AddValue("Commit → handler latency p50, other process, polling every 100 ms", results[false].Percentile(50), "ms", "");
        context.Report.AddValue("Commit → handler latency p99, other process, polling every 100 ms", results[false].Percentile(99), "ms", "");
    }
}
