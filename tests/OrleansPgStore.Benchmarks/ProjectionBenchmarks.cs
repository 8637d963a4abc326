using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// Draining a read model with one row per event: the transactional projection (one multi-row INSERT per cycle, committed
/// with the watermarks), the per-event projection (one INSERT per event in the same transaction), an at-least-once
/// handler doing one INSERT per event, and a no-op handler, with one and two
/// workers; against Marten's async daemon over the same events on the same server. Every run is checked: exactly one
/// row per event.
/// </summary>
public static class ProjectionBenchmarks
{
    private const int PerStream = 100;

    private enum Consumer
    {
        NoOp,
        HandlerPerEvent,
        ProjectionPerEvent,
        Projection,
    }

    /// <param name="context">The run.</param>
    /// <param name="sizes">Stream counts to drain (100 events each); defaults to 100 and 1,000.</param>
    public static async Task RunAsync(BenchContext context, IReadOnlyList<int>? sizes = null)
    {
        foreach (var streams in sizes ?? [100, 1_000])
        {
            var total = streams * PerStream;
            var label = $"{streams:#,0} × {PerStream}";
            await using var journal = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = $"proj_events_{streams}" });
            await journal.SeedAsync();
            for (var s = 0; s < streams; s++)
            {
                await journal.CommitAsync($"drain-{s}", Enumerable.Range(0, PerStream).Select(_ => new EventData("Happened", BenchContext.Payload)).ToArray());
            }

            await context.ExecAsync($"VACUUM ANALYZE {context.Schema}.proj_events_{streams}; CREATE TABLE {context.Schema}.proj_model (position bigint PRIMARY KEY, stream text NOT NULL)");
            await using var marten = await MartenPeer.SeedAsync(context, context.ConnectionString, streams, PerStream);

            // Short drains: the median of five for 10k events, one run for 100k (the box is shared). The first drain of
            // the run pays for JIT and cold caches: one unmeasured drain first.
            var runs = streams == 100 ? 5 : 1;
            if (streams == 100)
            {
                await DrainAsync(context, journal, Consumer.NoOp, 1, total);
                await marten.DrainAsync(writeDocuments: false);
            }

            // Rounds: every consumer and the peer once per round, so a change in the shared machine's load between
            // rounds hits both sides alike; the median of the rounds is reported.
            var samples = new Dictionary<(Consumer, int), List<double>>();
            var martenNoOps = new List<double>();
            var martenRowsRuns = new List<double>();
            for (var round = 0; round < runs; round++)
            {
                martenNoOps.Add(await marten.DrainAsync(writeDocuments: false));
                foreach (var consumer in new[] { Consumer.NoOp, Consumer.Projection, Consumer.ProjectionPerEvent, Consumer.HandlerPerEvent })
                {
                    foreach (var workers in new[] { 1, 2 })
                    {
                        if (!samples.TryGetValue((consumer, workers), out var list))
                        {
                            samples[(consumer, workers)] = list = [];
                        }

                        list.Add(await DrainAsync(context, journal, consumer, workers, total));
                    }

                    if (consumer == Consumer.Projection)
                    {
                        martenRowsRuns.Add(await marten.DrainAsync(writeDocuments: true));
                    }
                }
            }

