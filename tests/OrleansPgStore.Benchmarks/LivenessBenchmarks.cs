using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Benchmarks;

/// <summary>
/// <c>--only liveness</c>: how projections fare when things go wrong or start at once, with the engine's default
/// <see cref="ReactionOptions"/> (asynchronous lease writes, 30 s leases):
/// <list type="bullet">
/// <item>catch-up after an immediate server restart (<c>pg_ctl -m immediate</c>, a crash: the last asynchronous commits
/// are lost) a quarter into a drain, ten times;</item>
/// <item>the share of each of two workers in drains of fresh work.</item>
/// </list>
/// Every run checks exactly one read-model row per event (the model's primary key would refuse a duplicate).
/// </summary>
public static class LivenessBenchmarks
{
    /// <param name="parts">Which parts to run: <c>crash</c>, <c>quiet</c> (the crash with the workers' pool emptied), <c>shares</c>.</param>
    public static async Task RunAsync(BenchContext context, PrivatePostgresCluster? cluster, int restarts, int drains, IReadOnlyCollection<string> parts)
    {
        if (cluster is null)
        {
            Console.WriteLine("  liveness: the crash scenario needs the benchmark's own private cluster (ORLEANSPGSTORE_BENCH_CONNECTION is set); skipped");
        }
        else
        {
            if (parts.Contains("crash"))
            {
                await CrashCatchUpAsync(context, cluster, restarts, quietPool: false);
            }

            if (parts.Contains("quiet"))
            {
                await CrashCatchUpAsync(context, cluster, restarts, quietPool: true);
            }
        }

        if (parts.Contains("shares"))
        {
            await SharesAsync(context, drains);
        }
    }

    /// <summary>
    /// Two workers with the default options drain a backlog of 100 streams × 100 events into a read model, while the rest
    /// of the application commits durably (a small insert every 50 ms, as grains appending and saving state would, which
    /// writes out the WAL of every asynchronous commit before it, such as a claim); once a quarter is projected the server
    /// is crashed and restarted. Catch-up is the time from the restarted server accepting
    /// connections until every event is projected (the rest of the drain included, about half a second here).
    /// With <paramref name="quietPool"/> the workers' pool is emptied at the restart, so no statement of theirs meets a
    /// dead connection and nothing tells them the server went away (as when the pool had pruned its idle connections,
    /// or another step used them up): only the state in the database can.
    /// </summary>
    private static async Task CrashCatchUpAsync(BenchContext context, PrivatePostgresCluster cluster, int restarts, bool quietPool)
    {
        var catchUps = new List<double>();
        var lostCommits = 0;
        for (var run = 1; run <= restarts; run++)
        {
            var schema = $"{context.Schema}_crash{run}{(quietPool ? "q" : "")}";
            await using var dataSource = NpgsqlDataSource.Create(context.ConnectionString);
            await using var journal = new JournalStore(new JournalStoreOptions { DataSource = dataSource, Schema = schema });
            await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = dataSource, Schema = schema });
            await journal.SeedAsync();
            await leases.SeedAsync();
            for (var s = 0; s < 100; s++)
            {
                await journal.CommitAsync($"crash-{s}", Enumerable.Range(0, 100).Select(_ => new EventData("Happened", BenchContext.Payload)).ToArray());
            }

            const long total = 100 * 100;
            var model = $"{schema}.model";
            await ExecAsync(context.ConnectionString, $"CREATE TABLE {model} (position bigint PRIMARY KEY, stream text NOT NULL)");
            var registry = new ReactionRegistry().Project(["Happened"], Insert(model));
            var workers = Enumerable.Range(0, 2)
                .Select(_ => new ReactionWorker(new ReactionLoop(journal, leases, registry, new ReactionOptions { Name = schema }), journal))
                .ToList();
            foreach (var worker in workers)
            {
                await worker.StartAsync();
            }

            using var stopApplication = new CancellationTokenSource();
            var application = Task.Run(() => ApplicationAsync(context.ConnectionString, schema, stopApplication.Token));
            long projectedBefore;
            while ((projectedBefore = await CountAsync(context.ConnectionString, $"SELECT count(*) FROM {model}")) < total / 4)
            {
                await Task.Delay(2);
            }

            await CrashRestartAsync(cluster);
            var restartedAt = Stopwatch.GetTimestamp();
            if (quietPool)
            {
                dataSource.Clear();
            }

            var projectedAfter = await CountAsync(context.ConnectionString, $"SELECT count(*) FROM {model}");
            // Rows only grow between the count and the crash: fewer after it means acknowledged commits were lost.
            if (projectedAfter < projectedBefore)
            {
                lostCommits++;
            }

            while (await CountAsync(context.ConnectionString, $"SELECT count(*) FROM {model}") < total)
            {
                if (Stopwatch.GetElapsedTime(restartedAt) > TimeSpan.FromMinutes(2))
                {
                    throw new InvalidOperationException($"crash run {run}: not drained within 2 minutes of the restart");
                }

                await Task.Delay(5);
            }

