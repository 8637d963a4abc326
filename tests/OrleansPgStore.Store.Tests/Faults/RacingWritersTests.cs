using System.Text.Json;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// Two writers in different processes (their own store instances and pools) race on one stream or one state, round
/// after round: both read the same version, then both write expecting it. Exactly one wins each round.
/// </summary>
public sealed class RacingWritersTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly int Rounds = 24 * Soak.Factor;
    private static readonly TimeSpan BarrierPatience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task On_one_stream_exactly_one_writer_wins_each_version_and_the_other_gets_a_concurrency_error()
    {
        await using var seeded = await db.JournalAsync("race_events");
        var stores = new[] { await db.JournalAsync("race_events"), await db.JournalAsync("race_events") };
        using var barrier = new Barrier(stores.Length);
        var won = new List<(int Writer, int Round, RecordedEvent Event)>[] { [], [] };
        var lost = new List<(int Round, StreamConcurrencyException Error)>[] { [], [] };

        await Task.WhenAll(stores.Select((store, w) => Task.Run(async () =>
        {
            var next = 0; // this writer's next unacknowledged batch; a lost round retries it
            for (var round = 0; round < Rounds; round++)
            {
                // Every shape of commit: single event (fast path), batch, batch with ids.
                var batch = Enumerable.Range(0, round % 2 == 0 ? 1 : 3)
                    .Select(k => new EventData("Raced", $$"""{"writer":{{w}},"batch":{{next}},"k":{{k}}}""", round % 4 == 3 ? Guid.NewGuid() : null))
                    .ToArray();
                Sync(barrier);
                var version = await store.CurrentVersionAsync("s");
                Sync(barrier);
                try
                {
                    won[w].AddRange((await store.CommitAsync("s", batch, expectedVersion: version)).Select(e => (w, round, e)));
                    next++;
                }
                catch (StreamConcurrencyException e)
                {
                    lost[w].Add((round, e));
                }
            }
        })));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        var wins = won.SelectMany(x => x).ToList();
        var losses = lost.SelectMany(x => x).ToList();
        Assert.Equal(Rounds, wins.Select(x => x.Round).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, Rounds), losses.Select(x => x.Round).Order());
        foreach (var (round, error) in losses)
        {
            // The loser saw exactly what the round's winner wrote.
            var winner = wins.Where(x => x.Round == round).ToList();
            Assert.Equal("s", error.Stream);
            Assert.Equal(winner[0].Event.Version - 1, error.ExpectedVersion);
            Assert.Equal(winner[^1].Event.Version, error.ActualVersion);
        }

        // The stream is exactly the acknowledged events, each once, versions contiguous, each writer's in its order.
        var stream = await seeded.LoadAsync("s").ToListAsync();
        Assert.Equal(Enumerable.Range(0, stream.Count).Select(v => (long)v), stream.Select(e => e.Version));
        Assert.Equal(wins.Select(x => x.Event.Position).Order(), stream.Select(e => e.Position));
        Assert.Equal(wins.Count, await db.CountAsync("race_events"));
        foreach (var w in new[] { 0, 1 })
        {
            var batches = stream.Select(e => JsonDocument.Parse(e.Json).RootElement)
                .Where(p => p.GetProperty("writer").GetInt32() == w)
                .Select(p => p.GetProperty("batch").GetInt32())
                .Distinct();
            Assert.Equal(Enumerable.Range(0, won[w].Select(x => x.Round).Distinct().Count()), batches);
        }
    }

    [Fact]
    public async Task On_one_state_exactly_one_writer_wins_each_revision_and_the_other_gets_a_concurrency_error()
    {
        await using var seeded = await db.StateAsync("race_state");
        var stores = new[] { await db.StateAsync("race_state"), await db.StateAsync("race_state") };
        using var barrier = new Barrier(stores.Length);
        var wins = new int[Rounds];
        var losses = new int[Rounds];
        var lastWinner = -1;

        await Task.WhenAll(stores.Select((store, w) => Task.Run(async () =>
        {
            for (var round = 0; round < Rounds; round++)
            {
                Sync(barrier);
                var revision = (await store.LoadAsync("p"))?.Revision ?? 0;
                Sync(barrier);
                try
                {
                    Assert.Equal(revision + 1, await store.UpsertAsync("p", revision, $$"""{"writer":{{w}},"round":{{round}}}"""));
                    Interlocked.Increment(ref wins[round]);
                    lastWinner = round == Rounds - 1 ? w : lastWinner;
                }
                catch (StateConcurrencyException e)
                {
                    Assert.Equal(revision, e.ExpectedRevision);
                    Assert.Equal(revision + 1, e.ActualRevision);
                    Interlocked.Increment(ref losses[round]);
                }
            }
        })));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        Assert.All(wins, n => Assert.Equal(1, n));
        Assert.All(losses, n => Assert.Equal(1, n));
        var final = (await seeded.LoadAsync("p"))!;
        Assert.Equal(Rounds, final.Revision);
        Assert.Equal(lastWinner, JsonDocument.Parse(final.Json).RootElement.GetProperty("writer").GetInt32());
        Assert.Equal(1, await db.CountAsync("race_state"));
    }

    private static void Sync(Barrier barrier)
        => Assert.True(barrier.SignalAndWait(BarrierPatience), "the other writer never arrived");
}
