using System.Collections.Concurrent;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>
/// Every stream name the journal accepts can be a target: events in streams named like the loop's own bookkeeping
/// (<c>$checkpoint:{group}</c>, <c>$retention:{events table}</c>, their new keys <c>discovery:…</c> and <c>retention:…</c>),
/// starting with '$', or holding ':', spaces and non-ASCII text are handled exactly once alongside ordinary streams, by
/// both discovery paths, and neither stalls discovery nor touches the group's checkpoint or the retention turn.
/// </summary>
public sealed class AnyStreamNameTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private const string Group = "anyname";

    /// <summary>The corpus of stream names, for a journal whose events table is <paramref name="eventsTable"/>.</summary>
    private static string[] Corpus(string eventsTable) =>
    [
        "$x", $"$checkpoint:{Group}", $"$retention:{eventsTable}", "$checkpoint:", "$retention:", "$$", "$", "$1",
        $"discovery:{Group}", $"retention:{eventsTable}", "a:b:c", ":", "with space", " ", "中文-😀", "ok-0", "ok-1", "ok-2",
    ];

    public enum Handler
    {
        /// <summary>A transactional projection (<see cref="ReactionRegistry.Project"/>) into a read model without a key.</summary>
        Project,

        /// <summary>An at-least-once handler (<see cref="ReactionRegistry.On"/>), recording each call.</summary>
        AtLeastOnce,
    }

    /// <summary>How events find their targets.</summary>
    public enum Targets
    {
        /// <summary>Each event its own stream, the default: discovery runs in the database.</summary>
        OwnStreamInDatabase,

        /// <summary>Each event its own stream, named explicitly as a resolver: discovery runs in the loop.</summary>
        OwnStreamInLoop,

        /// <summary>A resolver of its own that sends the "ok-" streams' events to one target named "$totals": in the loop.</summary>
        DollarTarget,
    }

    [Theory]
    [InlineData(Targets.OwnStreamInDatabase, Handler.Project)]
    [InlineData(Targets.OwnStreamInDatabase, Handler.AtLeastOnce)]
    [InlineData(Targets.OwnStreamInLoop, Handler.Project)]
    [InlineData(Targets.OwnStreamInLoop, Handler.AtLeastOnce)]
    [InlineData(Targets.DollarTarget, Handler.Project)]
    [InlineData(Targets.DollarTarget, Handler.AtLeastOnce)]
    public async Task Events_in_streams_of_any_name_are_handled_exactly_once_without_stalling_discovery(Targets targets, Handler handler)
    {
        var events = $"any_events_{(int)targets}_{(int)handler}";
        await using var journal = await db.JournalAsync(events);
        await using var leases = await db.LeasesAsync($"any_subs_{(int)targets}_{(int)handler}");
        var model = await ReadModel.CreateAsync(db.Schema.DataSource, db.Name, $"any_model_{(int)targets}_{(int)handler}");
        var calls = new ConcurrentQueue<RecordedEvent>();
        Func<RecordedEvent, ReactionTarget?>? resolve = targets switch
        {
            Targets.OwnStreamInDatabase => null,
            Targets.OwnStreamInLoop => ReactionTarget.OwnStream,
            _ => e => e.Stream.StartsWith("ok-", StringComparison.Ordinal) ? new ReactionTarget("$totals", null) : ReactionTarget.OwnStream(e),
        };
        var registry = handler == Handler.Project
            ? new ReactionRegistry().Project(["A"], model.Apply("w"), target: resolve)
            : new ReactionRegistry().On("A", (e, _) => { calls.Enqueue(e); return Task.CompletedTask; }, resolve);
        var loop = new ReactionLoop(journal, leases, registry, new ReactionOptions { Name = Group, CorrelationBatch = 5 });
        var corpus = Corpus(events);
        var random = new Random(20261207);

        // Interleaved commits of 1 to 3 events ("B" is handled by nobody: it moves the feed without marking anything).
        var committed = new List<RecordedEvent>();
        async Task CommitAsync(int commits)
        {
            for (var i = 0; i < commits; i++)
            {
                var stream = corpus[random.Next(corpus.Length)];
                var recorded = await journal.CommitAsync(stream, [.. Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Events.Make(random.Next(6) == 0 ? "B" : "A"))]);
                committed.AddRange(recorded.Where(e => e.Name == "A"));
            }

            // Every name gets an event, so each is a target.
            foreach (var stream in corpus)
            {
                committed.AddRange(await journal.CommitAsync(stream, [Events.Make("A")]));
            }
        }

        async Task<IReadOnlyList<long>> HandledAsync()
            => handler == Handler.Project ? await model.PositionsAsync() : calls.Select(e => e.Position).Order().ToList();

        async Task DrainAsync(string what)
        {
            await Eventually.WaitAsync(
                async () =>
                {
                    await loop.RunCycleAsync();
                    return (await HandledAsync()).Count >= committed.Count;
                },
                what);

            // A few more cycles: nothing is handled twice.
            for (var i = 0; i < 3; i++)
            {
                await loop.RunCycleAsync();
            }

            Assert.Equal(committed.Select(e => e.Position).Order(), await HandledAsync());
        }

        await CommitAsync(60);
        await DrainAsync("every event of the first commits is handled");

        // The retention turn of this events table is its own row, apart from the target named after it.
        var taken = await leases.TryTakeRetentionTurnAsync(events, "retention-a", TimeSpan.FromHours(1));
        Assert.Equal((true, (DateTimeOffset?)null), taken);
        Assert.False((await leases.TryTakeRetentionTurnAsync(events, "retention-b", TimeSpan.FromHours(1))).Taken);

        await CommitAsync(40);
        await DrainAsync("every event of the later commits is handled");
        Assert.False((await leases.TryTakeRetentionTurnAsync(events, "retention-b", TimeSpan.FromHours(1))).Taken);

        // Discovery read past every event, and every target caught up, in order within each.
        Assert.True(await leases.ReadCheckpointAsync(Group) >= committed.Max(e => e.Position));
        var expectedTargets = committed.Select(e => resolve?.Invoke(e)?.Stream ?? e.Stream).Distinct().Order(StringComparer.Ordinal).ToList();
        var subscriptions = await leases.QueryStreamsAsync(new SubscriptionFilter());
        Assert.Equal(expectedTargets, subscriptions.Select(s => s.Stream).Order(StringComparer.Ordinal));
        Assert.All(subscriptions, s => Assert.True(s.At == s.Work && !s.Blocked, $"target '{s.Stream}' at {s.At}, work {s.Work}, blocked {s.Blocked}"));
        if (handler == Handler.AtLeastOnce)
        {
            foreach (var target in calls.GroupBy(e => resolve?.Invoke(e)?.Stream ?? e.Stream))
            {
                Assert.Equal(target.Select(e => e.Position).Order(), target.Select(e => e.Position));
            }
        }
    }
}