            var catchUp = Stopwatch.GetElapsedTime(restartedAt).TotalSeconds;
            await stopApplication.CancelAsync();
            await application;
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }

            // Exactly once: every event, no other row (a duplicate would have failed the primary key and been redone).
            var missing = await CountAsync(context.ConnectionString,
                $"SELECT count(*) FROM {schema}.events e WHERE NOT EXISTS (SELECT 1 FROM {model} m WHERE m.position = e.position)");
            if (missing != 0 || await CountAsync(context.ConnectionString, $"SELECT count(*) FROM {model}") != total)
            {
                throw new InvalidOperationException($"crash run {run}: {missing} events missing from the read model");
            }

            catchUps.Add(catchUp);
            Console.WriteLine($"    crash {run}: {projectedBefore:#,0} rows just before the crash, {projectedAfter:#,0} after the restart" +
                              $"{(projectedAfter < projectedBefore ? " (acknowledged projection commits lost)" : "")}; drained {catchUp:0.00} s after the restart; exactly once");
            await ExecAsync(context.ConnectionString, $"DROP SCHEMA {schema} CASCADE");
        }

        catchUps.Sort();
        var r = context.Report;
        var pool = quietPool ? ", workers' pool emptied at the restart" : "";
        r.AddValue($"Crash (pg_ctl -m immediate) a quarter into a drain of 100 × 100, 2 workers, default options{pool}: restart → drain complete, worst of {restarts}", catchUps[^1], "s", "≤ 2 s");
        r.AddValue($"… median of {restarts}", catchUps[catchUps.Count / 2], "s", "");
        r.AddValue($"… runs where the crash lost acknowledged projection commits (of {restarts})", lostCommits, "", "");
        // The run's shared pool lost its connections with the server.
        context.DataSource.Clear();
    }

    /// <summary>Two workers with the default options drain 100 streams × 100 events of fresh work; each one's share.</summary>
    private static async Task SharesAsync(BenchContext context, int drains)
    {
        var schema = $"{context.Schema}_shares";
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = context.DataSource, Schema = schema });
        await journal.SeedAsync();
        for (var s = 0; s < 100; s++)
        {
            await journal.CommitAsync($"share-{s}", Enumerable.Range(0, 100).Select(_ => new EventData("Happened", BenchContext.Payload)).ToArray());
        }

        const long total = 100 * 100;
        var model = $"{schema}.model";
        var lowest = new List<double>();
        var rates = new List<double>();
        for (var drain = 1; drain <= drains; drain++)
        {
            var table = $"subs_{drain}";
            await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = context.DataSource, Schema = schema, Table = table });
            await leases.SeedAsync();
            await context.ExecAsync($"DROP TABLE IF EXISTS {model}; CREATE TABLE {model} (position bigint PRIMARY KEY, stream text NOT NULL)");
            var registry = new ReactionRegistry().Project(["Happened"], Insert(model));
            var workers = Enumerable.Range(0, 2)
                .Select(_ => new ReactionWorker(new ReactionLoop(journal, leases, registry, new ReactionOptions { Name = table }), journal))
                .ToList();
            var started = Stopwatch.GetTimestamp();
            foreach (var worker in workers)
            {
                await worker.StartAsync();
            }

            while (workers.Sum(w => w.HandledEvents) < total)
            {
                if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromMinutes(2))
                {
                    throw new InvalidOperationException($"share drain {drain}: not drained within 2 minutes");
                }

                await Task.Delay(2);
            }

            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var shares = workers.Select(w => (double)w.HandledEvents / total).ToList();
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }

            if (await context.ScalarAsync<long>($"SELECT count(*) FROM {model}") != total)
            {
                throw new InvalidOperationException($"share drain {drain}: not one row per event");
            }

            lowest.Add(shares.Min());
            rates.Add(total / elapsed);
            Console.WriteLine($"    share drain {drain}: {total / elapsed:#,0} events/s; shares {string.Join(" / ", shares.Select(s => s.ToString("P0")))}");
        }

        var r = context.Report;
        r.AddValue($"Two workers, default options, drains of 100 × 100 fresh events (projection): lowest share of a worker, worst of {drains} drains", lowest.Min() * 100, "%", "≥ 30 %");
        r.AddValue($"… median of the drains' lowest shares", lowest.Order().ElementAt(lowest.Count / 2) * 100, "%", "");
        r.AddValue($"… drains in which one worker handled everything (of {drains})", lowest.Count(l => l == 0), "", "");
        r.AddValue($"… drain rate, median of {drains}", rates.Order().ElementAt(rates.Count / 2), "/s", "");
        await context.ExecAsync($"DROP SCHEMA {schema} CASCADE");
    }

    private static Func<ProjectionBatch, CancellationToken, Task> Insert(string model) => async (batch, ct) =>
    {
        var events = batch.Events.ToList();
        await using var command = batch.CreateCommand($"INSERT INTO {model} SELECT * FROM unnest($1::bigint[], $2::text[])");
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Position).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => e.Stream).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    };

    /// <summary>The rest of the application: a durable one-row insert every 50 ms; failures (the server is away) are retried.</summary>
    private static async Task ApplicationAsync(string connectionString, string schema, CancellationToken stop)
    {
        await ExecAsync(connectionString, $"CREATE TABLE {schema}.application (at timestamptz NOT NULL DEFAULT now())");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var insert = dataSource.CreateCommand($"INSERT INTO {schema}.application DEFAULT VALUES");
                await insert.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                dataSource.Clear();
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }

    /// <summary>pg_ctl -m immediate restart (the Testing helper's way, callable on any version of it).</summary>
    private static Task CrashRestartAsync(PrivatePostgresCluster cluster)
        => cluster.RunProgramAsync("pg_ctl", ["-D", Path.Combine(cluster.Directory, "data"), "-m", "immediate", "-w", "-t", "60", "restart"]);

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        // Connections of its own, not pooled: the pools' connections die with the server.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(sql, connection);
                return Convert.ToInt64(await command.ExecuteScalarAsync());
            }
            catch (NpgsqlException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task ExecAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
