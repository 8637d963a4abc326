using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// What a default-options drain of 100 × 100 sends to the server (<c>--only drainstatements</c>, printed, not reported):
/// per drain the events/s, the workers' busy cycles, the statements and their server time from pg_stat_statements (the
/// server must preload it: run against one with ORLEANSPGSTORE_BENCH_CONNECTION), the client's CPU time and the WAL
/// written (pg_stat_wal, which backends report with a delay: a rough figure). In the projection benchmark's order: the
/// no-op handler with two workers, then the transactional projection with one. STM_LINES=N also prints the N most
/// frequent statements of each drain.
/// </summary>
public static class DrainStatements
{
    public static async Task RunAsync(BenchContext context, int drains)
    {
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = "stm_events" });
        await journal.SeedAsync();
        for (var s = 0; s < 100; s++)
        {
            await journal.CommitAsync($"drain-{s}", Enumerable.Range(0, 100).Select(_ => new EventData("Happened", BenchContext.Payload)).ToArray());
        }

        var model = $"{context.Schema}.stm_model";
        await context.ExecAsync($"VACUUM ANALYZE {context.Schema}.stm_events; CREATE TABLE {model} (position bigint PRIMARY KEY, stream text NOT NULL)");
        await context.ExecAsync("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        for (var run = 0; run < drains; run++)
        {
            foreach (var (project, workers) in new[] { (false, 2), (true, 1) })
            {
                var table = $"stm_subs_{Guid.NewGuid().ToString("N")[..8]}";
                await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = context.Schema, Table = table });
                await leases.SeedAsync();
                await context.ExecAsync($"TRUNCATE {model}");
                var registry = project
                    ? new ReactionRegistry().Project(["Happened"], async (batch, ct) =>
                    {
                        var events = batch.Events.ToList();
                        await using var command = batch.CreateCommand($"INSERT INTO {model} SELECT * FROM unnest($1::bigint[], $2::text[])");
                        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Position).ToArray() });
                        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => e.Stream).ToArray() });
                        await command.ExecuteNonQueryAsync(ct);
                    })
                    : new ReactionRegistry().On("Happened", (_, _) => Task.CompletedTask);
                var running = Enumerable.Range(0, workers).Select(_ => new ReactionWorker(new ReactionLoop(journal, leases, registry, new ReactionOptions { Name = table }), journal)).ToList();
                await context.ExecAsync("SELECT pg_stat_statements_reset()");
                var walBefore = await WalAsync(context);
                var cpuBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                var started = Stopwatch.GetTimestamp();
                foreach (var worker in running)
                {
                    await worker.StartAsync();
                }

                while (running.Sum(w => w.HandledEvents) < 10_000)
                {
                    await Task.Delay(2);
                }

                var elapsed = Stopwatch.GetElapsedTime(started);
                var busy = running.Sum(w => w.BusyCycles);
                var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
                var walAfter = await WalAsync(context);
                foreach (var worker in running)
                {
                    await worker.DisposeAsync();
                }

                var lines = new List<string>();
                var calls = 0L;
                var serverMs = 0.0;
                await using (var stats = context.DataSource.CreateCommand(
                    "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements " +
                    "WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_stat_wal%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC, total_exec_time DESC"))
                await using (var reader = await stats.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        calls += reader.GetInt64(0);
                        serverMs += reader.GetDouble(1);
                        lines.Add($"      {reader.GetInt64(0),5} calls {reader.GetDouble(1),8:0.0} ms  {reader.GetString(2)}");
                    }
                }

                Console.WriteLine($"  {(project ? "Project" : "NoOp")} x{workers}: {10_000 / elapsed.TotalSeconds:#,0}/s in {elapsed.TotalMilliseconds:0} ms; busy cycles {busy}; statements {calls}; server {serverMs:0.0} ms; client cpu {cpu.TotalMilliseconds:0} ms; wal records {walAfter.Records - walBefore.Records} bytes {walAfter.Bytes - walBefore.Bytes} writes {walAfter.Writes - walBefore.Writes} syncs {walAfter.Syncs - walBefore.Syncs}");
                foreach (var line in lines.Take(Environment.GetEnvironmentVariable("STM_LINES") is { } n ? int.Parse(n) : 0))
                {
                    Console.WriteLine(line);
                }

                await context.ExecAsync($"DROP TABLE {context.Schema}.{table}");
            }
        }
    }

    private static async Task<(long Records, long Bytes, long Writes, long Syncs)> WalAsync(BenchContext context)
    {
        await using var command = context.DataSource.CreateCommand("SELECT wal_records, wal_bytes::bigint, wal_write, wal_sync FROM pg_stat_wal");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }
}
