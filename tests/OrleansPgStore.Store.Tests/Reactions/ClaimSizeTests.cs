using System.Diagnostics;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>The claim grows to MaxClaim for fast handlers and shrinks so slow ones finish within a quarter of the lease.</summary>
public sealed class ClaimSizeTests
{
    private static long Ago(TimeSpan elapsed) => Stopwatch.GetTimestamp() - (long)(elapsed.TotalSeconds * Stopwatch.Frequency);

    [Theory]
    [InlineData(32, 8, 1)]
    [InlineData(4, 4, 0)]
    [InlineData(1, 1, 0)]
    [InlineData(100, 8, 1)]
    public void A_fresh_loop_starts_at_eight_or_less_with_an_eighth_leading(int maxClaim, int claim, int leading)
    {
        var (lag, lead) = new ClaimSize(new ReactionOptions { MaxClaim = maxClaim }).Next();
        Assert.Equal((claim - leading, leading), (lag, lead));
    }

    [Theory]
    [InlineData(32, new[] { 8, 32, 32 })]
    [InlineData(200, new[] { 8, 32, 128, 200, 200 })]
    [InlineData(12, new[] { 8, 12, 12 })]
    public void Fast_handlers_grow_the_claim_fourfold_up_to_the_maximum(int maxClaim, int[] claims)
    {
        var size = new ClaimSize(new ReactionOptions { MaxClaim = maxClaim });
        foreach (var expected in claims)
        {
            var (lagging, leading) = size.Next();
            Assert.Equal(expected, lagging + leading);
            Assert.Equal(expected / 8, leading);
            // A full cycle of 100 events per target, 1 µs each.
            size.Observe(expected, expected * 100, Ago(TimeSpan.FromTicks(expected * 100 * 10)));
        }
    }

    [Theory]
    // lease 30 s: a quarter is 7.5 s; 100-event pages.
    [InlineData(30, 0.010, 7)]   // 750 events fit: 7 targets
    [InlineData(30, 0.100, 1)]   // 75 events fit: never below one target
    [InlineData(30, 0.001, 32)]  // 7,500 events fit: the maximum
    [InlineData(120, 0.010, 30)] // a longer lease allows more
    public void Slow_handlers_get_a_claim_that_fits_a_quarter_of_the_lease(int leaseSeconds, double secondsPerEvent, int claim)
    {
        var size = new ClaimSize(new ReactionOptions { MaxClaim = 32, LeaseDuration = TimeSpan.FromSeconds(leaseSeconds) });
        for (var i = 0; i < 10; i++)
        {
            var (lagging, leading) = size.Next();
            size.Observe(lagging + leading, 200, Ago(TimeSpan.FromSeconds(200 * secondsPerEvent)));
        }

        var (lag, lead) = size.Next();
        Assert.InRange(lag + lead, Math.Max(1, claim - 1), claim);
    }

    [Fact]
    public void Cycles_of_a_few_quick_events_do_not_shrink_the_claim()
    {
        // Live: one event per cycle, 5 ms of round trips each; that is not the handlers' speed.
        var size = new ClaimSize(new ReactionOptions { MaxClaim = 32 });
        for (var i = 0; i < 10; i++)
        {
            size.Observe(1, 1, Ago(TimeSpan.FromMilliseconds(5)));
        }

        var (lagging, leading) = size.Next();
        Assert.Equal(32, lagging + leading);
        // Negative control: the same cycles taking 2 s each do shrink it.
        for (var i = 0; i < 10; i++)
        {
            size.Observe(1, 1, Ago(TimeSpan.FromSeconds(2)));
        }

        (lagging, leading) = size.Next();
        Assert.Equal(1, lagging + leading);
    }
}
