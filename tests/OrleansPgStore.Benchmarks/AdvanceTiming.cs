using System.Diagnostics;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// The checkpoint advance alone (<c>--only advancetiming</c>, printed): on a fresh lease table each time (as every drain
/// of the projection benchmark uses), the first advance with 10,000 marks on 100 targets, then a second one on the same
/// table; client-observed milliseconds, median and 90th percentile.
/// </summary>
public static class AdvanceTiming
{
    public static async Task RunAsync(BenchContext context, int samples)
    {
        var first = new List<double>();
        var second = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var table = $"adv_subs_{i}";
            await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = table });
            await leases.SeedAsync();
            var position = await leases.ReadCheckpointAsync("g");
            var marks = Enumerable.Range(0, 10_000).Select(e => new WorkMark(new Subscription($"drain-{e / 100}", $"drain-{e / 100}"), e)).ToList();
            var t = Stopwatch.GetTimestamp();
            await leases.AdvanceCheckpointAsync("g", position, 10_000, marks);
            first.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            var more = Enumerable.Range(10_001, 100).Select(e => new WorkMark(new Subscription($"drain-{e % 100}", $"drain-{e % 100}"), e)).ToList();
            t = Stopwatch.GetTimestamp();
            await leases.AdvanceCheckpointAsync("g", 10_000, 20_000, more);
            second.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            await context.ExecAsync($"DROP TABLE {context.Schema}.{table}");
        }

        static string Stats(List<double> x)
        {
            var s = x.Order().ToList();
            return $"median {s[s.Count / 2]:0.00} ms, p90 {s[s.Count * 9 / 10]:0.00} ms";
        }

        Console.WriteLine($"advance on a fresh table: {Stats(first)}; second advance: {Stats(second)}");
    }
}
