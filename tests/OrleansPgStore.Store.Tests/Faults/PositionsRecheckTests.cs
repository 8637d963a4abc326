using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// Commits skip reading the position offset while it was 0 at the store's check; a failed write (a move to another
/// server always breaks the connections first) makes the store check again, so it picks up an offset set meanwhile.
/// </summary>
public sealed class PositionsRecheckTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task After_a_failed_write_the_store_reads_the_offset_again()
    {
        var (proxy, connectionString) = FaultProxy.To(db.ConnectionString, b => b.MaxPoolSize = 1);
        await using var _ = proxy;
        await using var seeded = await db.JournalAsync("recheck");
        await using var store = new JournalStore(new JournalStoreOptions { ConnectionString = connectionString, Schema = db.Name, Table = "recheck" });
        var before = await store.CommitAsync("s", Events.Many(1));

        // Positions rebased by another process (after a restore, as the CLI does): the offset this store saw is stale.
        const long offset = 1L << 30;
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".recheck_positions SET xid_offset = {offset}");
        proxy.CutAll();
        await Assert.ThrowsAnyAsync<Exception>(() => store.CommitAsync("s", Events.Many(1)));

        var after = await store.CommitAsync("s", Events.Many(1));
        Assert.True(before[0].Position >> 20 < offset, "the first commit ran before the offset was set");
        Assert.True(after[0].Position >> 20 >= offset, $"position {after[0].Position} ignores the offset {offset} set before the failed write");
    }
}
