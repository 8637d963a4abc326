using System.Collections.Concurrent;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>The claim sent with the checkpoint advance, seen from the loop: a loop that loses the race still works.</summary>
public sealed class DiscoveryRaceTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task A_loop_whose_advance_loses_the_race_claims_and_handles_the_winners_marks_in_the_same_cycle()
    {
        await using var journal = await db.JournalAsync("race_events");
        await using var leases = await db.LeasesAsync("race_subs");
        var handled = new ConcurrentBag<(string Holder, long Position)>();
        ReactionLoop Loop(string holder) => new(journal, leases,
            new ReactionRegistry().On("Happened", (e, _) =>
            {
                handled.Add((holder, e.Position));
                return Task.CompletedTask;
            }),
            new ReactionOptions { Name = "race" }, holder: holder);
        var loser = Loop("loser");
        var winner = Loop("winner");

        // The loser discovers, claims and handles the first event, and remembers where its checkpoint is.
        var first = await journal.CommitAsync("s1", Events.Many(1));
        var cycle = await loser.RunCycleAsync();
        Assert.Equal((1, 1, 1), (cycle.Correlated, cycle.Claimed, cycle.Handled));

        // The winner discovers the second event first: the loser's cached checkpoint is now behind.
        var second = await journal.CommitAsync("s2", Events.Many(1));
        Assert.Equal(1, await winner.CorrelateAsync());

        // The loser reads the same page, its advance does not apply (nothing is marked twice), and the claim sent with
        // it takes the winner's mark: handled in this very cycle.
        cycle = await loser.RunCycleAsync();
        Assert.Equal((1, 1, 1), (cycle.Correlated, cycle.Claimed, cycle.Handled));
        Assert.True(await leases.ReadCheckpointAsync("race") >= second.Single().Position);

        // Nothing left (negative control), and every event was handled once.
        Assert.True((await loser.RunCycleAsync()).Idle);
        Assert.True((await winner.RunCycleAsync()).Idle);
        Assert.Equal(
            [("loser", first.Single().Position), ("loser", second.Single().Position)],
            handled.OrderBy(h => h.Position).ToList());
    }
}
