using System.Collections.Concurrent;
using System.Text.Json;
using Npgsql;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// The server restarts under a steady commit and reaction load (once; <see cref="Soak"/> times with the soak switch).
/// The class starts a cluster of its own: the shared one serves classes running in parallel and must never go down.
/// </summary>
public sealed class ServerRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Schema = "restart";
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private PrivatePostgresCluster? _cluster;

    public async ValueTask InitializeAsync() => _cluster = await PrivatePostgresCluster.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Stores_and_workers_recover_by_themselves_and_every_committed_event_is_handled_with_no_duplicate_effect()
    {
        var cs = _cluster!.ConnectionString;
        await using var writer = new JournalStore(new JournalStoreOptions { ConnectionString = cs, Schema = Schema, NotifyOnCommit = true });
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = cs, Schema = Schema });
        await using var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = cs, Schema = Schema });
        await using var state = new DurableStateStore(new DurableStateStoreOptions { ConnectionString = cs, Schema = Schema });
        await writer.SeedAsync();
        await leases.SeedAsync();
        await state.SeedAsync();
        await using var effects = NpgsqlDataSource.Create(cs);
        await using (var create = effects.CreateCommand(
            $"CREATE TABLE {Schema}.effects (position bigint PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var deliveries = new ConcurrentDictionary<long, int>();
        var firstDeliveries = new Dictionary<string, List<long>>();
        var registry = new ReactionRegistry().On("Tick", async (e, ct) =>
        {
            // Idempotent by position: a redelivery (at least once) cannot double the effect.
            await using (var insert = effects.CreateCommand($"INSERT INTO {Schema}.effects VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"))
            {
                insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
                insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Version });
                await insert.ExecuteNonQueryAsync(ct);
            }

            lock (firstDeliveries)
            {
                if (deliveries.AddOrUpdate(e.Position, 1, (_, n) => n + 1) == 1)
                {
                    (firstDeliveries.TryGetValue(e.Stream, out var list) ? list : firstDeliveries[e.Stream] = []).Add(e.Version);
                }
            }
        });
        var options = new ReactionOptions
        {
            MaxClaim = 5,
            PageSize = 10,
            LeaseDuration = TimeSpan.FromSeconds(2),
            PollInterval = TimeSpan.FromMilliseconds(250),
            MaxRetries = 1000, // the outage must not block anything
            Backoff = new RetryBackoff { Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.FromMilliseconds(100), Jitter = 0 },
        };
        var workers = Enumerable.Range(0, 2)
            .Select(_ => new ReactionWorker(new ReactionLoop(journal, leases, registry, options), journal, listen: true))
            .ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync();
        }

        var committed = new ConcurrentBag<RecordedEvent>();
        var failures = new ConcurrentBag<string>();
        var restarted = false;
        var commitsAfterRestart = 0;
        var stateWritesAfterRestart = 0;
        var deadline = DateTime.UtcNow + Patience;
        using var stop = new CancellationTokenSource();

        async Task RetryAsync(Func<Task> call)
        {
            while (true)
            {
                try
                {
                    await call();
                    return;
                }
                catch (OrleansPgStoreException e) when (e.IsTransient && DateTime.UtcNow < deadline)
                {
                    failures.Add(e.Message);
                    await Task.Delay(50);
                }
            }
        }

        async Task CommitLoopAsync(int w)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var batch = Enumerable.Range(0, 1 + (i % 3))
                    .Select(k => new EventData("Tick", $$"""{"writer":{{w}},"i":{{i}},"k":{{k}}}""", Guid.NewGuid()))
                    .ToArray();
                // The outcome of a failed commit is unknown: retry the same batch; its ids make that safe.
                await RetryAsync(async () =>
                {
                    foreach (var e in await writer.CommitAsync($"w{w}-{i % 3}", batch))
                    {
                        committed.Add(e);
                    }
                });
                if (Volatile.Read(ref restarted))
                {
                    Interlocked.Increment(ref commitsAfterRestart);
                }

                await Task.Delay(5);
            }
        }

        async Task CounterLoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                // Reload before every write, so a write whose reply was lost is simply seen as done.
                await RetryAsync(async () =>
                {
                    var current = await state.LoadAsync("counter");
                    var revision = current?.Revision ?? 0;
                    await state.UpsertAsync("counter", revision, $$"""{"n":{{revision + 1}}}""");
                });
                if (Volatile.Read(ref restarted))
                {
                    Interlocked.Increment(ref stateWritesAfterRestart);
                }

                await Task.Delay(5);
            }
        }

        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(() => CommitLoopAsync(w))).Append(Task.Run(CounterLoopAsync)));
        for (var restart = 1; restart <= Soak.Factor; restart++)
        {
            var handled = await TryCountAsync(effects);
            await Eventually.WaitAsync(async () => await TryCountAsync(effects) >= handled + 30 || load.IsCompleted, "the load flows", Patience);

            await _cluster.RestartAsync();
            Interlocked.Exchange(ref commitsAfterRestart, 0);
            Interlocked.Exchange(ref stateWritesAfterRestart, 0);
            Volatile.Write(ref restarted, true);

            await Eventually.WaitAsync(
                () => Volatile.Read(ref commitsAfterRestart) >= 30 && Volatile.Read(ref stateWritesAfterRestart) >= 5 || load.IsCompleted,
                "the same store instances write again", Patience);
            await Eventually.WaitAsync(
                () => workers.All(w => w.ListenerConnections > restart) || load.IsCompleted, "both workers listen again", Patience);
        }

        await stop.CancelAsync();
        await load;

        var expected = committed.ToList();
        await Eventually.WaitAsync(async () => await TryCountAsync(effects) == expected.Count, "every committed event is handled", Patience);
        var heads = expected.GroupBy(e => e.Stream).ToDictionary(g => g.Key, g => g.Max(e => e.Position));
        await Eventually.WaitAsync(async () => (await leases.QueryStreamsAsync(new SubscriptionFilter())).Count(s => heads[s.Stream] == s.At) == heads.Count,
            "every watermark reaches its stream's head", Patience);
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        output.WriteLine($"{expected.Count} events committed, {failures.Count} failed calls retried, " +
                         $"{deliveries.Values.Count(n => n > 1)} events redelivered, listener connections: " +
                         string.Join(", ", workers.Select(w => w.ListenerConnections)));

        // Stored: exactly what the writers were told, once each (no retry appended twice), versions contiguous.
        var stored = await journal.QueryAsync(new JournalQuery()).ToListAsync();
        Assert.Equal(expected.Select(e => e.Id).Order(), stored.Select(e => e.Id).Order());
        Assert.All(stored.GroupBy(e => e.Stream), g => Assert.Equal(Enumerable.Range(0, g.Count()).Select(v => (long)v), g.Select(e => e.Version)));

        // Handled: every committed event, none skipped, no effect twice; the first deliveries in stream order.
        Assert.Equal(expected.Select(e => e.Position).Order(), await PositionsAsync(effects));
        Assert.Equal(expected.Select(e => e.Position).Order(), deliveries.Keys.Order());
        Assert.All(firstDeliveries, p => Assert.Equal(Enumerable.Range(0, p.Value.Count).Select(v => (long)v), p.Value));
        var subscriptions = await leases.QueryStreamsAsync(new SubscriptionFilter());
        Assert.Equal(heads.Count, subscriptions.Count);
        Assert.All(subscriptions, s => Assert.False(s.Blocked, s.Error));

        // The state store came back too, and no write was lost or doubled.
        var counter = await state.LoadAsync("counter");
        Assert.NotNull(counter);
        Assert.Equal(counter.Revision, JsonDocument.Parse(counter.Json).RootElement.GetProperty("n").GetInt64());
        Assert.All(workers, w => Assert.True(w.ListenerConnections > Soak.Factor, "a worker's LISTEN connection did not come back"));
    }

    /// <summary>Counts the effects, or -1 while the server is away.</summary>
    private static async Task<long> TryCountAsync(NpgsqlDataSource effects)
    {
        try
        {
            await using var count = effects.CreateCommand($"SELECT count(*) FROM {Schema}.effects");
            return (long)(await count.ExecuteScalarAsync())!;
        }
        catch (NpgsqlException)
        {
            return -1;
        }
    }

    private static async Task<List<long>> PositionsAsync(NpgsqlDataSource effects)
    {
        await using var select = effects.CreateCommand($"SELECT position FROM {Schema}.effects ORDER BY position");
        await using var reader = await select.ExecuteReaderAsync();
        var positions = new List<long>();
        while (await reader.ReadAsync())
        {
            positions.Add(reader.GetInt64(0));
        }

        return positions;
    }
}
