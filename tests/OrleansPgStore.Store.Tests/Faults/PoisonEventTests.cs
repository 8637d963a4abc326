using System.Collections.Concurrent;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// A poison event blocks its target with the error, after exactly the configured attempts, while every other target
/// keeps draining, also what arrives after the block; once fixed and unblocked, the target resumes right at the
/// poison event. (The basic case is in ReactionLoopTests.)
/// </summary>
public sealed class PoisonEventTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private const int MaxRetries = 2;

    [Fact]
    public async Task The_poisoned_target_is_blocked_with_its_error_the_others_keep_draining_and_after_unblocking_it_resumes_at_the_poison()
    {
        await using var journal = await db.JournalAsync("poison_events");
        await using var leases = await db.LeasesAsync("poison_subs");
        var handled = new ConcurrentQueue<(string Stream, long Version)>();
        var attemptsOnPoison = 0;
        var fixedHandler = false;
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            if (e.Stream == "poison" && e.Version == 2 && !Volatile.Read(ref fixedHandler))
            {
                Interlocked.Increment(ref attemptsOnPoison);
                throw new FormatException("cannot digest poison/2: 'amount' is not a number");
            }

            handled.Enqueue((e.Stream, e.Version));
            return Task.CompletedTask;
        });
        var streams = Enumerable.Range(0, 12).Select(i => $"ok-{i}").Append("poison").ToList();
        var loop = new ReactionLoop(journal, leases, registry, Options());

        foreach (var stream in streams)
        {
            await journal.CommitAsync(stream, Events.Many(3));
        }

        await loop.UntilIdleAsync();
        var poison = Assert.Single(await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true }));
        Assert.Equal("poison", poison.Stream);
        Assert.Contains("FormatException: cannot digest poison/2: 'amount' is not a number", poison.Error);
        Assert.Equal((await journal.LoadAsync("poison").ToListAsync())[1].Position, poison.At);
        Assert.Equal(MaxRetries + 1, attemptsOnPoison);

        // Later commits: every other target drains them; the blocked one is left alone.
        foreach (var stream in streams)
        {
            await journal.CommitAsync(stream, Events.Many(3));
        }

        await loop.UntilIdleAsync();
        Assert.Equal(MaxRetries + 1, attemptsOnPoison);
        Assert.All(streams.SkipLast(1), s => Assert.Equal([0L, 1, 2, 3, 4, 5], handled.Where(h => h.Stream == s).Select(h => h.Version)));
        Assert.Equal([0L, 1], handled.Where(h => h.Stream == "poison").Select(h => h.Version));

        // Fixed and unblocked: it resumes at the poison event, nothing before it is handled again.
        Volatile.Write(ref fixedHandler, true);
        Assert.Equal(1, await leases.UnblockAsync(SubscriptionFilter.ForStreams("poison")));
        await loop.UntilIdleAsync();

        Assert.Equal([0L, 1, 2, 3, 4, 5], handled.Where(h => h.Stream == "poison").Select(h => h.Version));
        Assert.Equal(streams.Count * 6, handled.Count);
        var states = await leases.QueryStreamsAsync(new SubscriptionFilter());
        Assert.All(states, s => Assert.False(s.Blocked));
        foreach (var state in states)
        {
            Assert.Equal((await journal.LoadAsync(state.Stream).ToListAsync())[^1].Position, state.At);
        }
    }

    [Fact]
    public async Task An_error_text_cut_inside_a_surrogate_pair_or_holding_nul_still_blocks_with_its_text_and_spares_the_other_acks()
    {
        await using var journal = await db.JournalAsync("poison_text_events");
        await using var leases = await db.LeasesAsync("poison_text_subs");
        // The loop keeps the first 4,000 characters of the error; put an emoji across that cut.
        var prefix = typeof(InvalidOperationException).FullName + ": ";
        var message = "bad\0byte " + new string('x', 4000 - prefix.Length - 1 - 9) + "\U0001F600 and more";
        var handled = new ConcurrentQueue<string>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            if (e.Stream == "poison")
            {
                throw new InvalidOperationException(message);
            }

            handled.Enqueue(e.Stream);
            return Task.CompletedTask;
        });
        await journal.CommitAsync("poison", Events.Many(1));
        await journal.CommitAsync("fine", Events.Many(1));

        // Both targets have work before the cycle, so it handles them together: the block and the other's ack are
        // sent side by side.
        var loop = new ReactionLoop(journal, leases, registry, Options(o => o.MaxRetries = 0));
        var correlated = 0;
        await Eventually.WaitAsync(async () => (correlated += await loop.CorrelateAsync()) == 2, "both commits are correlated");
        var result = await loop.RunCycleAsync();

        Assert.Equal((2, 1, 1), (result.Claimed, result.Blocked, result.Acked));
        var poison = Assert.Single(await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true }));
        Assert.StartsWith(prefix + "bad byte xxx", poison.Error);
        Assert.Contains("\uFFFD", poison.Error);
        Assert.Equal(["fine"], handled);
        Assert.Equal(-1, Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("fine"))).Retry);
    }

    private static ReactionOptions Options(Action<ReactionOptions>? configure = null)
    {
        var options = new ReactionOptions
        {
            MaxClaim = 5,
            MaxRetries = MaxRetries,
            Backoff = new RetryBackoff { Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.Zero, Jitter = 0 },
        };
        configure?.Invoke(options);
        return options;
    }
}
