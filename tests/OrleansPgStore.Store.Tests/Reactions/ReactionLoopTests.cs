using System.Text.Json;
using System.Collections.Concurrent;
using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

public sealed class ReactionLoopTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static ReactionOptions Fast(Action<ReactionOptions>? configure = null)
    {
        var options = new ReactionOptions
        {
            MaxClaim = 3,
            PageSize = 3,
            PollInterval = TimeSpan.FromMilliseconds(20),
            Backoff = new RetryBackoff { Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.Zero, Jitter = 0 },
        };
        configure?.Invoke(options);
        return options;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Correlation_gives_a_resolver_of_its_own_the_whole_event_and_default_targets_their_own_streams(bool ownResolver)
    {
        var suffix = ownResolver ? "r" : "d";
        await using var journal = await db.JournalAsync($"resolve_events_{suffix}");
        await using var leases = await db.LeasesAsync($"resolve_subs_{suffix}");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 4; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(5)));
        }

        // Targets by the payload's parity: a resolver that would see an empty payload could not place any event.
        var seen = new ConcurrentDictionary<long, string>();
        Func<RecordedEvent, ReactionTarget?>? resolver = ownResolver
            ? e => new ReactionTarget(JsonDocument.Parse(e.Json).RootElement.GetProperty("value").GetInt32() % 2 == 0 ? "even" : "odd", null)
            : null;
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            seen[e.Position] = e.Json;
            return Task.CompletedTask;
        }, resolver);
        await new ReactionLoop(journal, leases, registry, Fast(o => o.MaxClaim = 8)).UntilIdleAsync();

        Assert.Equal(committed.Select(e => e.Position).Order(), seen.Keys.Order());
        static int Value(string json) => JsonDocument.Parse(json).RootElement.GetProperty("value").GetInt32();
        Assert.All(committed, e => Assert.Equal(Value(e.Json), Value(seen[e.Position])));
        var targets = (await leases.QueryStreamsAsync(new SubscriptionFilter())).Select(t => t.Stream).Order().ToList();
        Assert.Equal(ownResolver ? ["even", "odd"] : ["s0", "s1", "s2", "s3"], targets);
    }

    [Fact]
    public async Task A_cycle_that_fails_after_claiming_hands_its_targets_back_before_the_next_claim()
    {
        await using var journal = await db.JournalAsync("left_events");
        await using var leases = new LeaseStore(new LeaseStoreOptions
        {
            ConnectionString = db.ConnectionString, Schema = db.Name, Table = "left_subs", CommandTimeout = TimeSpan.FromSeconds(1),
        });
        await leases.SeedAsync();
        var committed = await journal.CommitAsync("s", Events.Many(1));

        // The first delivery locks the target's row until the test lets go, so the cycle's ack times out and the cycle
        // fails still holding a ten-minute lease.
        await using var locker = await db.Schema.DataSource.OpenConnectionAsync();
        NpgsqlTransaction? lockTransaction = null;
        var deliveries = 0;
        var registry = new ReactionRegistry().On("Happened", async (_, ct) =>
        {
            if (Interlocked.Increment(ref deliveries) == 1)
            {
                lockTransaction = await locker.BeginTransactionAsync(ct);
                await using var lockRow = new NpgsqlCommand($"SELECT 1 FROM \"{db.Name}\".left_subs WHERE stream = 's' FOR UPDATE", locker, lockTransaction);
                await lockRow.ExecuteNonQueryAsync(ct);
            }
        });
        var loop = new ReactionLoop(journal, leases, registry, Fast(o => o.LeaseDuration = TimeSpan.FromMinutes(10)));

        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while ((await loop.RunCycleAsync()).Claimed == 0)
            {
            }
        });
        Assert.Equal(loop.Holder, Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s"))).Holder);
        await lockTransaction!.RollbackAsync();

        // The next cycle hands the lease back first, so it claims the target again at once (at least once: redelivered).
        var next = await loop.RunCycleAsync();
        Assert.Equal(1, next.Claimed);
        Assert.Equal(2, deliveries);
        var state = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s")));
        Assert.Null(state.Holder);
        Assert.Equal(committed[0].Position, state.At);
    }

    [Fact]
    public async Task A_worker_stopped_in_the_middle_of_a_cycle_hands_back_the_targets_it_claimed()
    {
        await using var journal = await db.JournalAsync("stopped_events");
        await using var leases = await db.LeasesAsync("stopped_subs");
        var committed = await journal.CommitAsync("s", Events.Many(1));
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new ReactionRegistry().On("Happened", async (_, ct) =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        });
        var worker = new ReactionWorker(new ReactionLoop(journal, leases, registry, Fast(o => o.LeaseDuration = TimeSpan.FromMinutes(10))), journal);
        await worker.StartAsync();
        await entered.Task.WaitAsync(Patience);
        Assert.NotNull(Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s"))).Holder);

        await worker.DisposeAsync();

        // Not handled, and free for the next worker at once rather than in ten minutes.
        var state = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s")));
        Assert.Null(state.Holder);
        Assert.True(state.At < committed[0].Position);
    }

    [Fact]
    public async Task Six_competing_workers_handle_every_event_exactly_once_in_effect_and_in_order()
    {
        await using var journal = await db.JournalAsync("react_events");
        await using var leases = await db.LeasesAsync("react_subs");
        var effects = $"\"{db.Name}\".react_effects";
        await db.Schema.ExecuteAsync($"CREATE TABLE {effects} (stream text, version bigint, PRIMARY KEY (stream, version))");
        var seen = new ConcurrentDictionary<string, List<long>>();
        var registry = new ReactionRegistry().On("Happened", async (e, ct) =>
        {
            var versions = seen.GetOrAdd(e.Stream, _ => []);
            lock (versions)
            {
                versions.Add(e.Version);
            }

            // Idempotent by position: a redelivery cannot double the effect.
            await db.Schema.ExecuteAsync($"INSERT INTO {effects} VALUES ('{e.Stream}', {e.Version}) ON CONFLICT DO NOTHING");
        });

        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 24; s++)
        {
            committed.AddRange(await journal.CommitAsync($"stream-{s}", Events.Many(4)));
        }

        var workers = Enumerable.Range(0, 6)
            .Select(_ => new ReactionWorker(new ReactionLoop(journal, leases, registry, Fast()), journal))
            .ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync();
        }

        // The second half arrives while the workers run.
        for (var s = 0; s < 24; s++)
        {
            committed.AddRange(await journal.CommitAsync($"stream-{s}", Events.Many(4)));
        }

        await WaitForAsync(() => db.Schema.ScalarAsync<long>($"SELECT count(*) FROM {effects}"), 24 * 8);
        await WaitForAsync(async () => (await leases.QueryStreamsAsync(new SubscriptionFilter(), limit: 100))
            .Count(s => s.At == committed.Where(e => e.Stream == s.Stream).Max(e => e.Position)), 24);
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        Assert.Equal(24 * 8, await db.Schema.ScalarAsync<long>($"SELECT count(DISTINCT (stream, version)) FROM {effects}"));
        foreach (var (stream, versions) in seen)
        {
            // In order: an event is only ever handled after every earlier event of its stream.
            var firsts = versions.Distinct().ToList();
            Assert.Equal(Enumerable.Range(0, 8).Select(v => (long)v), firsts);
        }

        var states = await leases.QueryStreamsAsync(new SubscriptionFilter(), limit: 100);
        Assert.Equal(24, states.Count);
        Assert.All(states, s => Assert.Equal(committed.Where(e => e.Stream == s.Stream).Max(e => e.Position), s.At));
        Assert.All(states, s => Assert.False(s.Blocked));
    }

    [Fact]
    public async Task A_poison_stream_is_blocked_with_its_error_while_the_others_drain()
    {
        await using var journal = await db.JournalAsync("poison_events");
        await using var leases = await db.LeasesAsync("poison_subs");
        var handled = new ConcurrentBag<string>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            if (e.Stream == "poison" && e.Version == 1)
            {
                throw new InvalidOperationException("cannot digest event 1");
            }

            handled.Add($"{e.Stream}/{e.Version}");
            return Task.CompletedTask;
        });
        foreach (var stream in new[] { "a", "poison", "b" })
        {
            await journal.CommitAsync(stream, Events.Many(3));
        }

        var loop = new ReactionLoop(journal, leases, registry, Fast(o => o.MaxRetries = 2));
        await DrainAsync(loop);

        var poison = (await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true })).Single();
        Assert.Equal("poison", poison.Stream);
        Assert.Contains("cannot digest event 1", poison.Error);
        // Its handled prefix (event 0) is kept as the watermark; nothing after the poison event ran.
        var poisonEvents = await journal.LoadAsync("poison").ToListAsync();
        Assert.Equal(poisonEvents[0].Position, poison.At);
        Assert.DoesNotContain("poison/2", handled);
        Assert.Equal(["a/0", "a/1", "a/2", "b/0", "b/1", "b/2", "poison/0"], handled.Distinct().Order());
    }

    [Fact]
    public async Task A_handler_that_overruns_its_lease_is_cancelled_retried_and_blocked_once_retries_are_used_up()
    {
        await using var journal = await db.JournalAsync("overrun_events");
        await using var leases = await db.LeasesAsync("overrun_subs");
        var calls = 0;
        var registry = new ReactionRegistry().On("Happened", async (_, ct) =>
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(Timeout.Infinite, ct); // never finishes within the lease
        });
        await journal.CommitAsync("slow", Events.Many(1));
        var loop = new ReactionLoop(journal, leases, registry, Fast(o =>
        {
            o.MaxRetries = 1;
            o.LeaseDuration = TimeSpan.FromMilliseconds(100);
        }));

        var deadline = DateTime.UtcNow + Patience;
        while ((await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true })).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the overrunning target was never blocked");
            await loop.RunCycleAsync();
        }

        var blocked = (await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true })).Single();
        Assert.Equal("slow", blocked.Stream);
        Assert.Equal(2, calls); // the first attempt and one retry
    }

    [Fact]
    public async Task A_handler_that_ignores_cancellation_cannot_hang_the_worker()
    {
        await using var journal = await db.JournalAsync("deaf_events");
        await using var leases = await db.LeasesAsync("deaf_subs");
        var never = new TaskCompletionSource();
        var registry = new ReactionRegistry().On("Happened", (_, _) => never.Task); // deaf to its token
        await journal.CommitAsync("deaf", Events.Many(1));
        var loop = new ReactionLoop(journal, leases, registry, Fast(o =>
        {
            o.MaxRetries = 0;
            o.LeaseDuration = TimeSpan.FromMilliseconds(100);
        }));

        var deadline = DateTime.UtcNow + Patience;
        while ((await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true })).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the deaf handler's target was never blocked");
            await loop.RunCycleAsync();
        }

        never.SetResult();
    }

    [Fact]
    public async Task A_target_whose_attempts_are_used_up_without_any_report_is_blocked_before_dispatch()
    {
        await using var journal = await db.JournalAsync("undispatched_events");
        await using var leases = await db.LeasesAsync("undispatched_subs");
        var calls = 0;
        var registry = new ReactionRegistry().On("Happened", (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.CompletedTask;
        });
        await journal.CommitAsync("lost", Events.Many(1));
        var loop = new ReactionLoop(journal, leases, registry, Fast(o => o.MaxRetries = 2));
        Assert.Equal(1, await CorrelateSettledAsync(loop));
        // Earlier holders claimed it three times and never reported back (each overran its lease, or died).
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".undispatched_subs SET retry = 2 WHERE stream = 'lost'");

        var result = await loop.RunCycleAsync();

        Assert.Equal(1, result.Blocked);
        Assert.Equal(0, calls);
        var blocked = (await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true })).Single();
        Assert.Contains("Blocked before dispatch", blocked.Error);
    }

    [Fact]
    public async Task Reset_replays_a_target_from_its_first_event()
    {
        await using var journal = await db.JournalAsync("reset_events");
        await using var leases = await db.LeasesAsync("reset_subs");
        var handled = new ConcurrentQueue<long>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            handled.Enqueue(e.Version);
            return Task.CompletedTask;
        });
        await journal.CommitAsync("s", Events.Many(3));
        var loop = new ReactionLoop(journal, leases, registry, Fast());
        await DrainAsync(loop);

        Assert.Equal(1, await leases.ResetAsync(SubscriptionFilter.ForStreams("s")));
        await DrainAsync(loop);

        Assert.Equal([0L, 1, 2, 0, 1, 2], handled);
    }

    [Fact]
    public async Task A_projection_over_many_streams_gets_batches_in_position_order()
    {
        await using var journal = await db.JournalAsync("projection_events");
        await using var leases = await db.LeasesAsync("projection_subs");
        var batches = new ConcurrentQueue<ReactionBatch>();
        var registry = new ReactionRegistry().OnBatch(["Happened"], (batch, _) =>
        {
            batches.Enqueue(batch);
            return Task.CompletedTask;
        }, target: _ => new ReactionTarget("totals", Source: null));
        var committed = new List<RecordedEvent>();
        for (var i = 0; i < 4; i++)
        {
            committed.AddRange(await journal.CommitAsync($"s{i % 2}", Events.Many(2)));
        }

        await DrainAsync(new ReactionLoop(journal, leases, registry, Fast()));

        var seen = batches.SelectMany(b => b.Events).Select(e => e.Position).ToList();
        Assert.Equal(committed.Select(e => e.Position), seen);
        Assert.All(batches, b => Assert.Equal("totals", b.Target));
        Assert.Equal(committed[^1].Position, (await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("totals"))).Single().At);
    }

    [Fact]
    public async Task The_first_event_of_a_stream_is_never_lost()
    {
        await using var journal = await db.JournalAsync("first_events");
        await using var leases = await db.LeasesAsync("first_subs");
        var handled = new ConcurrentBag<long>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            handled.Add(e.Version);
            return Task.CompletedTask;
        });
        var loop = new ReactionLoop(journal, leases, registry, Fast());
        await loop.RunCycleAsync();
        await journal.CommitAsync("s", Events.Many(1));

        await DrainAsync(loop);

        Assert.Equal([0L], handled);
    }

    [Fact]
    public async Task A_worker_that_vanishes_after_discovering_never_holds_up_the_others_discovery()
    {
        await using var journal = await db.JournalAsync("vanish_events");
        await using var leases = await db.LeasesAsync("vanish_subs");
        var model = await ReadModel.CreateAsync(db.Schema.DataSource, db.Name, "vanish_model");
        var registry = new ReactionRegistry().Project(["Happened"], model.Apply("any"));
        var first = await journal.CommitAsync("s", Events.Many(2));

        // The first worker discovers "s", then its process dies: it never stops, never releases anything.
        var vanished = new ReactionLoop(journal, leases, registry, Fast());
        Assert.Equal(2, await CorrelateSettledAsync(vanished));

        // Another worker discovers what comes next at once (not after a 30 s lease), and handles everything.
        var second = await journal.CommitAsync("t", Events.Many(1));
        var survivor = new ReactionLoop(journal, leases, registry, Fast());
        for (var cycle = 0; cycle < 50 && await model.CountAsync() < 3; cycle++)
        {
            await survivor.RunCycleAsync();
        }

        await model.AssertExactlyOnceAsync(first.Concat(second));
    }

    [Fact]
    public async Task A_second_worker_finds_fresh_work_of_its_own_in_its_first_cycle()
    {
        await using var journal = await db.JournalAsync("share_events");
        await using var leases = await db.LeasesAsync("share_subs");
        var model = await ReadModel.CreateAsync(db.Schema.DataSource, db.Name, "share_model");
        var registry = new ReactionRegistry().Project(["Happened"], model.Apply("any"));
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 4; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(3)));
        }

        // Each discovery page holds two streams, and each cycle claims two: the first worker claims all it found.
        var options = Fast(o => (o.MaxClaim, o.CorrelationBatch) = (2, 6));
        var a = new ReactionLoop(journal, leases, registry, options);
        var b = new ReactionLoop(journal, leases, registry, options);
        CycleResult first;
        while ((first = await a.RunCycleAsync()).Claimed == 0)
        {
            await Task.Delay(10); // the feed settles
        }

        var second = await b.RunCycleAsync();

        Assert.Equal((2, 6), (first.Claimed, first.Handled));
        Assert.Equal((2, 6), (second.Claimed, second.Handled));
        await model.AssertExactlyOnceAsync(committed);
    }

    [Fact]
    public async Task Workers_discovering_at_once_raise_every_work_mark_and_skip_none()
    {
        await using var journal = await db.JournalAsync("race_events");
        await using var leases = await db.LeasesAsync("race_subs");
        var registry = new ReactionRegistry().On("Happened", (_, _) => Task.CompletedTask);
        var loops = Enumerable.Range(0, 4).Select(_ => new ReactionLoop(journal, leases, registry, Fast(o => o.CorrelationBatch = 7))).ToList();
        using var stop = new CancellationTokenSource();
        var discovering = loops.Select(loop => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await loop.CorrelateAsync();
            }
        })).ToList();

        var heads = new Dictionary<string, long>();
        for (var i = 0; i < 200; i++)
        {
            var stream = $"s{i % 23}";
            heads[stream] = (await journal.CommitAsync(stream, Events.Many(1 + i % 3)))[^1].Position;
        }

        // Everything committed is discovered: every target's work mark reaches its stream's head.
        await Eventually.WaitAsync(
            async () => (await leases.QueryStreamsAsync(new SubscriptionFilter())).Count(t => heads.GetValueOrDefault(t.Stream) == t.Work) == heads.Count,
            "every work mark reaches its stream's head", Patience);
        await stop.CancelAsync();
        await Task.WhenAll(discovering);
        var targets = await leases.QueryStreamsAsync(new SubscriptionFilter());
        Assert.Equal(heads.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => (h.Key, h.Value)), targets.Select(t => (t.Stream, t.Work)));
    }

    // A commit in flight anywhere on the shared server holds the feed back for a moment: look again until it settles.
    private static async Task<int> CorrelateSettledAsync(ReactionLoop loop)
    {
        var deadline = DateTime.UtcNow + Patience;
        int read;
        while ((read = await loop.CorrelateAsync()) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the feed never settled");
            await Task.Delay(10);
        }

        return read;
    }

    private static async Task DrainAsync(ReactionLoop loop)
    {
        for (var idle = 0; idle < 2;)
        {
            // A settling feed (a commit in flight anywhere on the server) is not idle: look again.
            var result = await loop.RunCycleAsync();
            idle = result.Idle && !result.Settling ? idle + 1 : 0;
        }
    }

    private static Task WaitForAsync(Func<Task<long>> probe, long expected) => Eventually.EqualAsync(probe, expected, "the count");

    private static Task WaitForAsync(Func<Task<int>> probe, int expected) => WaitForAsync(async () => (long)await probe(), expected);
}
