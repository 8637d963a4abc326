using Microsoft.Extensions.Logging;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Diagnostics;

public sealed class CalmLogTests
{
    [Fact]
    public async Task A_listener_that_cannot_connect_warns_once_with_the_stack_then_counts_at_debug_with_rounded_delays()
    {
        var logs = new ListLoggerFactory();
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

    [Theory]
    [InlineData(0.4, "<1 ms")]
    [InlineData(1117.6106, "1.1 s")]
    [InlineData(250.4, "250 ms")]
    [InlineData(90_000, "1.5 min")]
    [InlineData(7_200_000, "2 h")]
    public void Durations_print_rounded(double milliseconds, string expected)
        => Assert.Equal(expected, Durations.Format(TimeSpan.FromMilliseconds(milliseconds)));
}
