using OrleansPgStore.Store;
using Microsoft.Extensions.DependencyInjection;
using OrleansPgStore.Hosting;
using OrleansPgStore.Store.Journal;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// A confirm that throws never commits later: a write that fails for good takes its events out of the grain's queue,
/// the caller hears the failure itself (not Orleans' "Exception in Worker Cycle" wrapping), and the activation goes on.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class WriteOutcomeTests(ClusterFixture fixture)
{
    private static string Key() => Guid.NewGuid().ToString("N");

    private JournalStore Journal => fixture.Cluster.Silos[0].ServiceProvider
        .GetRequiredKeyedService<PgStore>(TestClusters.Provider).Journal;

    private async Task<List<string>> StoredMemosAsync(string stream)
    {
        var memos = new List<string>();
        await foreach (var e in Journal.ReadStreamAsync(stream, 0, long.MaxValue))
        {
            if (!e.IsSnapshot)
            {
                memos.Add(e.Json);
            }
        }

        return memos;
    }

    [Fact]
    public async Task A_confirm_that_threw_is_never_committed_later_even_after_the_stream_is_repaired()
    {
        var key = Key();
        var stream = $"account/{key}";
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.Deposit(10, "first");
        // Version 1 is written behind the grain's back, in a form it cannot read.
        await Journal.CommitAsync(stream, [new EventData("test.deposited", """{"amount":"ten","memo":"unreadable"}""")], expectedVersion: 0);

        // The commit conflicts, and reloading the stream fails on version 1.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => account.Deposit(1, "refused"));
        Assert.Contains($"stream '{stream}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was committed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Worker Cycle", error.Message, StringComparison.Ordinal);

        await fixture.ExecuteAsync(
            $"UPDATE {{schema}}.events SET data = '{{\"amount\":2,\"memo\":\"repaired\"}}' WHERE stream = '{stream}' AND version = 1");
        await account.Deposit(4, "after");

        var stored = await StoredMemosAsync(stream);
        Assert.Equal(3, stored.Count);
        Assert.DoesNotContain(stored, json => json.Contains("refused", StringComparison.Ordinal));
        var view = await account.Refresh();
        Assert.Equal(["first", "repaired", "after"], view.Memos);
        Assert.Equal(16m, view.Balance);
        Assert.Equal(3, view.Version);
    }

    [Theory]
    [InlineData("a\0b")]
    [InlineData("\0")]
    [InlineData("\0 and more \0")]
    public async Task A_refused_event_leaves_the_activation_usable(string text)
    {
        var key = Key();
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.Deposit(1, "before");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => account.Note(text));
        Assert.Contains($"stream 'account/{key}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was committed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Worker Cycle", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("UpdatePrimary", error.Message, StringComparison.Ordinal);

        // The same activation: its next events commit, without the refused one.
        await account.Note("fine");
        await account.Deposit(2, "after");
        var view = await account.Get();
        Assert.Equal(["fine"], view.Notes);
        Assert.Equal(3, view.Version);
        Assert.Equal(3, (await StoredMemosAsync($"account/{key}")).Count);
        var refreshed = await account.Refresh();
        Assert.Equal(["fine"], refreshed.Notes);
        Assert.Equal(["before", "after"], refreshed.Memos);
        Assert.Equal((3m, 3), (refreshed.Balance, refreshed.Version));
    }

    [Fact]
    public async Task A_refused_conditional_event_fails_its_raise_and_the_next_ones_commit()
    {
        var key = Key();
        var account = fixture.Client.GetGrain<IAccountGrain>(key);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => account.TryDeposit(1, "a\0b"));
        Assert.Contains("nothing was committed", error.Message, StringComparison.Ordinal);

        Assert.True(await account.TryDeposit(2, "fine"));
        var view = await account.Refresh();
        Assert.Equal(["fine"], view.Memos);
        Assert.Equal((2m, 1), (view.Balance, view.Version));
    }

    [Fact]
    public async Task A_refused_event_raised_without_waiting_fails_the_next_confirm()
    {
        // Raise returns at once; the write is refused in the background, with no confirm waiting for it yet.
        var tally = fixture.Client.GetGrain<IPlainTallyGrain>(Key());
        await tally.Raise("a\0b", 1);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => tally.Confirm());
        Assert.Contains("nothing was committed", error.Message, StringComparison.Ordinal);

        // Reported once; the activation goes on without the refused event.
        await tally.Confirm();
        Assert.Equal(1, await tally.Add("k", 1));
        await tally.Confirm();
        Assert.Equal((1, 1), await tally.Confirmed("k"));
    }

    [Fact]
    public async Task A_failure_no_confirm_saw_is_not_thrown_once_a_later_write_has_committed()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("outcome");
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1,
            configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var tally = cluster.Client.GetGrain<IPlainTallyGrain>("later-commit");

        // Refused in the background, with no confirm waiting: the failure is kept for the next confirm...
        await tally.Raise("b\0d", 1);
        await Eventually.WaitAsync(
            () => capture.Messages.Any(m => m.Contains("Gave up 1 queued event(s) of tally-plain/later-commit", StringComparison.Ordinal)),
            "the refused event is given up");

        // ...unless a later write commits first: its events are in, so the caller has nothing left to learn.
        await tally.Raise("ok", 1);
        await Eventually.EqualAsync(
            () => schema.ScalarAsync<long>(
                $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'tally-plain/later-commit' AND data->>'key' = 'ok'"),
            1, "the later event commits");
        await tally.Confirm();
        await tally.Confirm();
        Assert.Equal((1, 1), await tally.Confirmed("ok"));
        Assert.Equal((0, 1), await tally.Confirmed("b\0d"));
    }

    /// <summary>Events queued with a refused one, before or behind it, are given up with it: none of them commits,
    /// then or later, and the activation goes on.</summary>
    [Theory]
    [InlineData("bad")]
    [InlineData("bad,ok")]
    [InlineData("ok,bad")]
    [InlineData("ok,bad,ok2")]
    [InlineData("ok,ok2,ok3,bad")]
    public async Task Events_queued_together_with_a_refused_one_are_given_up_with_it(string keys)
    {
        var key = Key();
        var tally = fixture.Client.GetGrain<IPlainTallyGrain>(key);
        var raised = keys.Split(',').Select(k => k == "bad" ? "b\0d" : k).ToArray();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => tally.RaiseAllAndConfirm(raised));

        Assert.Contains("nothing was committed", error.Message, StringComparison.Ordinal);
        foreach (var k in raised)
        {
            Assert.Equal((0, 0), await tally.Confirmed(k));
        }

        await tally.RaiseAllAndConfirm(["after"]);
        await fixture.Cluster.DeactivateAsync(tally);
        Assert.Equal((1, 1), await tally.Confirmed("after"));
        Assert.Equal(1L, await fixture.ScalarAsync<long>($"SELECT count(*) FROM {{schema}}.events WHERE stream = 'tally-plain/{key}'"));
    }
}
