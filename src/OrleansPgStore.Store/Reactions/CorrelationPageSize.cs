namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// How many events the next correlation page reads: at first enough for four first claims of full pages
/// (4 × <see cref="ClaimSize.FirstClaim"/> × <see cref="ReactionOptions.PageSize"/>, 3,200 by default), four times as
/// many after each full page, up to <see cref="ReactionOptions.CorrelationBatch"/>; back to the first size once a page
/// comes back short (the feed is caught up), so the next burst of fresh work starts small again.
/// </summary>
/// <remarks>
/// Workers that meet fresh work read the same page from the same checkpoint; only the first to advance it marks what it
/// found, and the others claim after it. With one 10,000-event page a worker's first cycle took 20–340 ms on a loaded
/// 2-core machine (a whole drain of 100 streams × 100 events took 150–400 ms), so a worker slowed down there joined when
/// the other had claimed most of the backlog. A smaller first page is read sooner. It still marks about four first claims
/// of targets, so the worker that advances second finds as much left to claim as the first took (a page of only two
/// first claims' worth left it a fifth).
/// </remarks>
internal sealed class CorrelationPageSize(ReactionOptions options)
{
    private readonly int _first = (int)Math.Min(options.CorrelationBatch, 4L * ClaimSize.FirstClaim * options.PageSize);
    private int _size = -1;

    /// <summary>The next page's limit.</summary>
    public int Next => _size < 0 ? _first : _size;

    /// <summary>Records a page read with the limit <see cref="Next"/>: grows after a full page, starts again after a short one.</summary>
    public void Observe(int read)
        => _size = read >= Next ? (int)Math.Min(options.CorrelationBatch, 4L * Next) : _first;
}
