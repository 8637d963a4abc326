using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

public sealed class RetentionTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task Retention_trims_every_stream_behind_its_snapshot_in_batches_and_reports_progress()
    {
        await using var store = await db.JournalAsync("retention_batches");
        for (var i = 0; i < 7; i++)
        {
            await store.CommitAsync($"s{i}", Events.Many(5));
            await store.SaveSnapshotAsync($"s{i}", 3, "{}");
        }

        await store.CommitAsync("no-snapshot", Events.Many(4));
        var reports = new List<RetentionProgress>();

        var done = await store.RunRetentionAsync(DateTimeOffset.UtcNow.AddMinutes(1), batchSize: 3, new SyncProgress(reports.Add));

        // Per stream: events 0..3 go, the snapshot at 3 and event 4 stay.
        Assert.Equal((7L, 7L, 28L, 0L), (done.StreamsDone, done.StreamsTotal, done.RowsDeleted, done.RowsWithheld));
        Assert.Equal([0L, 3, 6, 7], reports.Select(r => r.StreamsDone));
        Assert.All(reports, r => Assert.Equal(7, r.StreamsTotal));
        Assert.Equal(7 * 2 + 4, await db.CountAsync("retention_batches"));
        var loaded = await store.LoadAsync("s4").ToListAsync();
        Assert.True(loaded[0].IsSnapshot);
        Assert.Equal([3L, 4], loaded.Select(e => e.Version));
    }

    [Fact]
    public async Task Retention_leaves_history_behind_snapshots_newer_than_the_cutoff()
    {
        await using var store = await db.JournalAsync("retention_cutoff");
        await store.CommitAsync("s", Events.Many(3));
        await store.SaveSnapshotAsync("s", 1, "{}");

        var done = await store.RunRetentionAsync(DateTimeOffset.UtcNow.AddHours(-1));

        Assert.Equal((0L, 0L, 0L), (done.StreamsDone, done.StreamsTotal, done.RowsDeleted));
        Assert.Equal(4, await db.CountAsync("retention_cutoff"));
    }

    private sealed class SyncProgress(Action<RetentionProgress> report) : IProgress<RetentionProgress>
    {
        public void Report(RetentionProgress value) => report(value);
    }
}
