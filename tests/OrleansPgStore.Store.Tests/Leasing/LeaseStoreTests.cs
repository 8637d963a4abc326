using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Leasing;

public sealed class LeaseStoreTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    private static WorkMark Work(string stream, long position, int priority = 0) => new(new Subscription(stream, stream, priority), position);

    [Fact]
    public async Task Subscribe_counts_new_targets_and_reports_the_highest_watermark()
    {
        await using var leases = await db.LeasesAsync("subs_subscribe");

        var first = await leases.SubscribeAsync([new Subscription("a"), new Subscription("b"), new Subscription("a")]);
        var again = await leases.SubscribeAsync([new Subscription("b"), new Subscription("c")]);

        Assert.Equal(new SubscribeResult(2, -1), first);
        Assert.Equal(1, again.Subscribed);
    }

    [Fact]
    public async Task Claim_follows_work_and_first_claim_reports_retry_zero()
    {
        await using var leases = await db.LeasesAsync("subs_work");
        await leases.SubscribeAsync([new Subscription("idle")]);
        await leases.RaiseWorkAsync([Work("busy", 42)]);

        var claimed = await leases.ClaimAsync(10, 10, "w1", Long);

        var lease = Assert.Single(claimed);
        Assert.Equal(("busy", "busy", -1L, 42L, 0L, "w1"), (lease.Stream, lease.Source, lease.At, lease.Work, lease.Retry, lease.Holder));
        Assert.Empty(await leases.ClaimAsync(10, 10, "w2", Long));
    }

    [Fact]
    public async Task Concurrent_claims_never_lease_a_target_twice()
    {
        await using var leases = await db.LeasesAsync("subs_exclusive");
        await leases.RaiseWorkAsync(Enumerable.Range(0, 200).Select(i => Work($"s{i}", 10)).ToList());

        var streams = new List<string>();
        for (var r = 0; streams.Count < 200; r++)
        {
            // A holder of its own per round: a holder claiming again would take back its own live leases.
            var claims = await Task.WhenAll(Enumerable.Range(0, 12).Select(w => Task.Run(() => leases.ClaimAsync(12, 6, $"w{w}-{r}", Long))));
            var round = claims.SelectMany(c => c).Select(l => l.Stream).ToList();
            Assert.NotEmpty(round);
            streams.AddRange(round);
        }

        Assert.Equal(200, streams.Count);
        Assert.Equal(200, streams.Distinct().Count());
    }

    [Fact]
    public async Task Ack_advances_the_watermark_releases_the_lease_and_resets_retry()
    {
        await using var leases = await db.LeasesAsync("subs_ack");
        await leases.RaiseWorkAsync([Work("s", 10)]);
        var lease = (await leases.ClaimAsync(1, 0, "w1", Long)).Single();

        var result = await leases.AckAsync([new LeaseOutcome("s", "w1", 10)]);

        Assert.Single(result.Applied);
        Assert.Empty(result.Dropped);
        var state = (await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s"))).Single();
        Assert.Equal((10L, -1L, (string?)null), (state.At, state.Retry, state.Holder));
        Assert.Empty(await leases.ClaimAsync(1, 1, "w1", Long));

        // More work: claimable again, first attempt again.
        await leases.RaiseWorkAsync([Work("s", 20)]);
        Assert.Equal(0, (await leases.ClaimAsync(1, 0, "w1", Long)).Single().Retry);
        Assert.Equal(-1, lease.At);
    }

    [Fact]
    public async Task An_expired_lease_is_reclaimed_by_another_worker_and_the_late_ack_is_dropped()
    {
        await using var leases = await db.LeasesAsync("subs_expiry");
        await leases.RaiseWorkAsync([Work("s", 10)]);
        await leases.ClaimAsync(1, 0, "slow", TimeSpan.FromMilliseconds(50));
        await WaitUntilAsync($"SELECT leased_until <= now() FROM \"{db.Name}\".subs_expiry WHERE stream = 's'");

        var taken = (await leases.ClaimAsync(1, 0, "fast", Long)).Single();
        var late = await leases.AckAsync([new LeaseOutcome("s", "slow", 10)]);
        var current = await leases.AckAsync([new LeaseOutcome("s", "fast", 10)]);

        Assert.Equal(1, taken.Retry);
        Assert.Equal("s", Assert.Single(late.Dropped).Stream);
        Assert.Empty(late.Applied);
        Assert.Single(current.Applied);
    }

    [Fact]
    public async Task Block_only_by_the_holder_and_only_once_and_blocked_targets_are_never_claimed()
    {
        await using var leases = await db.LeasesAsync("subs_block");
        await leases.RaiseWorkAsync([Work("poison", 10), Work("fine", 10)]);
        await leases.ClaimAsync(5, 0, "w1", Long);

        Assert.Empty(await leases.BlockAsync([new LeaseBlock("poison", "intruder", 3, "nope")]));
        Assert.Equal(["poison"], await leases.BlockAsync([new LeaseBlock("poison", "w1", 3, "boom")]));
        Assert.Empty(await leases.BlockAsync([new LeaseBlock("poison", "w1", 3, "again")]));
        await leases.AckAsync([new LeaseOutcome("fine", "w1", 5)]);

        var claimed = await leases.ClaimAsync(5, 5, "w2", Long);
        Assert.Equal(["fine"], claimed.Select(l => l.Stream));
        var poison = (await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true })).Single();
        Assert.Equal(("poison", 3L, "boom"), (poison.Stream, poison.At, poison.Error));

        Assert.Equal(1, await leases.UnblockAsync(SubscriptionFilter.ForStreams("poison")));
        var unblocked = (await leases.ClaimAsync(5, 0, "w3", Long)).Single();
        Assert.Equal(("poison", 0L, 3L), (unblocked.Stream, unblocked.Retry, unblocked.At));
    }

    [Fact]
    public async Task A_deferred_target_stays_hidden_until_due()
    {
        await using var leases = await db.LeasesAsync("subs_defer");
        await leases.RaiseWorkAsync([Work("later", 10), Work("failing", 10)]);
        Assert.Equal(1, await leases.DeferAsync(SubscriptionFilter.ForStreams("later"), DateTimeOffset.UtcNow.AddHours(1)));
        var failing = (await leases.ClaimAsync(5, 5, "w1", Long)).Single();
        Assert.Equal("failing", failing.Stream);

        // A failed attempt defers too, and keeps its retry count.
        await leases.AckAsync([new LeaseOutcome("failing", "w1", 4, RetryAfter: TimeSpan.FromHours(1))]);
        Assert.Empty(await leases.ClaimAsync(5, 5, "w1", Long));

        await leases.DeferAsync(new SubscriptionFilter(), null);
        var both = await leases.ClaimAsync(5, 5, "w1", Long);
        Assert.Equal(["failing", "later"], both.Select(l => l.Stream).Order());
        Assert.Equal(1, both.Single(l => l.Stream == "failing").Retry);
        Assert.Equal(4, both.Single(l => l.Stream == "failing").At);
    }

    [Fact]
    public async Task Priority_comes_first_but_the_fairness_reserve_keeps_default_targets_moving()
    {
        await using var leases = await db.LeasesAsync("subs_fair");
        var urgent = Enumerable.Range(0, 6).Select(i => Work($"urgent{i}", 1_000_000, priority: 10)).ToList();
        var normal = Enumerable.Range(0, 8).Select(i => Work($"normal{i}", 10)).ToList();
        await leases.RaiseWorkAsync([.. urgent, .. normal]);

        var claimedNormal = new HashSet<string>();
        for (var cycle = 0; cycle < 20; cycle++)
        {
            var claimed = await leases.ClaimAsync(4, 0, "w", Long);
            Assert.Equal(4, claimed.Count);
            // Three slots go by priority; the reserve slot goes to the lowest watermark, whatever its priority.
            Assert.True(claimed.Count(l => l.Stream.StartsWith("urgent")) >= 3);
            claimedNormal.UnionWith(claimed.Where(l => l.Stream.StartsWith("normal")).Select(l => l.Stream));
            // Urgent targets always have more work; normal ones finish when handled.
            await leases.AckAsync(claimed.Select(l => new LeaseOutcome(l.Stream, "w", l.Stream.StartsWith("urgent") ? l.At + 1 : l.Work)).ToList());
        }

        Assert.Equal(8, claimedNormal.Count);
    }

    [Fact]
    public async Task Lagging_and_leading_frontiers_never_return_the_same_target_twice()
    {
        await using var leases = await db.LeasesAsync("subs_frontiers");
        await leases.RaiseWorkAsync(Enumerable.Range(0, 5).Select(i => Work($"s{i}", 100)).ToList());
        await leases.ClaimAsync(5, 0, "setup", Long);
        await leases.AckAsync(Enumerable.Range(0, 5).Select(i => new LeaseOutcome($"s{i}", "setup", i * 10)).ToList());

        var claimed = await leases.ClaimAsync(2, 2, "w", Long);

        Assert.Equal(["s0", "s1"], claimed.Where(l => l.Lagging).Select(l => l.Stream).Order());
        Assert.Equal(["s3", "s4"], claimed.Where(l => !l.Lagging).Select(l => l.Stream).Order());
    }

    [Fact]
    public async Task Filters_are_exact_so_s1_never_selects_s12()
    {
        await using var leases = await db.LeasesAsync("subs_exact");
        await leases.SubscribeAsync([new Subscription("s1", "src"), new Subscription("s12", "src1"), new Subscription("S1")]);

        Assert.Equal(1, await leases.PrioritizeAsync(SubscriptionFilter.ForStreams("s1"), 5));
        Assert.Equal(1, await leases.ResetAsync(new SubscriptionFilter { Source = "src" }));
        Assert.Equal(0, await leases.ResetAsync(SubscriptionFilter.ForStreams()));
        var states = await leases.QueryStreamsAsync(new SubscriptionFilter());
        Assert.Equal(["S1", "s1", "s12"], states.Select(s => s.Stream));
        Assert.Equal([0, 5, 0], states.Select(s => s.Priority));
        Assert.Equal(["s12"], (await leases.QueryStreamsAsync(new SubscriptionFilter(), after: "s1")).Select(s => s.Stream));
    }

    [Fact]
    public async Task The_checkpoint_moves_only_from_where_its_reader_started_so_no_advance_is_lost_or_skips_a_mark()
    {
        await using var leases = await db.LeasesAsync("subs_checkpoint");

        // Missing: nothing moves it until it is read (which creates it at -1).
        Assert.Equal(new CheckpointAdvance(false, -1), await leases.AdvanceCheckpointAsync("c", -1, 5, [Work("lost", 5)]));
        Assert.Equal(-1, await leases.ReadCheckpointAsync("c"));

        // (from, to) of each advance, against the checkpoint it finds; marks are raised only when it moves.
        Assert.Equal(new CheckpointAdvance(true, 5), await leases.AdvanceCheckpointAsync("c", -1, 5, [Work("a", 5)]));
        // Another worker read the same page: already done, it reads on from 5.
        Assert.Equal(new CheckpointAdvance(false, 5), await leases.AdvanceCheckpointAsync("c", -1, 5, [Work("b", 5)]));
        // A worker that read from behind, past it: the part after 5 is new, so it moves (its earlier marks are raised again, harmlessly).
        Assert.Equal(new CheckpointAdvance(true, 8), await leases.AdvanceCheckpointAsync("c", 2, 8, [Work("c", 8)]));
        // Behind the checkpoint at both ends: nothing new.
        Assert.Equal(new CheckpointAdvance(false, 8), await leases.AdvanceCheckpointAsync("c", 2, 7, [Work("d", 7)]));
        // Read from ahead of it (a crash lost the advances this worker remembers): refused, it reads again from 8.
        Assert.Equal(new CheckpointAdvance(false, 8), await leases.AdvanceCheckpointAsync("c", 9, 12, [Work("e", 12)]));
        Assert.Equal(new CheckpointAdvance(true, 12), await leases.AdvanceCheckpointAsync("c", 8, 12, [Work("f", 12)]));
        Assert.Equal(12, await leases.ReadCheckpointAsync("c"));

        var marked = await leases.QueryStreamsAsync(new SubscriptionFilter());
        Assert.Equal(["a", "c", "f"], marked.Select(s => s.Stream));
        Assert.Equal([5L, 8, 12], marked.Select(s => s.Work));
        // Checkpoints are never targets and never show up in queries: they have a table of their own.
        Assert.Equal(1L, await db.Schema.ScalarAsync<long>($"SELECT count(*) FROM {leases.CheckpointsTable} WHERE name = 'discovery:c'"));
    }

    [Fact]
    public async Task A_holder_claims_its_own_live_lease_again_and_nobody_else_does()
    {
        await using var leases = await db.LeasesAsync("subs_own");
        await leases.RaiseWorkAsync([Work("t", 5)]);
        var first = Assert.Single(await leases.ClaimAsync(1, 0, "a", Long));

        // A loop claims between its cycles only, so a lease it still holds is one whose report never took effect.
        Assert.Empty(await leases.ClaimAsync(5, 5, "b", Long));
        Assert.Empty(await leases.ClaimAsync(5, 5, "a-", Long));
        var again = Assert.Single(await leases.ClaimAsync(1, 0, "a", Long));
        Assert.Equal(("t", -1L, 5L, first.Retry + 1), (again.Stream, again.At, again.Work, again.Retry));
        Assert.Empty(await leases.ClaimAsync(5, 5, "b", Long));

        // Its report applies as usual.
        Assert.Single((await leases.AckAsync([new LeaseOutcome("t", "a", 5)])).Applied);
        Assert.Empty(await leases.ClaimAsync(5, 5, "a", Long));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lease_writes_commit_in_either_mode_and_never_change_the_pooled_connections_setting(bool synchronous)
    {
        // The test server runs with synchronous_commit off; this pool's sessions start with it on, so a leak would show.
        await using var onePool = Npgsql.NpgsqlDataSource.Create(db.ConnectionString + ";Maximum Pool Size=1;Options=-c synchronous_commit=on");
        await using var leases = new LeaseStore(new LeaseStoreOptions
        {
            DataSource = onePool, Schema = db.Name, Table = $"subs_commit_{synchronous}", SynchronousCommit = synchronous,
        });
        await leases.SeedAsync();
        await leases.RaiseWorkAsync([Work("s", 10)]);

        var lease = (await leases.ClaimAsync(1, 0, "w", Long)).Single();
        await leases.AckAsync([new LeaseOutcome("s", "w", lease.Work)]);

        // The only connection of the pool served both writes; the setting was local to their transactions.
        await using var show = onePool.CreateCommand("SHOW synchronous_commit");
        Assert.Equal("on", await show.ExecuteScalarAsync());
        Assert.Equal(10, (await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s"))).Single().At);
    }

    [Fact]
    public async Task Counters_and_positions_are_64_bit()
    {
        await using var leases = await db.LeasesAsync("subs_64");
        await leases.RaiseWorkAsync([Work("s", 9_000_000_000_000)]);
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".subs_64 SET retry = 4000000000");

        var lease = (await leases.ClaimAsync(1, 0, "w", Long)).Single();

        Assert.Equal((9_000_000_000_000L, 4_000_000_001L), (lease.Work, lease.Retry));
    }

    private async Task WaitUntilAsync(string condition)
    {
        while (!await db.Schema.ScalarAsync<bool>(condition))
        {
            await Task.Delay(10);
        }
    }
}
