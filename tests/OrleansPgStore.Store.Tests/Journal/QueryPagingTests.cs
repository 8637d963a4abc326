using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

/// <summary>
/// Queries stream page by page and never buffer a whole result (docs/engine.md): each page is a statement of its own,
/// run when the consumer reaches it. So events committed after a consumer read its first event, while it is still
/// inside the first page, are in the later pages; a query that read its whole result up front could not return them.
/// </summary>
public sealed class QueryPagingTests : IAsyncLifetime
{
    private const int PageSize = 10;
    private readonly SchemaFixture _db = new();
    private JournalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        await _db.InitializeAsync();
        _store = await _db.JournalAsync("paging", o => o.PageSize = PageSize);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_query_reads_its_later_pages_only_when_the_consumer_reaches_them(bool wholeJournal)
    {
        const int before = 3 * PageSize + 5;
        const int after = 7;
        var stream = $"paged-{wholeJournal}";
        for (var i = 0; i < before; i++)
        {
            await _store.CommitAsync(stream, [Events.Make("A", i)]);
        }

        var query = wholeJournal ? JournalQuery.All : new JournalQuery { Stream = stream };
        var read = new List<RecordedEvent>();
        await using (var events = _store.QueryAsync(query).GetAsyncEnumerator())
        {
            Assert.True(await events.MoveNextAsync());
            read.Add(events.Current);

            // Committed while the consumer holds the first event of the first page.
            for (var i = 0; i < after; i++)
            {
                await _store.CommitAsync(stream, [Events.Make("A", before + i)]);
            }

            while (await events.MoveNextAsync())
            {
                read.Add(events.Current);
            }
        }

        var mine = read.Where(e => e.Stream == stream).ToList();
        Assert.Equal(Enumerable.Range(0, before + after).Select(v => (long)v), mine.Select(e => e.Version));
    }
}
