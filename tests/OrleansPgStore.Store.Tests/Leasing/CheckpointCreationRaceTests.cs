using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Leasing;

/// <summary>
/// Two workers of a new group read its checkpoint at once: the row is created by one, and the other, whose insert waited
/// for that commit, still reads the position (it used to find no row on its statement's snapshot and fail its first
/// discovery, sitting idle until woken).
/// </summary>
public sealed class CheckpointCreationRaceTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Theory]
    [InlineData("COMMIT")]
    [InlineData("ROLLBACK")]
    public async Task A_read_waiting_on_another_creation_of_the_checkpoint_row_returns_its_position(string ending)
    {
        var table = $"create_race_{ending.ToLowerInvariant()}";
        await using var leases = await db.LeasesAsync(table);
        const string application = "checkpoint-creation-race";

        // Another worker's creation of the row, held open: the read's insert of the same key has to wait for it.
        await using var other = await db.Schema.DataSource.OpenConnectionAsync();
        await using (var begin = other.CreateCommand())
        {
            begin.CommandText = $"SET application_name = '{application}'; BEGIN; INSERT INTO {leases.CheckpointsTable} (name) VALUES ('discovery:race')";
            await begin.ExecuteNonQueryAsync();
        }

        var read = Task.Run(() => leases.ReadCheckpointAsync("race"));
        await Eventually.WaitAsync(async () => read.IsCompleted || await db.Schema.ScalarAsync<long>($"""
            SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND a.application_name <> '{application}' AND a.query LIKE '%ON CONFLICT (name) DO NOTHING%'
            """) > 0, "the read waits for the other creation");
        Assert.False(read.IsCompleted);

        await using (var end = other.CreateCommand())
        {
            end.CommandText = ending;
            await end.ExecuteNonQueryAsync();
        }

        // Created at -1 by either side.
        Assert.Equal(-1, await read);
        Assert.Equal(-1, await leases.ReadCheckpointAsync("race"));
        Assert.Equal(1, await db.CountAsync(table + "_checkpoints", "name = 'discovery:race'"));
    }
}
