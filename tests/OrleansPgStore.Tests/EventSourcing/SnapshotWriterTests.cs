using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// Snapshots are saved in the background, one save per grain at a time: a newer snapshot replaces one still queued,
/// and deactivation waits for the save in flight (docs/orleans.md, "Activation"). A test holds a save in flight by
/// taking the stream's truncation lock (exclusive) from its own connection: the save's shared lock then waits in the
/// database until the test commits.
/// </summary>
public sealed class SnapshotWriterTests
{
    [Fact]
    public async Task Snapshots_requested_while_one_is_saved_result_in_one_more_save_of_the_newest()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("snapwriter");
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configure: o => o.SnapshotIntervals["tally"] = 1);
        await cluster.DeployAsync();
        var tally = cluster.Client.GetGrain<ITallyGrain>("coalesced");
        const string stream = "tally/coalesced";

        await using var holder = await HoldSnapshotsAsync(schema, stream);
        await tally.Add("k", 1);
        await tally.Confirm();
        await WaitForSavesWaitingAsync(schema, 1);

        // Versions 1 and 2 are snapshotted while the save of version 0 waits; confirming never waits for them.
        await tally.Add("k", 1);
        await tally.Confirm();
        await tally.Add("k", 1);
        await tally.Confirm();
        Assert.Equal((3, 3), await tally.Confirmed("k"));
        Assert.Equal(1, await SavesWaitingAsync(schema));
        Assert.Empty(await SnapshotVersionsAsync(schema, stream));

        await holder.ReleaseAsync();
        await Eventually.WaitAsync(
            async () => (await SnapshotVersionsAsync(schema, stream)).Contains(2), "the newest snapshot is saved");

        // The one queued behind the save in flight was replaced by the newest, never saved.
        Assert.Equal([0, 2], await SnapshotVersionsAsync(schema, stream));
    }

    [Fact]
    public async Task Deactivation_finishes_only_after_the_save_in_flight_has_committed()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("snapwriter");
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configure: o => o.SnapshotIntervals["tally"] = 1);
        await cluster.DeployAsync();
        var tally = cluster.Client.GetGrain<ITallyGrain>("leaving");
        const string stream = "tally/leaving";

        await using var holder = await HoldSnapshotsAsync(schema, stream);
        await tally.Add("k", 1);
        await tally.Confirm();
        await WaitForSavesWaitingAsync(schema, 1);

        // The next call reaches a new activation only once this one has finished deactivating; its event commits there.
        var first = await tally.Activation();
        await tally.Deactivate();
        var next = tally.RaiseAllAndConfirm(["after"]);
        // Gives a deactivation that did not wait the chance to finish (and the next event to commit) while the save
        // is still held; the assertions below do not depend on how long this is.
        await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(2)));

        Assert.False(next.IsCompleted, "the next call was served while the old activation's snapshot was still being saved");
        await holder.ReleaseAsync();
        await next;
        Assert.NotEqual(first, await tally.Activation());
        Assert.Equal((1, 2), await tally.Confirmed("after"));

        // Positions follow the order in which transactions wrote: the snapshot of version 0 was written (and committed,
        // it is visible) before the new activation committed version 1, hence before the old one was gone.
        var snapshot = await schema.ScalarAsync<long?>(
            $"SELECT position FROM \"{schema.Name}\".events WHERE stream = @stream AND version = 0 AND snapshot", ("stream", stream));
        var after = await schema.ScalarAsync<long>(
            $"SELECT position FROM \"{schema.Name}\".events WHERE stream = @stream AND version = 1 AND NOT snapshot", ("stream", stream));
        Assert.NotNull(snapshot);
        Assert.True(snapshot < after, $"the snapshot (position {snapshot}) was written after the next activation's event (position {after})");
    }

    /// <summary>Takes the stream's truncation lock (exclusive) in a transaction of a connection of its own.</summary>
    private static async Task<StreamHold> HoldSnapshotsAsync(PostgresTestSchema schema, string stream)
    {
        var connection = await schema.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var take = new NpgsqlCommand(
            $"SELECT pg_advisory_xact_lock({JournalSql.StreamLockClass}, hashtext('\"{schema.Name}\".events'::regclass::oid::text || '/' || @stream))",
            connection, transaction);
        take.Parameters.AddWithValue("stream", stream);
        await take.ExecuteNonQueryAsync();
        return new StreamHold(connection, transaction);
    }

    /// <summary>The held lock: <see cref="ReleaseAsync"/> commits; disposing rolls back (releasing it too).</summary>
    private sealed class StreamHold(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task ReleaseAsync() => transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private static async Task<long> SavesWaitingAsync(PostgresTestSchema schema)
        => await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = {JournalSql.StreamLockClass}::oid AND NOT granted");

    private static Task WaitForSavesWaitingAsync(PostgresTestSchema schema, long count)
        => Eventually.EqualAsync(() => SavesWaitingAsync(schema), count, "snapshot saves waiting for the held stream lock");

    private static async Task<List<long>> SnapshotVersionsAsync(PostgresTestSchema schema, string stream)
    {
        var versions = new List<long>();
        await using var command = schema.DataSource.CreateCommand(
            $"SELECT version FROM \"{schema.Name}\".events WHERE stream = @stream AND snapshot ORDER BY version");
        command.Parameters.AddWithValue("stream", stream);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt64(0));
        }

        return versions;
    }
}