            var results = samples.ToDictionary(p => p.Key, p => Median(p.Value));
            var martenNoOp = Median(martenNoOps);
            var martenRows = Median(martenRowsRuns);
            Console.WriteLine($"    Marten no-op {string.Join(" / ", martenNoOps.Select(x => x.ToString("#,0")))}; documents {string.Join(" / ", martenRowsRuns.Select(x => x.ToString("#,0")))}");
            await context.ExecAsync($"DROP TABLE {context.Schema}.proj_model");

            var r = context.Report;
            r.AddValue($"Projection drain {label}: transactional projection, 1 row/event, 1 worker", results[(Consumer.Projection, 1)], "/s", "≥ 50,000/s");
            r.Add($"Projection drain {label}: transactional projection, 1 worker (baseline = Marten daemon, 1 document/event)",
                martenRows, results[(Consumer.Projection, 1)], "/s", "≥ 2.5×");
            r.Add($"Projection drain {label}: transactional projection vs our no-op drain, 1 worker",
                results[(Consumer.NoOp, 1)], results[(Consumer.Projection, 1)], "/s", "≥ 0.5×");
            r.Add($"Projection drain {label}: transactional projection, 2 workers vs 1",
                results[(Consumer.Projection, 1)], results[(Consumer.Projection, 2)], "/s", "≥ 1.7×");
            r.Add($"Projection drain {label}: per-event projection (ProjectEach), 1 INSERT/event, 1 worker (baseline = Marten daemon, 1 document/event)",
                martenRows, results[(Consumer.ProjectionPerEvent, 1)], "/s", "≥ 1.0×");
            r.Add($"Projection drain {label}: per-event projection (ProjectEach), 2 workers vs 1",
                results[(Consumer.ProjectionPerEvent, 1)], results[(Consumer.ProjectionPerEvent, 2)], "/s", "≥ 1.7×");
            r.Add($"Projection drain {label}: at-least-once handler, 1 INSERT/event, 1 worker (baseline = Marten daemon, 1 document/event)",
                martenRows, results[(Consumer.HandlerPerEvent, 1)], "/s", "≥ 1.0×");
            r.Add($"Projection drain {label}: at-least-once handler, 1 INSERT/event, 2 workers vs 1",
                results[(Consumer.HandlerPerEvent, 1)], results[(Consumer.HandlerPerEvent, 2)], "/s", "≥ 1.7×");
            r.Add($"Projection drain {label}: no-op drain, 1 worker (baseline = Marten daemon, no-op projection)",
                martenNoOp, results[(Consumer.NoOp, 1)], "/s", "");
            r.Add($"Projection drain {label}: no-op drain, 2 workers vs 1",
                results[(Consumer.NoOp, 1)], results[(Consumer.NoOp, 2)], "/s", "≥ 1.7×");
        }
    }

    private static double Median(List<double> results) => results.Order().ElementAt(results.Count / 2);

    /// <summary>Events per second for <paramref name="workers"/> workers to drain every event from fresh subscriptions.</summary>
    private static async Task<double> DrainAsync(BenchContext context, JournalStore journal, Consumer consumer, int workers, long total)
    {
        var table = $"proj_subs_{Guid.NewGuid().ToString("N")[..8]}";
        await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = table });
        await leases.SeedAsync();
        await context.ExecAsync($"TRUNCATE {context.Schema}.proj_model");
        var model = $"{context.Schema}.proj_model";
        var registry = consumer switch
        {
            Consumer.NoOp => new ReactionRegistry().On("Happened", (_, _) => Task.CompletedTask),
            Consumer.HandlerPerEvent => new ReactionRegistry().On("Happened", async (e, ct) =>
            {
                // The way most handlers are written: one write per event, idempotent because delivery is at least once.
                await using var command = context.DataSource.CreateCommand($"INSERT INTO {model} VALUES ($1, $2) ON CONFLICT DO NOTHING");
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
                await command.ExecuteNonQueryAsync(ct);
            }),
            Consumer.ProjectionPerEvent => new ReactionRegistry().ProjectEach(["Happened"], (e, transaction, _) =>
            {
                // The same per-event write, queued in the worker's transaction: one batch and one commit per cycle, exactly once.
                var command = transaction.Queue($"INSERT INTO {model} VALUES ($1, $2)");
                command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
                return Task.CompletedTask;
            }),
            _ => new ReactionRegistry().Project(["Happened"], async (batch, ct) =>
            {
                // One statement for the whole cycle; no conflict clause: a duplicate would fail the primary key.
                var events = batch.Events.ToList();
                await using var command = batch.CreateCommand($"INSERT INTO {model} SELECT * FROM unnest($1::bigint[], $2::text[])");
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Position).ToArray() });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => e.Stream).ToArray() });
                await command.ExecuteNonQueryAsync(ct);
            }),
        };
        // The defaults: what a user who sets nothing gets.
        var options = new ReactionOptions { Name = table };
        var running = Enumerable.Range(0, workers)
            .Select(_ => new ReactionWorker(new ReactionLoop(journal, leases, registry, options), journal))
            .ToList();

        var started = Stopwatch.GetTimestamp();
        foreach (var worker in running)
        {
            await worker.StartAsync();
        }

        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (running.Sum(w => w.HandledEvents) < total)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{consumer} with {workers} worker(s) handled {running.Sum(w => w.HandledEvents)} of {total} events in 5 minutes");
            }

            await Task.Delay(2);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var shares = running.Select(w => w.HandledEvents).ToList();
        foreach (var worker in running)
        {
            await worker.DisposeAsync();
        }

        if (consumer != Consumer.NoOp)
        {
            var rows = await context.ScalarAsync<long>($"SELECT count(*) FROM {model}");
            if (rows != total)
            {
                throw new InvalidOperationException($"{consumer}: {rows} rows for {total} events");
            }
        }

        await context.ExecAsync($"DROP TABLE {context.Schema}.{table}");
        Console.WriteLine($"    {consumer}, {workers} worker(s), {total:#,0} events: {total / elapsed.TotalSeconds:#,0}/s; shares {string.Join(" / ", shares)}");
        return total / elapsed.TotalSeconds;
    }
}
