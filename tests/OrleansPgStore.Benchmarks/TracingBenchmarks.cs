using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// What tracing and metrics cost a commit: the instrumentation's own path with nobody listening (measured in process,
/// as a share of a commit), and commits with an ActivityListener and a MeterListener recording everything against
/// commits with none (bracketed: no listener before and after, averaged).
/// </summary>
public static class TracingBenchmarks
{
    public static async Task RunAsync(BenchContext context, JournalStore journal)
    {
        // 1. The instrumentation path of one commit with no listener: start, stamp the trace context, end.
        await using var store = new StoreConnection(
            new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema }, NullLogger.Instance);
        double PathNanoseconds(int iterations)
        {
            var nanoseconds = 0.0;
            for (var round = 0; round < 3; round++)
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < iterations; i++)
                {
                    var operation = StoreOperation.Start("journal.commit", store, "s");
                    _ = TraceContext.Stamp(EventMetadata.None, operation.Activity);
                    operation.Succeeded();
                }

                // The last round, after the JIT has settled.
                nanoseconds = Stopwatch.GetElapsedTime(started).TotalNanoseconds / iterations;
            }

            return nanoseconds;
        }

        var nanosecondsPerCommit = PathNanoseconds(5_000_000);
        double listenedNanoseconds;
        using (Listen())
        {
            listenedNanoseconds = PathNanoseconds(500_000);
        }

        // 2. Commits end to end, without and with listeners.
        async Task<Measurement> Commits(int writers)
        {
            var run = Guid.NewGuid().ToString("N")[..6];
            var versions = new long[writers];
            Array.Fill(versions, -1);
            return await Harness.RunAsync(writers, context.Duration, async (w, _) =>
            {
                var committed = await journal.CommitAsync($"trace-{run}-{w}", [new EventData("Deposited", BenchContext.Payload)], expectedVersion: versions[w]);
                versions[w] = committed[^1].Version;
            });
        }

        foreach (var writers in new[] { 1, 16 })
        {
            var before = await Commits(writers);
            Measurement traced;
            using (Listen())
            {
                traced = await Commits(writers);
            }

            var after = await Commits(writers);
            var quiet = (before.PerSecond + after.PerSecond) / 2;
            if (writers == 1)
            {
                var p50 = (before.Percentile(50) + after.Percentile(50)) / 2;
                context.Report.Add("Tracing path per commit, nobody listening (in process; baseline: single-writer commit p50)",
                    p50 * 1_000_000, nanosecondsPerCommit, "ns", "", lowerIsBetter: true);
                context.Report.AddValue("Tracing path, nobody listening, as a share of a single-writer commit", nanosecondsPerCommit / (p50 * 1_000_000) * 100, "%", "≤ 2%");
                context.Report.AddValue("Tracing path per commit, span recorded and metrics measured (in process)", listenedNanoseconds, "ns", "");
                context.Report.AddValue("Tracing path, recorded, as a share of a single-writer commit", listenedNanoseconds / (p50 * 1_000_000) * 100, "%", "");
                context.Report.Add("Single-writer commit p50, traced and metered vs nobody listening", p50, traced.Percentile(50), "ms", "", lowerIsBetter: true);
            }

            context.Report.Add($"Commit 1 event, {writers} writer(s): traced and metered vs nobody listening (commits/s)", quiet, traced.PerSecond, "/s", "");
        }
    }

    /// <summary>An ActivityListener recording every span of the engine and a MeterListener taking every measurement.</summary>
    private static IDisposable Listen()
    {
        var spans = 0L;
        var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == StoreInstruments.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ => Interlocked.Increment(ref spans),
        };
        ActivitySource.AddActivityListener(activities);
        var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == StoreInstruments.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        var measurements = 0L;
        meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measurements));
        meters.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref measurements));
        meters.Start();
        return new Listeners(activities, meters);
    }

    private sealed class Listeners(ActivityListener activities, MeterListener meters) : IDisposable
    {
        public void Dispose()
        {
            activities.Dispose();
            meters.Dispose();
        }
    }
}
