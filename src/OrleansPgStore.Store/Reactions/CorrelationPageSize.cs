namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// How many events the next correlation page reads: <see cref="FirstPage"/> when the loop starts or has caught up with
/// the feed, four times as many after each full page, up to <see cref="ReactionOptions.CorrelationBatch"/>.
/// </summary>
/// <remarks>
/// Workers that meet fresh work all read the same page from the same checkpoint, and only the first to advance it marks
/// what it found; the others wait for their read and their lost advance before they claim anything. A page of 10,000
/// events took 20–340 ms on a loaded machine (the whole drain of 100 × 100 took 150–400 ms), so the slower worker joined
/// when the faster one had claimed most of the backlog. A small first page is read in a few milliseconds, so every
/// worker claims from the start, and a backlog still reaches full pages within two reads.
/// </remarks>
internal sealed class CorrelationPageSize(ReactionOptions options)
{
    /// <summary>The first page's events (or <see cref="ReactionOptions.CorrelationBatch"/> when smaller).</summary>
    public const int FirstPage = 1_000;

    private int _size = Math.Min(FirstPage, options.CorrelationBatch);

    /// <summary>The next page's limit.</summary>
    public int Next => _size;

    /// <summary>Records a page read with the limit <see cref="Next"/>: grows after a full page, starts again after a short one.</summary>
    public void Observe(int read)
        => _size = read >= _size
            ? (int)Math.Min(options.CorrelationBatch, 4L * _size)
            : Math.Min(FirstPage, options.CorrelationBatch);
}
