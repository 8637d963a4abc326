using System.Collections.Concurrent;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>
/// Fresh work is discovered a small page first (see <see cref="CorrelationPageSize"/>), so a worker that starts with
/// another is not left waiting on one large read while the other claims: two loops driven cycle by cycle each get a share.
/// </summary>
public sealed class FreshWorkSharesTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private const int Streams = 100;
    private const int PerStream = 100;

    [Fact]
    public async Task A_backlog_is_discovered_a_small_page_first_then_fourfold_and_a_new_burst_starts_small_again()
    {
        await using var journal = await db.JournalAsync("pages_events");
        await using var leases = await db.LeasesAsync("pages_subs");
        await CommitAsync(journal, "a");
        var loop = new ReactionLoop(journal, leases, Registry(new ConcurrentBag<(string, long)>(), "only"), new ReactionOptions { Name = "pages" });

        // 3,200 first (four first claims of 100-event pages), then up to the default CorrelationBatch: the rest. Negative
        // control: before, the first cycle read all 10,000.
        Assert.Equal(new[] { 3_200, 6_800, 0 }, await CorrelatedAsync(loop, 3));
        await loop.UntilIdleAsync();

        // Caught up (the last page was short): the next burst is read from a small page again.
        await CommitAsync(journal, "b");
        Assert.Equal(new[] { 3_200, 6_800 }, await CorrelatedAsync(loop, 2));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Two_loops_driven_cycle_by_cycle_both_take_part_in_fresh_work_from_their_first_cycle(int firstCyclesAlone)
    {
        await using var journal = await db.JournalAsync($"shares_events_{firstCyclesAlone}");
        await using var leases = await db.LeasesAsync($"shares_subs_{firstCyclesAlone}");
        await CommitAsync(journal, "s");
        var handled = new ConcurrentBag<(string Holder, long Position)>();
        var options = new ReactionOptions { Name = "shares" };
        var first = new ReactionLoop(journal, leases, Registry(handled, "first"), options, holder: "first");
        var second = new ReactionLoop(journal, leases, Registry(handled, "second"), options, holder: "second");
        for (var i = 0; i < firstCyclesAlone; i++)
        {
            await first.RunCycleAsync();
        }

        // The second loop's first cycle finds work of its own: the first loop's first page left most of the feed unread
        // (negative control: with 10,000-event first pages it read nothing, and claimed only what was left of the first's).
        var joined = await second.RunCycleAsync();
        Assert.Equal(3_200, joined.Correlated);
        Assert.Equal(8 * PerStream, joined.Handled);

        for (var round = 0; round < 20; round++)
        {
            await first.RunCycleAsync();
            await second.RunCycleAsync();
        }

        // Every event once, and each loop at least 30 % of them (60/40 here: 8 + 32 + 20 against 8 + 32). With first pages
        // of 1,000 events (ten targets: the first claim took eight, the other loop two) this ended 72/28.
        var positions = handled.Select(h => h.Position).ToList();
        Assert.Equal(Streams * PerStream, positions.Count);
        Assert.Equal(positions.Count, positions.Distinct().Count());
        foreach (var holder in new[] { "first", "second" })
        {
            Assert.InRange(handled.Count(h => h.Holder == holder), Streams * PerStream * 3 / 10, Streams * PerStream);
        }
    }

    [Fact]
    public async Task A_loop_that_lost_the_race_for_a_page_claims_marked_work_before_reading_the_feed_again()
    {
        await using var journal = await db.JournalAsync("first_events");
        await using var leases = await db.LeasesAsync("first_subs");
        await CommitAsync(journal, "s", streams: 2 * Streams);
        var handled = new ConcurrentBag<(string Holder, long Position)>();
        var options = new ReactionOptions { Name = "first" };
        var loop = new ReactionLoop(journal, leases, Registry(handled, "loop"), options, holder: "loop");
        var other = new ReactionLoop(journal, leases, Registry(handled, "other"), options, holder: "other");

        var cycle = await loop.RunCycleAsync();
        Assert.Equal((3_200, 8), (cycle.Correlated, cycle.Claimed));

        // Another worker reads the rest of the feed first: the loop reads a page of it (a full one, 10,000 events, so it
        // ends where the other has been already), its advance does not apply, and the claim sent with it takes a full
        // claim of the other's marks.
        while (await other.CorrelateAsync() > 0)
        {
        }

        cycle = await loop.RunCycleAsync();
        Assert.Equal((10_000, 32), (cycle.Correlated, cycle.Claimed));

        // New events: the loop first claims marked work and leaves the feed to the other worker while it gets some
        // (negative control: reading first, this cycle correlated the 10 new events).
        await journal.CommitAsync("late", Events.Many(10));
        cycle = await loop.RunCycleAsync();
        Assert.Equal((0, 32), (cycle.Correlated, cycle.Claimed));

        // Once the marked work is claimed it reads the feed again, so nothing waits on the other worker.
        await loop.UntilIdleAsync();
        var positions = handled.Select(h => h.Position).ToList();
        Assert.Equal((2 * Streams * PerStream) + 10, positions.Count);
        Assert.Equal(positions.Count, positions.Distinct().Count());
        Assert.All(handled, h => Assert.Equal("loop", h.Holder));
    }

    private static ReactionRegistry Registry(ConcurrentBag<(string, long)> handled, string holder)
        => new ReactionRegistry().On("Happened", (e, _) =>
        {
            handled.Add((holder, e.Position));
            return Task.CompletedTask;
        });

    private static async Task CommitAsync(JournalStore journal, string prefix, int streams = Streams)
    {
        for (var s = 0; s < streams; s++)
        {
            await journal.CommitAsync($"{prefix}{s}", Events.Many(PerStream));
        }
    }

    private static async Task<int[]> CorrelatedAsync(ReactionLoop loop, int cycles)
    {
        var read = new int[cycles];
        for (var i = 0; i < cycles; i++)
        {
            read[i] = (await loop.RunCycleAsync()).Correlated;
        }

        return read;
    }
}
