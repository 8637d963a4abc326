using Npgsql;
using OrleansPgStore.Store.State;

namespace OrleansPgStore.Benchmarks;

/// <summary>Durable-state scenarios against a raw single-row UPDATE.</summary>
public static class StateBenchmarks
{
    public static async Task RunAsync(BenchContext context, DurableStateStore state)
    {
        // 4. Durable-state upserts vs a raw single-row UPDATE.
        foreach (var writers in new[] { 1, 16 })
        {
            var run = Guid.NewGuid().ToString("N")[..6];
            for (var w = 0; w < writers; w++)
            {
                await context.ExecAsync($"INSERT INTO {context.Schema}.raw_state VALUES ('raw-{run}-{w}', 1, '{BenchContext.Payload}')");
            }

            var raw = await Harness.RunAsync(writers, context.Duration, async (w, _) =>
            {
                await using var command = context.DataSource.CreateCommand(
                    $"UPDATE {context.Schema}.raw_state SET state = $2::jsonb, revision = revision + 1, updated_at = now() WHERE persistence_id = $1");
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"raw-{run}-{w}" });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = BenchContext.Payload });
                await command.ExecuteNonQueryAsync();
            });
            var revisions = new long[writers];
            var ours = await Harness.RunAsync(writers, context.Duration, async (w, _) =>
                revisions[w] = await state.UpsertAsync($"ours-{run}-{w}", revisions[w], BenchContext.Payload));
            context.Report.Add($"State upsert, {writers} writer(s) (writes/s)", raw.PerSecond, ours.PerSecond, "/s", "≥ 0.8×");
        }

    }
}
