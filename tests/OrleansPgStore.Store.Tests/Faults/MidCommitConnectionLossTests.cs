using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// A commit whose connection dies is stored whole or not at all, and retrying it with the same event ids
/// (the caller cannot know which) never appends it twice.
/// </summary>
public sealed class MidCommitConnectionLossTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Theory]
    [InlineData(5, true, false)]
    [InlineData(5, true, true)] // the commit and its NOTIFY travel as one batch
    [InlineData(1, true, false)] // one event with an id: the idempotent single-event statement
    [InlineData(1, false, false)] // one event without an id: the plain single-event statement
    public async Task A_connection_killed_mid_commit_stores_nothing_and_the_retry_appends_the_batch_once(int size, bool ids, bool notify)
    {
        var table = $"killed_{size}_{ids}_{notify}".ToLowerInvariant();
        await using var store = await db.JournalAsync(table, o => o.NotifyOnCommit = notify);
        await store.CommitAsync("other", Events.Many(2));
        var batch = ids ? Batch(size) : Events.Many(size);

        // Hold the commit at its last event: the rows before it are already inserted in the open transaction.
        await using var gate = await CommitGate.CloseAsync(db.Schema, table, $"NEW.stream = 'killed' AND NEW.version = {size - 1}");
        var commit = Task.Run(() => store.CommitAsync("killed", batch));
        var writer = await gate.WaitForHeldWriterAsync();
        await db.Schema.ExecuteAsync($"SELECT pg_terminate_backend({writer})");

        var error = await Assert.ThrowsAsync<StoreOperationException>(() => commit);
        Assert.Contains("Commit to stream 'killed'", error.Message);
        Assert.True(error.IsTransient, "a killed connection is worth a retry");
        Assert.Equal(0, await db.CountAsync(table, "stream = 'killed'"));

        await gate.OpenAsync();
        var retried = await store.CommitAsync("killed", batch);
        if (ids)
        {
            var again = await store.CommitAsync("killed", batch);
            Assert.Equal(retried.Select(e => e.Position), again.Select(e => e.Position));
        }

        Assert.Equal(Enumerable.Range(0, size).Select(v => (long)v), retried.Select(e => e.Version));
        Assert.Equal(size, await db.CountAsync(table, "stream = 'killed'"));
        Assert.Equal(size + 2, await db.CountAsync(table));
    }

    [Fact]
    public async Task A_connection_lost_after_the_server_committed_keeps_the_whole_batch_and_the_retry_appends_nothing()
    {
        var (proxy, connectionString) = FaultProxy.To(db.ConnectionString, b => b.MaxPoolSize = 1);
        await using var _ = proxy;
        await using var seeded = await db.JournalAsync("lost_reply");
        await using var store = new JournalStore(new JournalStoreOptions { ConnectionString = connectionString, Schema = db.Name, Table = "lost_reply" });
        // Warm the one pooled connection so the commit statement is already prepared on it.
        await store.CommitAsync("warm", Batch(2));
        var batch = Batch(5);

        proxy.MuteServer = true;
        var commit = Task.Run(() => store.CommitAsync("lost", batch));
        await Eventually.WaitAsync(async () => await db.CountAsync("lost_reply", "stream = 'lost'") == 5, "the server committed the batch");
        proxy.CutAll();
        proxy.MuteServer = false;

        var error = await Assert.ThrowsAsync<StoreOperationException>(() => commit);
        Assert.Contains("Commit to stream 'lost'", error.Message);
        Assert.True(error.IsTransient);

        // The caller cannot tell this from the killed commit above, so it retries; the ids make that safe.
        var retried = await store.CommitAsync("lost", batch);

        Assert.Equal(Enumerable.Range(0, 5).Select(v => (long)v), retried.Select(e => e.Version));
        Assert.Equal(batch.Select(e => e.Id), retried.Select(e => e.Id));
        Assert.Equal(5, await db.CountAsync("lost_reply", "stream = 'lost'"));
        Assert.Equal(7, await db.CountAsync("lost_reply"));
    }

    private static EventData[] Batch(int size)
        => Enumerable.Range(0, size).Select(i => Events.Make("Happened", i, Guid.NewGuid())).ToArray();
}
