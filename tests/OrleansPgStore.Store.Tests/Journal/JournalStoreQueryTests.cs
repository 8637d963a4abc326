using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

/// <summary>Query filters, against one shared fixture of streams s1, s12 and S1 (seeded once per class).</summary>
public sealed class JournalStoreQueryTests(JournalStoreQueryTests.Data data) : IClassFixture<JournalStoreQueryTests.Data>
{
    public sealed class Data : IAsyncLifetime
    {
        public SchemaFixture Db { get; } = new();

        public JournalStore Store { get; private set; } = null!;

        public List<RecordedEvent> All { get; } = [];

        public DateTimeOffset Middle { get; private set; }

        public async ValueTask InitializeAsync()
        {
            await Db.InitializeAsync();
            Store = await Db.JournalAsync("query", o => o.PageSize = 2);
            All.AddRange(await Store.CommitAsync("s1", [Events.Make("A", 1), Events.Make("B", 2)], new EventMetadata("c1")));
            All.AddRange(await Store.CommitAsync("s12", [Events.Make("A", 3)], new EventMetadata("c2")));
            await Task.Delay(20); // created timestamps on both sides of Middle
            Middle = DateTimeOffset.UtcNow;
            await Task.Delay(20);
            All.AddRange(await Store.CommitAsync("S1", [Events.Make("C", 4), Events.Make("A", 5)], new EventMetadata("c1")));
            await Store.SaveSnapshotAsync("s1", 1, """{"total":3}""");
        }

        public async ValueTask DisposeAsync()
        {
            await Store.DisposeAsync();
            await Db.DisposeAsync();
        }
    }

    private Task<List<RecordedEvent>> Query(JournalQuery query) => data.Store.QueryAsync(query).ToListAsync();

    private static long[] Positions(IEnumerable<RecordedEvent> events) => events.Select(e => e.Position).ToArray();

    [Fact]
    public async Task No_filter_returns_every_event_oldest_first_across_pages_without_snapshots()
    {
        var all = await Query(JournalQuery.All);

        Assert.Equal(Positions(data.All), Positions(all));
        Assert.DoesNotContain(all, e => e.IsSnapshot);
    }

    [Fact]
    public async Task A_stream_name_is_an_exact_case_sensitive_match_never_a_pattern()
    {
        var s1 = await Query(new JournalQuery { Stream = "s1" });

        Assert.Equal(["s1", "s1"], s1.Select(e => e.Stream));
    }

    [Fact]
    public async Task A_stream_pattern_is_a_regular_expression()
    {
        var prefixed = await Query(new JournalQuery { StreamPattern = "^s1" });
        var anchored = await Query(new JournalQuery { StreamPattern = "^s1$" });

        Assert.Equal(["s1", "s1", "s12"], prefixed.Select(e => e.Stream));
        Assert.Equal(["s1", "s1"], anchored.Select(e => e.Stream));
    }

    [Fact]
    public async Task Names_filter_and_an_empty_list_matches_nothing()
    {
        var a = await Query(new JournalQuery { Names = ["A"] });
        var none = await Query(new JournalQuery { Names = [] });

        Assert.Equal(3, a.Count);
        Assert.All(a, e => Assert.Equal("A", e.Name));
        Assert.Empty(none);
    }

    [Fact]
    public async Task Position_bounds_are_exclusive_and_zero_is_a_real_bound()
    {
        var p = Positions(data.All);

        Assert.Equal(p[2..], Positions(await Query(new JournalQuery { After = p[1] })));
        Assert.Equal(p[..1], Positions(await Query(new JournalQuery { Before = p[1] })));
        Assert.Equal(p, Positions(await Query(new JournalQuery { After = 0 })));
        Assert.Empty(await Query(new JournalQuery { Before = 0 }));
        Assert.Equal(p[1..3], Positions(await Query(new JournalQuery { After = p[0], Before = p[3] })));
    }

    [Fact]
    public async Task Contradictory_bounds_return_nothing_without_error()
    {
        var p = Positions(data.All);

        Assert.Empty(await Query(new JournalQuery { After = p[3], Before = p[1] }));
        Assert.Empty(await Query(new JournalQuery { CreatedAfter = DateTimeOffset.UtcNow.AddDays(1), CreatedBefore = DateTimeOffset.UtcNow.AddDays(-1) }));
        Assert.Empty(await Query(new JournalQuery { Limit = 0 }));
        Assert.Empty(await Query(new JournalQuery { Stream = "s1", StreamPattern = "^S" }));
    }

    [Fact]
    public async Task Created_bounds_split_on_commit_time()
    {
        var before = await Query(new JournalQuery { CreatedBefore = data.Middle });
        var after = await Query(new JournalQuery { CreatedAfter = data.Middle });

        Assert.Equal(["s1", "s1", "s12"], before.Select(e => e.Stream));
        Assert.Equal(["S1", "S1"], after.Select(e => e.Stream));
    }

    [Fact]
    public async Task Correlation_filters_on_the_correlation_id()
    {
        var c1 = await Query(new JournalQuery { CorrelationId = "c1" });

        Assert.Equal(["s1", "s1", "S1", "S1"], c1.Select(e => e.Stream));
    }

    [Fact]
    public async Task Limit_and_backward_page_from_the_newest()
    {
        var newest = await Query(new JournalQuery { Backward = true, Limit = 3 });
        var oldest = await Query(new JournalQuery { Limit = 3 });

        Assert.Equal(Positions(data.All).Reverse().Take(3), Positions(newest));
        Assert.Equal(Positions(data.All).Take(3), Positions(oldest));
        Assert.Equal(Positions(data.All)[..2].Reverse(), Positions(await Query(new JournalQuery { Backward = true, Before = data.All[2].Position })));
    }

    [Fact]
    public async Task Snapshots_appear_only_when_asked()
    {
        var withSnapshots = await Query(new JournalQuery { Stream = "s1", IncludeSnapshots = true });

        Assert.Equal([false, false, true], withSnapshots.Select(e => e.IsSnapshot));
        Assert.Equal(JournalStore.SnapshotName, withSnapshots[2].Name);
        Assert.Equal(1, withSnapshots[2].Version);
    }
}
