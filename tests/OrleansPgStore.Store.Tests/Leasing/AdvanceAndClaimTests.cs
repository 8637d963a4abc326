using Npgsql;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Leasing;

/// <summary>
/// The checkpoint advance with the claim in the same round trip (the reaction loop's wake-up path): the claim sees the
/// advance's marks, claims others' marks when the advance does not apply, keeps SKIP LOCKED and the own-lease reclaim,
/// and commits with the advance or not at all.
/// </summary>
public sealed class AdvanceAndClaimTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    private static WorkMark Work(string stream, long position, int priority = 0) => new(new Subscription(stream, stream, priority), position);

    [Fact]
    public async Task The_claim_sees_the_advances_marks_and_takes_what_others_marked_when_the_advance_does_not_apply()
    {
        await using var leases = await db.LeasesAsync("ac_marks");
        await leases.RaiseWorkAsync([Work("x", 3)]);
        Assert.Equal(-1, await leases.ReadCheckpointAsync("c"));

        // Applies: "a" (marked by this very call, first by priority) is claimed in the same transaction.
        var (advance, claimed) = await leases.AdvanceCheckpointAndClaimAsync("c", -1, 5, [Work("a", 5, priority: 5)], null, 1, 0, "w", Long);
        Assert.Equal(new CheckpointAdvance(true, 5), advance);
        var a = Assert.Single(claimed);
        Assert.Equal(("a", "a", -1L, 5L, 0L, "w"), (a.Stream, a.Source, a.At, a.Work, a.Retry, a.Holder));

        // Another worker read the same page: its advance writes nothing ("b" is never marked), its claim takes "x".
        (advance, claimed) = await leases.AdvanceCheckpointAndClaimAsync("c", -1, 5, [Work("b", 5)], null, 10, 0, "v", Long);
        Assert.Equal(new CheckpointAdvance(false, 5), advance);
        Assert.Equal(["x"], claimed.Select(l => l.Stream));
        Assert.Empty(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("b")));

        // Nothing left for a third worker (negative control); the checkpoint stayed where the first advance put it.
        (advance, claimed) = await leases.AdvanceCheckpointAndClaimAsync("c", -1, 5, [], null, 10, 10, "u", Long);
        Assert.Equal((new CheckpointAdvance(false, 5), 0), (advance, claimed.Count));
        Assert.Equal(5, await leases.ReadCheckpointAsync("c"));
    }

    [Fact]
    public async Task The_claim_skips_targets_locked_by_others_and_takes_its_own_live_leases_again()
    {
        await using var leases = await db.LeasesAsync("ac_locks");
        await leases.ReadCheckpointAsync("c");
        await leases.RaiseWorkAsync([Work("locked", 2), Work("mine", 2, priority: 1)]);
        var mine = Assert.Single(await leases.ClaimAsync(1, 0, "w", Long), l => l.Stream == "mine");

        // Another transaction holds the row of "locked" (an ack or a projection in flight): skipped, not waited for.
        await using var other = new NpgsqlConnection(db.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM \"{db.Name}\".ac_locks WHERE stream = 'locked' FOR UPDATE", other, transaction))
        {
            await lockRow.ExecuteNonQueryAsync();
        }

        var (advance, claimed) = await leases.AdvanceCheckpointAndClaimAsync("c", -1, 4, [Work("fresh", 4)], null, 10, 0, "w", Long);
        Assert.True(advance.Advanced);
        // "mine" again (its report never came: the holder claims between its cycles only), with the attempt counted.
        Assert.Equal(["fresh", "mine"], claimed.Select(l => l.Stream).Order());
        Assert.Equal(mine.Retry + 1, claimed.Single(l => l.Stream == "mine").Retry);

        // Once the other transaction ends, "locked" is claimable (by anyone without a live lease on it).
        await transaction.RollbackAsync();
        Assert.Equal(["locked"], (await leases.ClaimAsync(10, 0, "v", Long)).Select(l => l.Stream));
    }

    [Fact]
    public async Task The_advance_and_the_claim_commit_together_or_not_at_all()
    {
        await using var leases = await db.LeasesAsync("ac_atomic");
        await leases.ReadCheckpointAsync("c");
        await leases.RaiseWorkAsync([Work("t", 1)]);
        // A claim by holder 'boom' fails on the server, after the advance in the same transaction has applied.
        await db.Schema.ExecuteAsync($"""
            CREATE FUNCTION "{db.Name}".ac_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.leased_by = 'boom' THEN RAISE EXCEPTION 'claim refused'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER ac_boom BEFORE UPDATE ON "{db.Name}".ac_atomic FOR EACH ROW EXECUTE FUNCTION "{db.Name}".ac_boom();
            """);

        await Assert.ThrowsAnyAsync<Exception>(() => leases.AdvanceCheckpointAndClaimAsync("c", -1, 3, [Work("n", 3)], null, 10, 0, "boom", Long));

        // Nothing of the call committed: the checkpoint did not move, the mark was not raised, nothing is leased.
        Assert.Equal(-1, await leases.ReadCheckpointAsync("c"));
        Assert.Empty(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("n")));
        Assert.Null((await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("t"))).Single().Holder);

        // Negative control: the same call by another holder commits both.
        var (advance, claimed) = await leases.AdvanceCheckpointAndClaimAsync("c", -1, 3, [Work("n", 3)], null, 10, 0, "fine", Long);
        Assert.Equal(new CheckpointAdvance(true, 3), advance);
        Assert.Equal(["n", "t"], claimed.Select(l => l.Stream).Order());
    }

    [Fact]
    public async Task Arguments_are_checked_before_anything_is_sent()
    {
        await using var leases = await db.LeasesAsync("ac_args");
        await leases.ReadCheckpointAsync("c");

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => leases.AdvanceCheckpointAndClaimAsync("c", 5, 5, [], null, 1, 0, "w", Long));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => leases.AdvanceCheckpointAndClaimAsync("c", -1, 5, [], null, -1, 0, "w", Long));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => leases.AdvanceCheckpointAndClaimAsync("c", -1, 5, [], null, 1, 0, "", Long));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => leases.AdvanceCheckpointAndClaimAsync("c", -1, 5, [], null, 1, 0, "w", TimeSpan.Zero));
        Assert.Equal(-1, await leases.ReadCheckpointAsync("c"));

        // Claiming nothing: the advance alone.
        var (advance, claimed) = await leases.AdvanceCheckpointAndClaimAsync("c", -1, 5, [Work("s", 5)], null, 0, 0, "w", Long);
        Assert.Equal((new CheckpointAdvance(true, 5), 0), (advance, claimed.Count));
    }
}
