using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>Transactional projections: writes and watermarks commit together, so each event's effect lands once.</summary>
public sealed class ProjectionTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static ReactionOptions Options(string name, Action<ReactionOptions>? configure = null)
    {
        var options = new ReactionOptions
        {
            Name = name,
            MaxClaim = 4,
            PageSize = 5,
            PollInterval = TimeSpan.FromMilliseconds(20),
            Backoff = new RetryBackoff { Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.Zero, Jitter = 0 },
        };
        configure?.Invoke(options);
        return options;
    }

    private async Task<ReadModel> ModelAsync(string table) => await ReadModel.CreateAsync(db.Schema.DataSource, db.Name, table);

    [Fact]
    public async Task Competing_workers_project_every_event_once_in_order()
    {
        await using var journal = await db.JournalAsync("proj_events");
        await using var leases = await db.LeasesAsync("proj_subs");
        var model = await ModelAsync("proj_model");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 12; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(7)));
        }

        var workers = Enumerable.Range(0, 3)
            .Select(i => new ReactionWorker(
                new ReactionLoop(journal, leases, new ReactionRegistry().Project(["Happened"], model.Apply($"w{i}")), Options("proj")), journal))
            .ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync();
        }

        for (var s = 0; s < 12; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(4)));
        }

        await Eventually.WaitAsync(async () => await model.CountAsync() >= committed.Count, "every event is projected");
        await Eventually.WaitAsync(async () => (await leases.QueryStreamsAsync(new SubscriptionFilter())).All(s => s.At == s.Work && s.Holder is null),
            "every watermark is at its work mark");
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        await model.AssertExactlyOnceAsync(committed);
        // In order within each stream: versions by position are contiguous from 0.
        await using var command = db.Schema.DataSource.CreateCommand(
            $"SELECT count(*) FROM (SELECT version, row_number() OVER (PARTITION BY stream ORDER BY position) - 1 AS n FROM {model.Table}) x WHERE version <> n");
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_holder_whose_lease_was_taken_mid_batch_commits_nothing()
    {
        await using var journal = await db.JournalAsync("stolen_events");
        await using var leases = await db.LeasesAsync("stolen_subs");
        var model = await ModelAsync("stolen_model");
        var committed = await journal.CommitAsync("s", Events.Many(5));

        // A writes its rows, then waits in its transaction on an advisory lock the test holds.
        var gate = Random.Shared.NextInt64(1_000_000, int.MaxValue);
        await using var gateHolder = await db.Schema.DataSource.OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({gate})", gateHolder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var applyA = model.Apply("A");
        var registryA = new ReactionRegistry().Project(["Happened"], async (batch, ct) =>
        {
            await applyA(batch, ct);
            written.TrySetResult();
            await using var wait = batch.CreateCommand($"SELECT pg_advisory_xact_lock_shared({gate})");
            await wait.ExecuteNonQueryAsync(ct);
        });
        var a = new ReactionLoop(journal, leases, registryA, Options("stolen", o => o.LeaseDuration = TimeSpan.FromMinutes(5)), holder: "A");
        var cycleA = Task.Run(async () =>
        {
            while (true)
            {
                var result = await a.RunCycleAsync();
                if (result.Claimed > 0)
                {
                    return result;
                }
            }
        });
        await written.Task.WaitAsync(Eventually.Patience);

        // A's lease runs out (by the database's clock) while it is still in its batch, and B takes the target over.
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".stolen_subs SET leased_until = now() - interval '1 second' WHERE stream = 's'");
        var b = new ReactionLoop(journal, leases, new ReactionRegistry().Project(["Happened"], model.Apply("B")), Options("stolen"), holder: "B");
        await b.UntilIdleAsync();

        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({gate})", gateHolder))
        {
            await release.ExecuteNonQueryAsync();
        }

        var stale = await cycleA.WaitAsync(Eventually.Patience);
        Assert.Equal(["s"], stale.Dropped);
        Assert.Equal(0, stale.Handled);
        await model.AssertExactlyOnceAsync(committed);
        Assert.Equal(0L, await model.CountAsync("holder = 'A'"));
        var state = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s")));
        Assert.Equal(committed[^1].Position, state.At);
        Assert.Null(state.Holder);
    }

    [Fact]
    public async Task A_failing_target_retries_alone_and_is_blocked_while_the_others_commit()
    {
        await using var journal = await db.JournalAsync("poison_events");
        await using var leases = await db.LeasesAsync("poison_subs");
        var model = await ModelAsync("poison_model");
        var committed = new List<RecordedEvent>();
        RecordedEvent? poison = null;
        for (var s = 0; s < 4; s++)
        {
            if (s == 2)
            {
                // The poison event opens its target, so every batch of that target holds it, wherever the feed's
                // pages happen to end (a commit in flight elsewhere on the server can cut a page short).
                poison = (await journal.CommitAsync("s2", [Events.Make("Happened", 666)]))[0];
            }

            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(3)));
        }

        var apply = model.Apply("w");
        var registry = new ReactionRegistry().Project(["Happened"], async (batch, ct) =>
        {
            await apply(batch, ct);
            if (batch.Events.Any(e => e.Position == poison!.Position))
            {
                // Fails after writing: those writes must roll back with the target's attempt.
                throw new InvalidOperationException("poison");
            }
        });
        var loop = new ReactionLoop(journal, leases, registry, Options("poison", o =>
        {
            o.MaxRetries = 1;
            o.MaxClaim = 4;
            o.PageSize = 100;
        }));
        await loop.UntilIdleAsync();

        var s2 = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s2")));
        Assert.True(s2.Blocked);
        Assert.Contains("poison", s2.Error);
        // The poison target's other events were in its failed batches too: none of them landed.
        var landed = committed.Where(e => e.Stream != "s2").ToList();
        await model.AssertExactlyOnceAsync(landed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_per_event_projection_lands_each_event_once_and_a_failing_event_rolls_back_its_whole_attempt(bool queued)
    {
        var suffix = queued ? "q" : "x";
        await using var journal = await db.JournalAsync($"each_events_{suffix}");
        await using var leases = await db.LeasesAsync($"each_subs_{suffix}");
        var model = await ModelAsync($"each_model_{suffix}");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 6; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(4)));
        }

        // The third event of s5 fails: the two before it were written in the same transaction and roll back with it.
        var poison = committed.Where(e => e.Stream == "s5").ElementAt(2);
        var apply = queued ? model.QueueEach("each") : model.ApplyEach("each");
        var seen = new List<long>();
        var registry = new ReactionRegistry().ProjectEach(["Happened"], async (e, transaction, ct) =>
        {
            seen.Add(e.Position);
            await apply(e, transaction, ct);
            if (e.Position == poison.Position)
            {
                throw new InvalidOperationException("poison");
            }
        });
        var loop = new ReactionLoop(journal, leases, registry, Options("each", o =>
        {
            o.MaxRetries = 1;
            o.PageSize = 100;
        }));
        await loop.UntilIdleAsync();

        Assert.True(Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s5"))).Blocked);
        await model.AssertExactlyOnceAsync(committed.Where(e => e.Stream != "s5"));
        // Called per event, in order within each target.
        foreach (var stream in committed.Where(e => e.Stream != "s5").Select(e => e.Stream).Distinct())
        {
            var mine = committed.Where(e => e.Stream == stream).Select(e => e.Position).ToList();
            Assert.Equal(mine, seen.Where(mine.Contains).Distinct());
        }
    }

    [Fact]
    public async Task Competing_workers_with_a_queued_per_event_projection_land_every_event_once_in_order()
    {
        await using var journal = await db.JournalAsync("queued_events");
        await using var leases = await db.LeasesAsync("queued_subs");
        var model = await ModelAsync("queued_model");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 15; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(9)));
        }

        var workers = Enumerable.Range(0, 3)
            .Select(i => new ReactionWorker(
                new ReactionLoop(journal, leases, new ReactionRegistry().ProjectEach(["Happened"], model.QueueEach($"w{i}")), Options("queued")), journal))
            .ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync();
        }

        for (var s = 0; s < 15; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(3)));
        }

        await Eventually.WaitAsync(async () => (await leases.QueryStreamsAsync(new SubscriptionFilter())).Count(s => s.At == s.Work && s.Holder is null) == 15
                                               && await model.CountAsync() >= committed.Count,
            "every watermark is at its work mark");
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        await model.AssertExactlyOnceAsync(committed);
        await using var command = db.Schema.DataSource.CreateCommand(
            $"SELECT count(*) FROM (SELECT version, row_number() OVER (PARTITION BY stream ORDER BY position) - 1 AS n FROM {model.Table}) x WHERE version <> n");
        Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_cycle_whose_queued_statement_fails_keeps_none_of_its_queue_and_only_that_stream_is_blocked()
    {
        await using var journal = await db.JournalAsync("badqueue_events");
        await using var leases = await db.LeasesAsync("badqueue_subs");
        var model = await ModelAsync("badqueue_model");
        // The read model refuses version 2 of stream s3: the server rejects the batch while the worker sends it.
        await db.Schema.ExecuteAsync($"ALTER TABLE {model.Table} ADD CONSTRAINT no_s3_v2 CHECK (NOT (stream = 's3' AND version = 2))");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 6; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(5)));
        }

        var attempts = 0;
        var apply = model.QueueEach("w");
        var registry = new ReactionRegistry().ProjectEach(["Happened"], (e, transaction, ct) =>
        {
            Interlocked.Increment(ref attempts);
            return apply(e, transaction, ct);
        });
        var loop = new ReactionLoop(journal, leases, registry, Options("badqueue", o =>
        {
            o.MaxRetries = 2;
            o.PageSize = 100;
            o.MaxClaim = 10;
        }));
        await loop.UntilIdleAsync();

        var s3 = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s3")));
        Assert.True(s3.Blocked);
        Assert.Contains("no_s3_v2", s3.Error);
        await model.AssertExactlyOnceAsync(committed.Where(e => e.Stream != "s3"));
        Assert.True(attempts > committed.Count, "the failed cycle ran again target by target");
        // Negative control: without the constraint the same stream lands.
        await db.Schema.ExecuteAsync($"ALTER TABLE {model.Table} DROP CONSTRAINT no_s3_v2");
        await leases.UnblockAsync(SubscriptionFilter.ForStreams("s3"));
        await loop.UntilIdleAsync();
        await model.AssertExactlyOnceAsync(committed);
    }

    [Fact]
    public async Task A_statement_run_at_once_sees_the_queued_writes_only_after_a_flush_and_is_refused_before_it()
    {
        await using var journal = await db.JournalAsync("readown_events");
        await using var leases = await db.LeasesAsync("readown_subs");
        var model = await ModelAsync("readown_model");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 3; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(4)));
        }

        // Each event counts the rows its stream already has: with a flush first, the count sees every queued write.
        var queue = model.QueueEach("w");
        var seen = new Dictionary<long, long>();
        var registry = new ReactionRegistry().ProjectEach(["Happened"], async (e, transaction, ct) =>
        {
            await transaction.FlushAsync(ct);
            await using var count = transaction.CreateCommand($"SELECT count(*) FROM {model.Table} WHERE stream = $1");
            count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
            seen[e.Position] = (long)(await count.ExecuteScalarAsync(ct))!;
            await queue(e, transaction, ct);
        });
        await new ReactionLoop(journal, leases, registry, Options("readown", o => o.PageSize = 100)).UntilIdleAsync();

        await model.AssertExactlyOnceAsync(committed);
        Assert.Equal(committed.ToDictionary(e => e.Position, e => e.Version), seen);

        // Without the flush the statement is refused (it would miss the queued writes): the target fails, nothing lands.
        var refused = await ModelAsync("readown_refused");
        var queueRefused = refused.QueueEach("w");
        var errors = new List<Exception>();
        var unflushed = new ReactionRegistry().ProjectEach(["Happened"], async (e, transaction, ct) =>
        {
            await queueRefused(e, transaction, ct);
            try
            {
                await using var count = transaction.CreateCommand($"SELECT count(*) FROM {refused.Table}");
                await count.ExecuteScalarAsync(ct);
            }
            catch (InvalidOperationException x)
            {
                errors.Add(x);
                throw;
            }
        });
        await using var refusedLeases = await db.LeasesAsync("readown_refused_subs");
        await new ReactionLoop(journal, refusedLeases, unflushed, Options("readown_refused", o =>
        {
            o.MaxRetries = 0;
            o.PageSize = 100;
        })).UntilIdleAsync();

        Assert.Equal(0L, await refused.CountAsync());
        Assert.NotEmpty(errors);
        Assert.All(errors, x => Assert.Contains("FlushAsync", x.Message));
        var targets = await refusedLeases.QueryStreamsAsync(new SubscriptionFilter());
        Assert.Equal(3, targets.Count);
        Assert.All(targets, s => Assert.True(s.Blocked));
    }

    [Fact]
    public async Task A_per_event_projection_longer_than_one_queue_lands_every_event_once()
    {
        await using var journal = await db.JournalAsync("longqueue_events");
        await using var leases = await db.LeasesAsync("longqueue_subs");
        var model = await ModelAsync("longqueue_model");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 5; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(500)));
        }

        // 2,500 events in one cycle: the queue is sent in parts, all in the cycle's transaction.
        var registry = new ReactionRegistry().ProjectEach(["Happened"], model.QueueEach("w"));
        var loop = new ReactionLoop(journal, leases, registry, Options("longqueue", o =>
        {
            o.PageSize = 1000;
            o.MaxClaim = 5;
            o.CorrelationBatch = 5000;
        }));
        await loop.UntilIdleAsync();

        await model.AssertExactlyOnceAsync(committed);
    }

    [Fact]
    public async Task Rebuild_clears_the_read_model_with_the_reset_and_replays_reporting_progress()
    {
        await using var journal = await db.JournalAsync("rebuild_events");
        await using var leases = await db.LeasesAsync("rebuild_subs");
        var model = await ModelAsync("rebuild_model");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 5; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(6)));
            await journal.CommitAsync($"s{s}", [Events.Make("Ignored")]);
        }

        var registry = new ReactionRegistry().Project(["Happened"], model.Apply("first"), model.ClearAsync);
        var loop = new ReactionLoop(journal, leases, registry, Options("rebuild"));
        await loop.UntilIdleAsync();
        await model.AssertExactlyOnceAsync(committed);

        var reports = new List<RebuildProgress>();
        var rebuilt = new ReactionLoop(journal, leases, new ReactionRegistry().Project(["Happened"], model.Apply("rebuilt"), model.ClearAsync),
            Options("rebuild"));
        var final = await rebuilt.RebuildAsync(progress: new SynchronousProgress(reports.Add));

        Assert.Equal(new RebuildProgress(committed.Count, committed.Count, 5), final);
        Assert.Equal(new RebuildProgress(0, committed.Count, 5), reports[0]);
        Assert.Equal(final, reports[^1]);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.Done <= p.Second.Done), "progress never goes back");
        await model.AssertExactlyOnceAsync(committed);
        Assert.Equal(0L, await model.CountAsync("holder = 'first'"));
    }

    [Fact]
    public async Task A_lanes_rebuild_clears_and_replays_that_lanes_read_model_only()
    {
        await using var journal = await db.JournalAsync("lanerebuild_events");
        await using var leases = await db.LeasesAsync("lanerebuild_subs");
        var models = new Dictionary<string, ReadModel>
        {
            [""] = await ModelAsync("lanerebuild_default"),
            ["audit"] = await ModelAsync("lanerebuild_audit"),
        };
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 4; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(5)));
        }

        ReactionRegistry Registry(string holder)
        {
            var registry = new ReactionRegistry();
            foreach (var (lane, model) in models)
            {
                registry.Project(
                    ["Happened"],
                    model.Apply(holder),
                    model.ClearAsync,
                    lane.Length == 0 ? null : e => new ReactionTarget($"{lane}/{e.Stream}", e.Stream),
                    lane: lane);
            }

            return registry;
        }

        foreach (var lane in models.Keys)
        {
            await new ReactionLoop(journal, leases, Registry("first"), Options("lanerebuild", o => o.Lane = lane)).UntilIdleAsync();
        }

        foreach (var model in models.Values)
        {
            await model.AssertExactlyOnceAsync(committed);
        }

        var final = await new ReactionLoop(journal, leases, Registry("rebuilt"), Options("lanerebuild", o => o.Lane = "audit")).RebuildAsync();

        Assert.Equal(new RebuildProgress(committed.Count, committed.Count, 4), final);
        await models["audit"].AssertExactlyOnceAsync(committed);
        Assert.Equal(committed.Count, await models["audit"].CountAsync("holder = 'rebuilt'"));
        // The default lane's targets were not reset: its read model must keep what they projected.
        await models[""].AssertExactlyOnceAsync(committed);
        Assert.Equal(committed.Count, await models[""].CountAsync("holder = 'first'"));
    }

    [Fact]
    public async Task A_rebuild_takes_the_leases_of_a_batch_in_flight_which_then_commits_nothing()
    {
        await using var journal = await db.JournalAsync("inflight_events");
        await using var leases = await db.LeasesAsync("inflight_subs");
        var model = await ModelAsync("inflight_model");
        var committed = await journal.CommitAsync("s", Events.Many(4));
        var gate = Random.Shared.NextInt64(1_000_000, int.MaxValue);
        await using var gateHolder = await db.Schema.DataSource.OpenConnectionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({gate})", gateHolder))
        {
            await take.ExecuteNonQueryAsync();
        }

        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var apply = model.Apply("inflight");
        var slow = new ReactionLoop(journal, leases, new ReactionRegistry().Project(["Happened"], async (batch, ct) =>
        {
            await apply(batch, ct);
            written.TrySetResult();
            await using var wait = batch.CreateCommand($"SELECT pg_advisory_xact_lock_shared({gate})");
            await wait.ExecuteNonQueryAsync(ct);
        }), Options("inflight"));
        var inFlight = Task.Run(async () =>
        {
            while (true)
            {
                var result = await slow.RunCycleAsync();
                if (result.Claimed > 0)
                {
                    return result;
                }
            }
        });
        await written.Task.WaitAsync(Eventually.Patience);

        // The reset commits while the batch waits; the rebuild's own replay then projects everything.
        var rebuilder = new ReactionLoop(journal, leases, new ReactionRegistry().Project(["Happened"], model.Apply("rebuilt"), model.ClearAsync),
            Options("inflight"));
        var rebuild = rebuilder.RebuildAsync();
        await Eventually.WaitAsync(async () => await model.CountAsync("holder = 'rebuilt'") == committed.Count, "the rebuild replays");
        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({gate})", gateHolder))
        {
            await release.ExecuteNonQueryAsync();
        }

        Assert.Equal(["s"], (await inFlight.WaitAsync(Eventually.Patience)).Dropped);
        await rebuild.WaitAsync(Eventually.Patience);
        await model.AssertExactlyOnceAsync(committed);
        Assert.Equal(0L, await model.CountAsync("holder = 'inflight'"));
    }

    /// <summary>Reports on the calling thread (<see cref="Progress{T}"/> posts to the thread pool, out of order).</summary>
    private sealed class SynchronousProgress(Action<RebuildProgress> report) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => report(value);
    }
}
