using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>
/// Correlation pages start at four first claims of full pages (3,200 events by default), grow fourfold while full, and
/// start small again once the feed is caught up.
/// </summary>
public sealed class CorrelationPageSizeTests
{
    [Theory]
    [InlineData(10_000, 100, 3_200)]
    [InlineData(10_000, 10, 320)]
    [InlineData(10_000, 1, 32)]
    [InlineData(10_000, 1_000, 10_000)]
    [InlineData(3_200, 100, 3_200)]
    [InlineData(999, 100, 999)]
    [InlineData(7, 3, 7)]
    [InlineData(1, 100, 1)]
    [InlineData(1_000_000, 100, 3_200)]
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue)]
    public void A_fresh_loop_reads_four_first_claims_of_full_pages_at_most(int correlationBatch, int pageSize, int first)
        => Assert.Equal(first, new CorrelationPageSize(new ReactionOptions { CorrelationBatch = correlationBatch, PageSize = pageSize }).Next);

    [Theory]
    [InlineData(10_000, 100, new[] { 3_200, 10_000, 10_000 })]
    [InlineData(100_000, 100, new[] { 3_200, 12_800, 51_200, 100_000, 100_000 })]
    [InlineData(5_000, 100, new[] { 3_200, 5_000, 5_000 })]
    [InlineData(10_000, 1, new[] { 32, 128, 512, 2_048, 8_192, 10_000 })]
    [InlineData(500, 100, new[] { 500, 500 })]
    [InlineData(int.MaxValue, 100, new[] { 3_200, 12_800, 51_200, 204_800, 819_200, 3_276_800, 13_107_200, 52_428_800, 209_715_200, 838_860_800, int.MaxValue, int.MaxValue })]
    public void Full_pages_grow_the_next_fourfold_up_to_the_correlation_batch(int correlationBatch, int pageSize, int[] pages)
    {
        var size = new CorrelationPageSize(new ReactionOptions { CorrelationBatch = correlationBatch, PageSize = pageSize });
        foreach (var expected in pages)
        {
            Assert.Equal(expected, size.Next);
            size.Observe(size.Next);
        }
    }

    [Theory]
    [InlineData(10_000, 0, 0)]
    [InlineData(10_000, 0, 3_199)]
    [InlineData(10_000, 1, 0)]
    [InlineData(10_000, 1, 9_999)]
    [InlineData(10_000, 5, 1)]
    [InlineData(100_000, 3, 99_999)]
    [InlineData(600, 2, 599)]
    public void A_short_page_means_caught_up_and_the_next_starts_small_again(int correlationBatch, int fullPagesBefore, int read)
    {
        var options = new ReactionOptions { CorrelationBatch = correlationBatch };
        var size = new CorrelationPageSize(options);
        var first = size.Next;
        for (var i = 0; i < fullPagesBefore; i++)
        {
            size.Observe(size.Next);
        }

        size.Observe(read);
        Assert.Equal(first, size.Next);
        Assert.Equal(Math.Min(correlationBatch, 4 * 8 * options.PageSize), first);
    }
}
