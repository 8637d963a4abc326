using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// Journal writes during an outage retry for <c>WriteRetryTimeout</c>, then fail with one named error well before
/// Orleans' 30 second call timeout; the events then leave the grain's queue and are never committed afterwards
/// (or, when an attempt may have committed, the error says the outcome is unknown). A shorter outage is ridden through.
/// </summary>
public sealed class WriteOutageTests
{
    private static readonly TimeSpan ShortBudget = TimeSpan.FromSeconds(2);

    private static async Task<long> CountAsync(PostgresTestSchema schema, string stream, string memo)
        => await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = @stream AND NOT snapshot AND data->>'memo' = @memo",
            ("stream", stream), ("memo", memo));

    [Fact]
    public async Task An_outage_longer_than_the_write_budget_fails_the_confirm_by_name_and_the_events_never_appear()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("outage");
        // Without pooling every attempt connects, so the refused connections prove nothing was sent.
        var (proxy, throughProxy) = FaultProxy.To(schema.ConnectionString, b => b.Pooling = false);
        await using var _ = proxy;
        // The default budget: the caller hears this error, not Orleans' bare TimeoutException after 30 s.
        await using var cluster = TestClusters.Build(throughProxy, schema.Name, silos: 1);
        await cluster.DeployAsync();
        var account = cluster.Client.GetGrain<IAccountGrain>("down");
        await account.Deposit(10, "before");

        proxy.Down = true;
        var error = await Assert.ThrowsAnyAsync<Exception>(() => account.Deposit(1, "lost"));
        proxy.Down = false;

        Assert.IsNotType<TimeoutException>(error);
        var store = Assert.IsType<OrleansPgStoreException>(error);
        Assert.True(store.IsTransient);
        Assert.Contains("Appending 1 event(s) of account/down to stream 'account/down' gave up after", store.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was committed and the events are never retried", store.Message, StringComparison.Ordinal);

        // The activation goes on; the given-up deposit is not sent along with the next one.
        await account.Deposit(100, "after");
        var view = await account.Refresh();
        Assert.Equal(["before", "after"], view.Memos);
        Assert.Equal(0, await CountAsync(schema, "account/down", "lost"));
    }

    [Fact]
    public async Task A_commit_whose_answer_never_comes_fails_as_outcome_unknown_naming_the_event_ids()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("outage");
        var (proxy, throughProxy) = FaultProxy.To(schema.ConnectionString);
        await using var _ = proxy;
        await using var cluster = TestClusters.Build(throughProxy, schema.Name, silos: 1, configure: o => o.WriteRetryTimeout = ShortBudget);
        await cluster.DeployAsync();
        var account = cluster.Client.GetGrain<IAccountGrain>("mute");
        await account.Deposit(10, "before");

        // The server commits, and its answer is lost until the budget is spent.
        proxy.MuteServer = true;
        var error = await Assert.ThrowsAnyAsync<Exception>(() => account.Deposit(1, "maybe"));
        proxy.MuteServer = false;

        var unknown = Assert.IsType<JournalWriteOutcomeUnknownException>(error);
        Assert.Equal("account/mute", unknown.Stream);
        Assert.Equal("account/mute", unknown.GrainId.ToString());
        Assert.Contains("outcome unknown", unknown.Message, StringComparison.Ordinal);
        var id = Assert.Single(unknown.EventIds);
        // Here it did commit (once), and the grain finds it on refresh: the error said so might happen.
        Assert.Equal(1, await CountAsync(schema, "account/mute", "maybe"));
        Assert.Equal(id, await schema.ScalarAsync<Guid>(
            $"SELECT event_id FROM \"{schema.Name}\".events WHERE stream = 'account/mute' AND data->>'memo' = 'maybe'"));
        await account.Deposit(100, "after");
        Assert.Equal(["before", "maybe", "after"], (await account.Refresh()).Memos);
    }

    [Fact]
    public async Task An_outage_shorter_than_the_write_budget_is_ridden_through_and_commits_once()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("outage");
        var (proxy, throughProxy) = FaultProxy.To(schema.ConnectionString);
        await using var _ = proxy;
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            throughProxy, schema.Name, silos: 1, configure: o => o.WriteRetryTimeout = TimeSpan.FromSeconds(25),
            configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var account = cluster.Client.GetGrain<IAccountGrain>("blink");
        await account.Deposit(10, "before");

        proxy.Down = true;
        var deposit = account.Deposit(1, "through");
        await Eventually.WaitAsync(() => capture.Messages.Any(m => m.Contains("Appending 1 event(s) to stream account/blink failed", StringComparison.Ordinal)), "the failure is logged");
        proxy.Down = false;
        await deposit;

        var view = await account.Refresh();
        Assert.Equal(["before", "through"], view.Memos);
        Assert.Equal(1, await CountAsync(schema, "account/blink", "through"));
    }

    /// <summary>
    /// A read that gave up is kept, to fail the synchronization that waits for it, until a read or a commit shows the
    /// view is current: a commit right after the view's version does. Here the activation's first read gives up during
    /// an outage, the event the grain raised while activating commits once it ends, and the activation succeeds.
    /// </summary>
    [Fact]
    public async Task A_kept_read_failure_is_cleared_by_a_commit_at_the_next_version()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("outage");
        var (proxy, throughProxy) = FaultProxy.To(schema.ConnectionString);
        await using var _ = proxy;
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            throughProxy, schema.Name, silos: 1,
            configure: o =>
            {
                o.ReadRetryTimeout = TimeSpan.FromSeconds(1);
                o.WriteRetryTimeout = TimeSpan.FromSeconds(25);
            },
            configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var tally = cluster.Client.GetGrain<IEagerTallyGrain>("kept-read");

        proxy.Down = true;
        var first = tally.Confirmed("activated");
        await Eventually.WaitAsync(
            () => capture.Messages.Any(m => m.Contains("Reading stream tally-eager/kept-read failed for good", StringComparison.Ordinal)),
            "the first read gives up");
        proxy.Down = false;

        Assert.Equal((1, 1), await first);
        Assert.Equal(1, await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'tally-eager/kept-read'"));
    }
}
