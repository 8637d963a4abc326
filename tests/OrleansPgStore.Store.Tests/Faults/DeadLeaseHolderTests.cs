using System.Collections.Concurrent;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>A worker that dies holding a lease (claimed, handled part of the batch, never acked).</summary>
public sealed class DeadLeaseHolderTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task Another_worker_resumes_from_the_last_ack_once_the_dead_holders_lease_expires()
    {
        await using var journal = await db.JournalAsync("dead_events");
        await using var leases = await db.LeasesAsync("dead_subs");
        var effects = $"\"{db.Name}\".dead_effects";
        await db.Schema.ExecuteAsync($"CREATE TABLE {effects} (position bigint PRIMARY KEY)");
        var handled = new ConcurrentQueue<(string Holder, long Version)>();
        using var death = new CancellationTokenSource();
        var dying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        ReactionRegistry Registry(string holder, long? dieAt = null) => new ReactionRegistry().On("Happened", async (e, ct) =>
        {
            if (e.Version == dieAt)
            {
                // Hangs until the process dies, deaf to the lease running out: nothing ever reports back.
                dying.TrySetResult();
                await Task.Delay(Timeout.Infinite, death.Token);
            }

            await db.Schema.ExecuteAsync($"INSERT INTO {effects} VALUES ({e.Position}) ON CONFLICT DO NOTHING");
            handled.Enqueue((holder, e.Version));
        });
        ReactionOptions Options(TimeSpan lease) => new() { MaxClaim = 1, PageSize = 100, LeaseDuration = lease };

        var first = await journal.CommitAsync("s", Events.Many(4));
        await new ReactionLoop(journal, leases, Registry("A"), Options(TimeSpan.FromMinutes(1)), holder: "A").UntilIdleAsync();
        var rest = await journal.CommitAsync("s", Events.Many(6));

        // Same worker, next batch: it handles versions 4 to 6, then its process dies while handling 7.
        var doomed = new ReactionLoop(journal, leases, Registry("A", dieAt: 7), Options(TimeSpan.FromMilliseconds(300)), holder: "A");
        // Cycles until it gets there: a commit in flight anywhere on the server can hold the feed back for a moment.
        var cycle = Task.Run(async () =>
        {
            while (!dying.Task.IsCompleted)
            {
                await doomed.RunCycleAsync(death.Token);
            }
        });
        await dying.Task.WaitAsync(Eventually.Patience);
        await death.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cycle);

        var orphaned = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s")));
        Assert.Equal("A", orphaned.Holder);
        Assert.Equal(first[^1].Position, orphaned.At); // the last ack
        await Eventually.WaitAsync(
            async () => await db.Schema.ScalarAsync<bool>($"SELECT leased_until <= now() FROM \"{db.Name}\".dead_subs WHERE stream = 's'"),
            "the dead holder's lease expires");

        await new ReactionLoop(journal, leases, Registry("B"), Options(TimeSpan.FromMinutes(1)), holder: "B").UntilIdleAsync();

        // B starts right after the last ack: 4 to 6 again (A never acked them; at least once), then the rest once.
        Assert.Equal([0L, 1, 2, 3, 4, 5, 6], handled.Where(h => h.Holder == "A").Select(h => h.Version));
        Assert.Equal([4L, 5, 6, 7, 8, 9], handled.Where(h => h.Holder == "B").Select(h => h.Version));
        Assert.Equal(10, await db.Schema.ScalarAsync<long>($"SELECT count(*) FROM {effects}"));
        var done = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s")));
        Assert.Equal(rest[^1].Position, done.At);
        Assert.Null(done.Holder);
        Assert.Equal(-1, done.Retry);
        Assert.False(done.Blocked);
    }
}
