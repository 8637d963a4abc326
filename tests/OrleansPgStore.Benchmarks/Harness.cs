using System.Diagnostics;

namespace OrleansPgStore.Benchmarks;

/// <summary>One measured run: how many operations finished in how long, and each one's latency.</summary>
public sealed record Measurement(long Operations, TimeSpan Elapsed, double[] LatenciesMs)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var sorted = LatenciesMs.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
    }
}

/// <summary>Runs an operation from N concurrent workers for a fixed time (after a warm-up) and measures it.</summary>
public static class Harness
{
    public static async Task<Measurement> RunAsync(
        int workers, TimeSpan duration, Func<int, long, Task> operation, TimeSpan? warmup = null)
    {
        await RunForAsync(workers, warmup ?? TimeSpan.FromMilliseconds(500), operation, record: false, iterationBase: 1_000_000_000);
        return await RunForAsync(workers, duration, operation, record: true, iterationBase: 0);
    }

    private static async Task<Measurement> RunForAsync(
        int workers, TimeSpan duration, Func<int, long, Task> operation, bool record, long iterationBase)
    {
        var latencies = Enumerable.Range(0, workers).Select(_ => new List<double>(4096)).ToArray();
        var counts = new long[workers];
        var stopwatch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var i = iterationBase;
            while (stopwatch.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                await operation(w, i++);
                if (record)
                {
                    latencies[w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }

                counts[w]++;
            }
        }));
        await Task.WhenAll(tasks);
        return new Measurement(counts.Sum(), stopwatch.Elapsed, latencies.SelectMany(l => l).ToArray());
    }

    /// <summary>
    /// Runs two operations in turns of <paramref name="slices"/> slices each (after a warm-up of both), and returns each
    /// one's totals: on a shared machine whose speed drifts, alternating keeps the drift out of their ratio, which
    /// measuring one whole duration after the other would not.
    /// </summary>
    public static async Task<(Measurement Baseline, Measurement Ours)> PairedRunAsync(
        int workers, TimeSpan duration, Func<int, long, Task> baseline, Func<int, long, Task> ours, int slices = 4)
    {
        var runs = await AlternatingRunAsync(workers, duration, [baseline, ours], slices);
        return (runs[0], runs[1]);
    }

    /// <summary>
    /// <see cref="PairedRunAsync"/> for any number of operations: each runs <paramref name="duration"/> in total, in
    /// turns of <paramref name="slices"/> slices, all in the same order every turn.
    /// </summary>
    public static async Task<Measurement[]> AlternatingRunAsync(
        int workers, TimeSpan duration, IReadOnlyList<Func<int, long, Task>> operations, int slices = 4)
    {
        foreach (var operation in operations)
        {
            await RunForAsync(workers, TimeSpan.FromMilliseconds(500), operation, record: false, iterationBase: 1_000_000_000);
        }

        var parts = operations.Select(_ => new List<Measurement>()).ToArray();
        for (var slice = 0; slice < slices; slice++)
        {
            // Each slice continues the iteration numbers of the one before (operations may use them as versions).
            var from = (long)slice * 100_000_000;
            for (var o = 0; o < operations.Count; o++)
            {
                parts[o].Add(await RunForAsync(workers, duration / slices, operations[o], record: true, iterationBase: from));
            }
        }

        static Measurement Sum(List<Measurement> list) => new(
            list.Sum(m => m.Operations), TimeSpan.FromTicks(list.Sum(m => m.Elapsed.Ticks)), list.SelectMany(m => m.LatenciesMs).ToArray());
        return parts.Select(Sum).ToArray();
    }

    /// <summary>Times one call, repeated, and returns the median (for single-shot operations such as loading a stream).</summary>
    public static async Task<double> MedianMsAsync(int repetitions, Func<Task> operation)
    {
        await operation();
        var times = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await operation();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return times.Order().ElementAt(times.Count / 2);
    }

    /// <summary>
    /// Times two single-shot operations taking turns, and returns each one's median: on a machine whose speed drifts,
    /// alternating keeps the drift out of their ratio, which timing one after the other would not.
    /// </summary>
    public static async Task<(double Baseline, double Ours)> PairedMedianMsAsync(int repetitions, Func<Task> baseline, Func<Task> ours)
    {
        await baseline();
        await ours();
        var times = (Baseline: new List<double>(), Ours: new List<double>());
        for (var i = 0; i < repetitions; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await baseline();
            times.Baseline.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            started = Stopwatch.GetTimestamp();
            await ours();
            times.Ours.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return (times.Baseline.Order().ElementAt(repetitions / 2), times.Ours.Order().ElementAt(repetitions / 2));
    }
}
