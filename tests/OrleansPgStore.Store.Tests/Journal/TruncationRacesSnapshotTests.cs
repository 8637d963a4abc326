using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

/// <summary>
/// A full truncation and a snapshot save of the same stream, in every order they can overlap: one is held inside its
/// INSERT (by a trigger waiting for an advisory lock the test holds) while the other starts. Whichever came first, the
/// truncation succeeds and leaves exactly its one row; the snapshot is stored (and then truncated away) when it came
/// first, and refused, storing nothing, when it came second. Saving the snapshot of a grain in the background must never
/// make the grain's ClearLog fail, nor leave a snapshot of cleared events behind.
/// </summary>
public sealed class TruncationRacesSnapshotTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private const int GateKey = 7412;

    public static TheoryData<string, long> Races() => new()
    {
        // Before the stream lock: the truncation failed with 23505 on (stream, version, snapshot).
        { "snapshot held, then truncation", 5 },
        // Before: the snapshot committed beside the tombstone, below it.
        { "snapshot held, then truncation", 3 },
        // Before: the snapshot waited for the tombstone's index entry and was refused (the control).
        { "truncation held, then snapshot", 5 },
        // Before: the snapshot saw the events the truncation was deleting, and was stored below the tombstone.
        { "truncation held, then snapshot", 3 },
    };

    [Theory]
    [MemberData(nameof(Races))]
    public async Task A_truncation_racing_a_snapshot_of_its_stream_succeeds_and_leaves_only_its_own_row(string race, long snapshotVersion)
    {
        var table = $"race_{(race.StartsWith("snapshot", StringComparison.Ordinal) ? "s" : "t")}_{snapshotVersion}";
        var application = $"race-{Guid.NewGuid():N}"[..20];
        await using var store = await db.JournalAsync(table, o => o.ConnectionString = $"{db.ConnectionString};Application Name={application}");
        var snapshotFirst = race.StartsWith("snapshot", StringComparison.Ordinal);
        // Holds the first writer after its INSERT, before it commits: a snapshot marked "held", or the tombstone.
        await db.Schema.ExecuteAsync($"""
            CREATE FUNCTION "{db.Name}".hold_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {(snapshotFirst ? "NEW.data ? 'held'" : $"NEW.name = '{JournalStore.TombstoneName}'")} THEN
                    PERFORM pg_advisory_lock({GateKey});
                    PERFORM pg_advisory_unlock({GateKey});
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER hold AFTER INSERT ON "{db.Name}".{table} FOR EACH ROW EXECUTE FUNCTION "{db.Name}".hold_{table}();
            """);
        await store.CommitAsync("s", Events.Many(6));
        await store.CommitAsync("other", Events.Many(2));

        await using var gate = await db.Schema.DataSource.OpenConnectionAsync();
        await ExecuteAsync(gate, $"SELECT pg_advisory_lock({GateKey})");
        Task<RecordedEvent?> Truncate() => Task.Run(() => store.TruncateAsync("s"));
        Task<RecordedEvent?> Save() => Task.Run<RecordedEvent?>(async () => await store.SaveSnapshotAsync("s", snapshotVersion, """{"held":true}"""));
        var first = snapshotFirst ? Save() : Truncate();
        var heldPid = 0;
        await Eventually.WaitAsync(async () => (heldPid = await db.Schema.ScalarAsync<int>(
            $"SELECT coalesce(max(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND objid = {GateKey} AND NOT granted")) != 0,
            "the first writer waits inside its INSERT");
        var second = snapshotFirst ? Truncate() : Save();
        // The second writer either waits for a lock (for the first writer) or, not ordered behind it, finishes.
        await Eventually.WaitAsync(async () => second.IsCompleted || await db.Schema.ScalarAsync<long>($"""
            SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND a.application_name = '{application}' AND l.pid <> {heldPid}
            """) > 0, "the second writer waits or finishes");

        await ExecuteAsync(gate, $"SELECT pg_advisory_unlock({GateKey})");
        var truncation = snapshotFirst ? second : first;
        var snapshot = snapshotFirst ? first : second;
        var kept = await truncation;
        var saved = await Record.ExceptionAsync(() => snapshot);

        Assert.True(kept!.IsTombstone);
        Assert.Equal(5, kept.Version);
        var rows = await store.QueryAsync(new JournalQuery { Stream = "s", IncludeSnapshots = true }).ToListAsync();
        Assert.Equal([(kept.Position, 5L, JournalStore.TombstoneName)], rows.Select(e => (e.Position, e.Version, e.Name)));
        if (snapshotFirst)
        {
            Assert.Null(saved);
        }
        else
        {
            var refused = Assert.IsType<ArgumentException>(saved);
            Assert.Contains("truncated at version 5", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(2, await db.CountAsync(table, "stream = 'other'"));
        Assert.Equal(7, (await store.CommitAsync("s", Events.Many(2), expectedVersion: 5))[1].Version);
    }

    [Fact]
    public async Task A_snapshot_at_or_below_a_tombstone_is_refused_and_one_above_it_is_stored()
    {
        await using var store = await db.JournalAsync("below_tombstone");
        await store.CommitAsync("s", Events.Many(4));
        await store.SaveSnapshotAsync("s", 1, """{"before":1}""");
        await store.TruncateAsync("s");
        await store.CommitAsync("s", Events.Many(3), expectedVersion: 3);

        foreach (var version in new long[] { 0, 1, 2, 3 })
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => store.SaveSnapshotAsync("s", version, """{"stale":true}"""));
            Assert.Contains("truncated at version 3", error.Message, StringComparison.Ordinal);
        }

        // The control: the events after the tombstone take snapshots as usual.
        var saved = await store.SaveSnapshotAsync("s", 5, """{"after":5}""");
        Assert.Equal(5, saved.Version);
        var rows = await store.QueryAsync(new JournalQuery { Stream = "s", IncludeSnapshots = true }).ToListAsync();
        Assert.Equal([(3L, true), (4L, false), (5L, false), (5L, true), (6L, false)],
            rows.Select(e => (e.Version, e.IsSnapshot)).OrderBy(r => r.Version).ThenBy(r => r.IsSnapshot));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
