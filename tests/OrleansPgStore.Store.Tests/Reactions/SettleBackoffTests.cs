using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>A worker whose feed stays held back (an append in flight) looks again less and less often, never spinning.</summary>
public sealed class SettleBackoffTests
{
    [Theory]
    [InlineData(1000, 250)]
    [InlineData(100, 100)]
    [InlineData(20, 20)]
    [InlineData(1, 2)]
    public void The_settle_delay_doubles_from_2_ms_up_to_250_ms_and_never_beyond_the_poll_interval(int pollMs, int capMs)
    {
        var poll = TimeSpan.FromMilliseconds(pollMs);
        var delays = new List<TimeSpan> { ReactionWorker.SettleDelay };
        for (var i = 0; i < 20; i++)
        {
            delays.Add(ReactionWorker.NextSettleDelay(delays[^1], poll));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(2), delays[0]);
        Assert.All(delays.Zip(delays.Skip(1)), pair => Assert.True(pair.Second >= pair.First));
        Assert.Equal(TimeSpan.FromMilliseconds(capMs), delays[^1]);
        Assert.True(delays.Take(10).Sum(d => d.TotalMilliseconds) >= Math.Min(capMs, 100), "ten looks in a row must not all come within a few ms");
    }
}
