using Microsoft.Extensions.Logging;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Diagnostics;

public sealed class CalmLogTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task A_listener_that_cannot_connect_warns_once_with_the_stack_then_counts_at_debug_with_rounded_delays()
    {
        var logs = new LogCapture();
        // Nothing listens on port 1: every attempt fails at once.
        await using var journal = new JournalStore(
            new JournalStoreOptions { ConnectionString = "Host=127.0.0.1;Port=1;Timeout=1" }, logs);
        var listener = journal.CreateCommitListener(_ => { });
        using var cancel = new CancellationTokenSource();
        var start = listener.StartAsync(cancel.Token);

        await Eventually.WaitAsync(() => logs.Entries.Count(e => e.Category == "OrleansPgStore.Journal") >= 4, "four attempts were logged");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
        await listener.DisposeAsync();

        var entries = logs.Entries.Where(e => e.Category == "OrleansPgStore.Journal").ToList();
        var warning = Assert.Single(entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.NotNull(warning.Exception);
        Assert.Contains("reconnecting in 100 ms", warning.Message);
        Assert.All(entries.Where(e => e != warning), e =>
        {
            Assert.Equal(LogLevel.Debug, e.Level);
            Assert.Null(e.Exception);
            Assert.Matches(@"attempt \d+ failed .*; next in \d+ (ms|s)$", e.Message);
        });
        Assert.Contains(entries, e => e.Message.EndsWith("next in 200 ms", StringComparison.Ordinal));
        Assert.False(listener.IsConnected);
        // The store built its data source with the logger factory: Npgsql's own logs arrive too.
        Assert.Contains(logs.Entries, e => e.Category.StartsWith("Npgsql", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_handler_warns_with_the_stack_on_its_first_attempt_then_counts_at_debug_and_blocks_at_error()
    {
        var logs = new LogCapture();
        await using var journal = await db.JournalAsync("calm_handler_events");
        await using var leases = await db.LeasesAsync("calm_handler_subs");
        var loop = new ReactionLoop(journal, leases,
            new ReactionRegistry().On("Happened", (_, _) => throw new InvalidOperationException("boom")),
            new ReactionOptions
            {
                MaxRetries = 3,
                Backoff = new RetryBackoff
                {
                    Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.FromMilliseconds(1117.6106), Jitter = 0,
                },
            },
            logs);
        await journal.CommitAsync("poison", Events.Many(1));

        await Eventually.WaitAsync(async () =>
        {
            await leases.DeferAsync(new SubscriptionFilter(), null);   // no waiting out the backoff
            await loop.RunCycleAsync();
            return logs.Entries.Any(e => e.Level == LogLevel.Error);
        }, "the target was blocked");

        var reactions = logs.Entries.Where(e => e.Category == "OrleansPgStore.Reactions").ToList();
        var warning = Assert.Single(reactions, e => e.Level == LogLevel.Warning);
        Assert.NotNull(warning.Exception);
        Assert.Contains("retrying in 1.1 s", warning.Message);
        Assert.Equal(2, reactions.Count(e => e.Level == LogLevel.Debug && e.Exception is null && e.Message.Contains("failed again")));
        var error = Assert.Single(reactions, e => e.Level == LogLevel.Error);
        Assert.Contains("blocking it", error.Message);
        Assert.NotNull(error.Exception);
    }

    [Fact]
    public void An_outage_is_logged_in_full_once_then_counted_and_escalated_once_it_lasts()
    {
        var outage = new Outage(worthAnError: TimeSpan.Zero);

        Assert.Equal([OutageStep.First, OutageStep.Lasting, OutageStep.Again, OutageStep.Again],
            Enumerable.Range(0, 4).Select(_ => outage.Failed()));
        Assert.Equal(4, outage.Failures);
        outage.Reset();
        Assert.Equal(OutageStep.First, outage.Failed());
        var brief = new Outage();   // escalates only after a minute
        Assert.Equal([OutageStep.First, OutageStep.Again], [brief.Failed(), brief.Failed()]);
    }

    [Theory]
    [InlineData(0.4, "<1 ms")]
    [InlineData(1117.6106, "1.1 s")]
    [InlineData(250.4, "250 ms")]
    [InlineData(90_000, "1.5 min")]
    [InlineData(7_200_000, "2 h")]
    public void Durations_print_rounded(double milliseconds, string expected)
        => Assert.Equal(expected, Durations.Format(TimeSpan.FromMilliseconds(milliseconds)));
}
