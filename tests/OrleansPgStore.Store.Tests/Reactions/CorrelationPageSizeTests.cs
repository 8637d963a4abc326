using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>Correlation pages start small, grow fourfold while full, and start small again once the feed is caught up.</summary>
public sealed class CorrelationPageSizeTests
{
    [Theory]
    [InlineData(10_000, 1_000)]
    [InlineData(1_000, 1_000)]
    [InlineData(999, 999)]
    [InlineData(7, 7)]
    [InlineData(1, 1)]
    [InlineData(1_000_000, 1_000)]
    public void A_fresh_loop_reads_a_small_first_page(int correlationBatch, int first)
        => Assert.Equal(first, new CorrelationPageSize(new ReactionOptions { CorrelationBatch = correlationBatch }).Next);

    [Theory]
    [InlineData(10_000, new[] { 1_000, 4_000, 10_000, 10_000 })]
    [InlineData(100_000, new[] { 1_000, 4_000, 16_000, 64_000, 100_000, 100_000 })]
    [InlineData(5_000, new[] { 1_000, 4_000, 5_000, 5_000 })]
    [InlineData(2_000, new[] { 1_000, 2_000, 2_000 })]
    [InlineData(500, new[] { 500, 500 })]
    [InlineData(int.MaxValue, new[] { 1_000, 4_000, 16_000, 64_000, 256_000, 1_024_000, 4_096_000, 16_384_000, 65_536_000, 262_144_000, 1_048_576_000, int.MaxValue, int.MaxValue })]
    public void Full_pages_grow_the_next_fourfold_up_to_the_correlation_batch(int correlationBatch, int[] pages)
    {
        var size = new CorrelationPageSize(new ReactionOptions { CorrelationBatch = correlationBatch });
        foreach (var expected in pages)
        {
            Assert.Equal(expected, size.Next);
            size.Observe(size.Next);
        }
    }

    [Theory]
    [InlineData(10_000, 0, 0)]
    [InlineData(10_000, 1, 999)]
    [InlineData(10_000, 2, 3_999)]
    [InlineData(10_000, 3, 0)]
    [InlineData(10_000, 3, 9_999)]
    [InlineData(100_000, 4, 63_999)]
    [InlineData(600, 2, 599)]
    public void A_short_page_means_caught_up_and_the_next_starts_small_again(int correlationBatch, int fullPagesBefore, int read)
    {
        var size = new CorrelationPageSize(new ReactionOptions { CorrelationBatch = correlationBatch });
        for (var i = 0; i < fullPagesBefore; i++)
        {
            size.Observe(size.Next);
        }

        size.Observe(read);
        Assert.Equal(Math.Min(1_000, correlationBatch), size.Next);
    }
}
