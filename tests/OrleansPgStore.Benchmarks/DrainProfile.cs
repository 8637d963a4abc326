using System.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// Where a default-options no-op drain of 100 × 100 spends its time (<c>--only drainprofile</c>, printed, not reported): the
/// plan of a 10,000-event feed page, the correlation of the whole backlog, then each cycle (targets claimed: ms).
/// </summary>
public static class DrainProfile
{
    public static async Task RunAsync(BenchContext context)
    {
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = "prof_events" });
        await journal.SeedAsync();
        for (var s = 0; s < 100; s++)
        {
            await journal.CommitAsync($"drain-{s}", Enumerable.Range(0, 100).Select(_ => new EventData("Happened", BenchContext.Payload)).ToArray());
        }

        await context.ExecAsync($"VACUUM ANALYZE {context.Schema}.prof_events");
        var sql = new OrleansPgStore.Store.Journal.JournalSql($"{context.Schema}.prof_events", OrleansPgStore.Store.Journal.JournalSchema.PositionsTable(context.Schema, "prof_events"));
        for (var i = 0; i < 3; i++)
        {
            await using var explain = context.DataSource.CreateCommand("EXPLAIN (ANALYZE, BUFFERS) " + sql.ReadFeedRange);
            explain.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = -1 });
            explain.Parameters.Add(new Npgsql.NpgsqlParameter<long> { TypedValue = long.MaxValue });
            explain.Parameters.Add(new Npgsql.NpgsqlParameter<string[]> { TypedValue = ["Happened"] });
            explain.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = 10_000 });
            await using var reader = await explain.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                if (i == 2)
                {
                    Console.WriteLine(reader.GetString(0));
                }
            }
        }

        for (var run = 0; run < 8; run++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var page = await journal.ReadFeedAsync(-1, 10_000, ["Happened"]);
            var feedMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            var table = $"prof_subs_{run}";
            await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = table });
            await leases.SeedAsync();
            var loop = new ReactionLoop(journal, leases, new ReactionRegistry().On("Happened", (_, _) => Task.CompletedTask), new ReactionOptions { Name = table });
            var started = Stopwatch.GetTimestamp();
            var correlated = await loop.CorrelateAsync();
            var correlateMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var handled = 0;
            var cycles = new List<string>();
            while (handled < 10_000)
            {
                var c = Stopwatch.GetTimestamp();
                var result = await loop.RunCycleAsync();
                handled += result.Handled;
                cycles.Add($"{result.Claimed}:{Stopwatch.GetElapsedTime(c).TotalMilliseconds:0.0}");
            }

            var total = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Console.WriteLine($"feed {page.Events.Count} in {feedMs:0.0} ms; correlate {correlated} in {correlateMs:0.0} ms; cycles {string.Join(" ", cycles)}; total {total:0.0} ms = {10_000 / total * 1000:#,0}/s");
        }
    }
}

/// <summary>
/// Where commit → handler time goes without the worker's waits (<c>--only latencyprofile</c>, printed): a loop driven by
/// hand right after each commit, counting the cycles a ping needs and how many of them saw the feed still settling.
/// </summary>
public static class LatencyProfile
{
    public static async Task RunAsync(BenchContext context)
    {
        await using var writer = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = "latprof_events" });
        await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = "latprof_subs" });
        await writer.SeedAsync();
        await leases.SeedAsync();
        var loop = new ReactionLoop(writer, leases, new ReactionRegistry().On("Ping", (_, _) => Task.CompletedTask), new ReactionOptions { Name = "latprof" });
        var rows = new List<(double Ms, int Cycles, int Settling, string Steps)>();
        for (var i = 0; i < 300; i++)
        {
            await writer.CommitAsync($"ping-{i % 10}", [new EventData("Ping", "{}")]);
            var started = Stopwatch.GetTimestamp();
            var cycles = 0;
            var settling = 0;
            var steps = new List<string>();
            while (true)
            {
                var c = Stopwatch.GetTimestamp();
                var result = await loop.RunCycleAsync();
                cycles++;
                settling += result.Settling ? 1 : 0;
                steps.Add($"{(result.Settling ? "S" : "")}{result.Handled}:{Stopwatch.GetElapsedTime(c).TotalMilliseconds:0.0}");
                if (result.Handled > 0)
                {
                    break;
                }
            }

            rows.Add((Stopwatch.GetElapsedTime(started).TotalMilliseconds, cycles, settling, string.Join(" ", steps)));
            await Task.Delay(Random.Shared.Next(1, 5));
        }

        var sorted = rows.Skip(5).OrderByDescending(r => r.Ms).ToList();
        Console.WriteLine($"pings {sorted.Count}: p50 {sorted[sorted.Count / 2].Ms:0.00} ms, p99 {sorted[sorted.Count / 100].Ms:0.00} ms; " +
                          $"more than one cycle: {sorted.Count(r => r.Cycles > 1)}, settling seen: {sorted.Count(r => r.Settling > 0)}");
        foreach (var r in sorted.Take(8))
        {
            Console.WriteLine($"  {r.Ms:0.0} ms: {r.Steps}");
        }
    }
}
