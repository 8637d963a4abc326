using Npgsql;
using OrleansPgStore.Tests.Grains;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// The tentative state is the confirmed state plus the events still pending. The base adaptor removes a batch from
/// the pending list only when the write returns, so a write that awaited anything after updating the confirmed view
/// (a snapshot) let the grain count that batch twice.
/// </summary>
public sealed class TentativeStateTests
{
    [Fact]
    public async Task A_snapshot_being_saved_does_not_count_the_batch_twice()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("tentative");
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configure: o => o.SnapshotIntervals["tally"] = 1);
        await cluster.DeployAsync();
        var grain = cluster.Client.GetGrain<ITallyGrain>("held");
        await grain.Add("k", 1);
        await grain.Confirm();

        // Hold the snapshot of version 1 open: an uncommitted row with its key makes the snapshot's insert wait.
        await using var holder = await schema.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO \"{schema.Name}\".events (position, stream, version, name, data, snapshot) " +
            "VALUES (-1, 'tally/held', 1, '$snapshot', '{}', true)", holder, hold))
        {
            await insert.ExecuteNonQueryAsync();
        }

        // The last write left no cached tentative state, so reading it while the snapshot waits computes it afresh
        // from the confirmed view and the pending events.
        await grain.Raise("k", 1);
        await WaitForSnapshotBlockedAsync(schema);
        Assert.Equal(2, await grain.Tentative("k"));

        await grain.Confirm();
        Assert.Equal((2, 2), await grain.Confirmed("k"));
        await hold.RollbackAsync();
        Assert.Equal(3, await grain.Add("k", 1));
        await grain.Confirm();
        Assert.Equal(3, await grain.Tentative("k"));
        Assert.Equal((3, 3), await grain.Confirmed("k"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_tentative_state_equals_the_events_raised_under_concurrent_confirmations(bool snapshotEveryEvent)
    {
        await using var schema = await PostgresTestSchema.CreateAsync("tentative");
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configure: o =>
            {
                o.SnapshotIntervals["tally"] = 1;
                o.SnapshotIntervals["tally-plain"] = 0;
            });
        await cluster.DeployAsync();
        ITallyGrain grain = snapshotEveryEvent
            ? cluster.Client.GetGrain<ITallyGrain>("busy")
            : cluster.Client.GetGrain<IPlainTallyGrain>("busy");
        const int adds = 400;

        // Calls run one at a time, so the n-th Add sees exactly n events, confirmed or not.
        var counts = Task.WhenAll(Enumerable.Range(0, adds).Select(_ => grain.Add("k", 1)));
        var confirmations = Task.WhenAll(Enumerable.Range(0, adds / 10).Select(_ => grain.Confirm()));
        await Task.WhenAll(counts, confirmations);
        await grain.Confirm();

        Assert.Equal(Enumerable.Range(1, adds), (await counts).Order());
        Assert.Equal(adds, await grain.Tentative("k"));
        Assert.Equal((adds, adds), await grain.Confirmed("k"));
        var stream = snapshotEveryEvent ? "tally/busy" : "tally-plain/busy";
        Assert.Equal((long)adds, await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = @stream AND NOT snapshot", ("stream", stream)));
    }

    /// <summary>Waits (by deadline, not by time) until a backend waits for a lock on an insert into the events table.</summary>
    private static Task WaitForSnapshotBlockedAsync(PostgresTestSchema schema) => Eventually.WaitAsync(
        async () => await schema.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%snapshot%'") > 0,
        "the snapshot's insert waits for the held row");
}
