using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

public sealed class SnapshotAndTruncateTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task Load_returns_the_newest_snapshot_then_the_events_after_it()
    {
        await using var store = await db.JournalAsync("load_snapshot");
        await store.CommitAsync("s", Events.Many(5));
        await store.SaveSnapshotAsync("s", 1, """{"upTo":1}""");
        await store.SaveSnapshotAsync("s", 3, """{"upTo":3}""");
        await store.CommitAsync("s", Events.Many(2), expectedVersion: 4);

        var loaded = await store.LoadAsync("s").ToListAsync();

        Assert.True(loaded[0].IsSnapshot);
        Assert.Equal("""{"upTo": 3}""", loaded[0].Json);
        Assert.Equal([3L, 4, 5, 6], loaded.Select(e => e.Version));
        Assert.All(loaded.Skip(1), e => Assert.False(e.IsSnapshot));
    }

    [Fact]
    public async Task Load_and_replay_agree_row_for_row_whatever_the_snapshot_covers()
    {
        await using var store = await db.JournalAsync("load_replay");
        // No snapshot; a snapshot at the last event; one in the middle; one at version 0; a tombstone; a snapshot
        // whose own event was trimmed away by windowed truncation.
        await store.CommitAsync("plain", Events.Many(3));
        await store.CommitAsync("at-head", Events.Many(3));
        await store.SaveSnapshotAsync("at-head", 2, """{"upTo":2}""");
        await store.CommitAsync("middle", Events.Many(6));
        await store.SaveSnapshotAsync("middle", 3, """{"upTo":3}""");
        await store.CommitAsync("at-zero", Events.Many(2));
        await store.SaveSnapshotAsync("at-zero", 0, """{"upTo":0}""");
        await store.CommitAsync("tombstoned", Events.Many(4));
        await store.TruncateAsync("tombstoned", snapshotJson: null, expectedVersion: null);
        await store.CommitAsync("trimmed", Events.Many(5));
        await store.SaveSnapshotAsync("trimmed", 2, """{"upTo":2}""");
        await store.TruncateBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), "trimmed");

        var expected = new Dictionary<string, (long Version, bool Snapshot)[]>
        {
            ["plain"] = [(0, false), (1, false), (2, false)],
            ["at-head"] = [(2, true)],
            ["middle"] = [(3, true), (4, false), (5, false)],
            ["at-zero"] = [(0, true), (1, false)],
            ["tombstoned"] = [(3, true)],
            ["trimmed"] = [(2, true), (3, false), (4, false)],
        };
        foreach (var (stream, rows) in expected)
        {
            var loaded = await store.LoadAsync(stream).ToListAsync();
            var replayed = await store.ReplayAsync(stream).ToListAsync();

            Assert.Equal(rows, loaded.Select(e => (e.Version, e.IsSnapshot)));
            Assert.Equal(loaded.Select(e => (e.Version, e.Name, e.Json, e.IsSnapshot, e.IsTombstone)),
                replayed.Select(e => (e.Version, e.Name, e.Json, e.IsSnapshot, e.IsTombstone)));
        }

        Assert.True((await store.ReplayAsync("tombstoned").SingleAsync()).IsTombstone);
        Assert.Empty(await store.ReplayAsync("nobody").ToListAsync());
    }

    [Fact]
    public async Task Load_without_a_snapshot_returns_every_event_and_an_unknown_stream_nothing()
    {
        await using var store = await db.JournalAsync("load_plain");
        await store.CommitAsync("s", Events.Many(3));

        Assert.Equal([0L, 1, 2], (await store.LoadAsync("s").ToListAsync()).Select(e => e.Version));
        Assert.Empty(await store.LoadAsync("nobody").ToListAsync());
    }

    [Fact]
    public async Task Load_finds_the_snapshot_with_one_index_lookup_and_never_scans_the_table()
    {
        await using var store = await db.JournalAsync("load_plan");
        for (var i = 0; i < 20; i++)
        {
            await store.CommitAsync($"s{i}", Events.Many(50));
            await store.SaveSnapshotAsync($"s{i}", 40, "{}");
        }

        await db.Schema.ExecuteAsync($"ANALYZE \"{db.Name}\".load_plan");
        var sql = new JournalSql($"\"{db.Name}\".load_plan", $"\"{db.Name}\".load_plan_positions").Load.Replace("$1", "'s7'");
        await using var command = db.Schema.DataSource.CreateCommand("SET enable_seqscan = off; EXPLAIN " + sql);
        var plan = string.Join('\n', await ReadLinesAsync(command));

        // The newest snapshot: a probe of the partial index that holds only snapshots, keyed by stream.
        Assert.Matches(@"Index Only Scan (Backward )?using load_plan_snapshots[^\n]*\n\s*Index Cond: \(+stream = 's7'::text\)", plan);
        // The events after it: a range of the (stream, version) index.
        Assert.Matches(@"Index Cond: \(\(stream = 's7'::text\) AND \(version >= ", plan);
        Assert.Contains("load_plan_stream_version", plan);
        Assert.DoesNotContain("Seq Scan", plan);
    }

    [Fact]
    public async Task Fetching_a_lagging_target_walks_its_own_stream_never_the_position_range_of_all_streams()
    {
        await using var store = await db.JournalAsync("fetch_plan");
        for (var i = 0; i < 20; i++)
        {
            await store.CommitAsync($"s{i}", Events.Many(20));
        }

        await db.Schema.ExecuteAsync($"ANALYZE \"{db.Name}\".fetch_plan");
        var sql = new JournalSql($"\"{db.Name}\".fetch_plan", $"\"{db.Name}\".fetch_plan_positions");
        // Prepared statements run on generic plans: check that plan, with a watermark at the very start.
        await using var connection = await db.Schema.DataSource.OpenConnectionAsync();
        foreach (var (statement, parameters, arguments) in new[]
                 {
                     (sql.ReadStreamRange, "text, bigint, bigint, text[], int", "'s7', -1, 9223372036854775807, ARRAY['Happened'], 10"),
                     (sql.ReadStreamRanges, "text[], bigint[], bigint[], text[], int", "ARRAY['s7','s8'], ARRAY[-1,-1]::bigint[], ARRAY[9223372036854775807,9223372036854775807]::bigint[], ARRAY['Happened'], 10"),
                 })
        {
            await using var command = new Npgsql.NpgsqlCommand(
                $"SET plan_cache_mode = force_generic_plan; DEALLOCATE ALL; PREPARE p({parameters}) AS {statement}; EXPLAIN EXECUTE p({arguments});", connection);
            var plan = string.Join('\n', await ReadLinesAsync(command));

            Assert.Matches(@"(Index Scan using|Bitmap Index Scan on) fetch_plan_stream_version[^\n]*\n\s*Index Cond: \(\(stream = ", plan);
            Assert.DoesNotContain("Index Cond: ((\"position\" >", plan);
            Assert.DoesNotContain("Seq Scan", plan);
        }
    }

    [Fact]
    public async Task ReadStream_returns_a_version_range_of_events_only()
    {
        await using var store = await db.JournalAsync("read_range");
        await store.CommitAsync("s", Events.Many(6));
        await store.SaveSnapshotAsync("s", 2, "{}");

        Assert.Equal([2L, 3], (await store.ReadStreamAsync("s", 2, 4).ToListAsync()).Select(e => e.Version));
        Assert.Equal([4L, 5], (await store.ReadStreamAsync("s", 4).ToListAsync()).Select(e => e.Version));
        Assert.Equal(6, (await store.ReadStreamAsync("s").ToListAsync()).Count);
        Assert.Empty(await store.ReadStreamAsync("s", 3, 3).ToListAsync());
    }

    [Fact]
    public async Task A_snapshot_needs_the_version_it_covers()
    {
        await using var store = await db.JournalAsync("snapshot_range");
        await store.CommitAsync("s", Events.Many(2));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SaveSnapshotAsync("s", 2, "{}"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SaveSnapshotAsync("none", 0, "{}"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SaveSnapshotAsync("s", -1, "{}"));
        Assert.Equal(0, await db.CountAsync("snapshot_range", "snapshot"));
    }

    [Fact]
    public async Task Snapshots_do_not_take_versions_from_events()
    {
        await using var store = await db.JournalAsync("snapshot_versions");
        await store.CommitAsync("s", Events.Many(2));
        await store.SaveSnapshotAsync("s", 1, "{}");

        var next = await store.CommitAsync("s", Events.Many(1), expectedVersion: 1);

        Assert.Equal(2, next[0].Version);
    }

    [Fact]
    public async Task Full_truncation_keeps_one_snapshot_at_the_last_version_and_later_commits_continue()
    {
        await using var store = await db.JournalAsync("truncate_snapshot");
        await store.CommitAsync("s", Events.Many(4));
        await store.CommitAsync("other", Events.Many(2));

        var kept = await store.TruncateAsync("s", """{"state":"all of it"}""", expectedVersion: 3);

        Assert.NotNull(kept);
        Assert.True(kept.IsSnapshot);
        Assert.Equal(3, kept.Version);
        var loaded = await store.LoadAsync("s").ToListAsync();
        Assert.Equal(kept.Position, Assert.Single(loaded).Position);
        await Assert.ThrowsAsync<StreamConcurrencyException>(() => store.CommitAsync("s", Events.Many(1), expectedVersion: 0));
        Assert.Equal(4, (await store.CommitAsync("s", Events.Many(1), expectedVersion: 3))[0].Version);
        Assert.Equal(2, await db.CountAsync("truncate_snapshot", "stream = 'other'"));
    }

    [Fact]
    public async Task Full_truncation_without_a_snapshot_leaves_a_tombstone()
    {
        await using var store = await db.JournalAsync("truncate_tombstone");
        await store.CommitAsync("s", Events.Many(3));

        var kept = await store.TruncateAsync("s");

        Assert.True(kept!.IsTombstone);
        Assert.True(Assert.Single(await store.LoadAsync("s").ToListAsync()).IsTombstone);
        Assert.Null(await store.TruncateAsync("empty"));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.SaveSnapshotAsync("s", 2, """{"revived":true}"""));
        Assert.Contains("tombstone", error.Message);
        Assert.True(Assert.Single(await store.LoadAsync("s").ToListAsync()).IsTombstone);
        await Assert.ThrowsAsync<StreamConcurrencyException>(() => store.TruncateAsync("s", expectedVersion: 0));
    }

    [Fact]
    public async Task Windowed_truncation_drops_what_the_newest_snapshot_before_the_cutoff_covers()
    {
        await using var store = await db.JournalAsync("truncate_window");
        await store.CommitAsync("s", Events.Many(6));
        await store.SaveSnapshotAsync("s", 1, """{"v":1}""");
        await store.SaveSnapshotAsync("s", 3, """{"v":3}""");
        await store.CommitAsync("no-snapshot", Events.Many(3));
        await Task.Delay(10);
        var cutoff = DateTimeOffset.UtcNow;
        await Task.Delay(10);
        await store.SaveSnapshotAsync("s", 5, """{"v":5}""");

        var deleted = await store.TruncateBeforeAsync(cutoff);

        // Events 0..3 and the snapshot at 1 go; the snapshot at 3, events 4..5 and the snapshot at 5 stay.
        Assert.Equal(5, deleted);
        var rows = await store.QueryAsync(new JournalQuery { Stream = "s", IncludeSnapshots = true }).ToListAsync();
        Assert.Equal([(3L, true), (4L, false), (5L, false), (5L, true)], rows.Select(e => (e.Version, e.IsSnapshot)).OrderBy(r => r.Version).ThenBy(r => r.IsSnapshot));
        Assert.Equal(3, await db.CountAsync("truncate_window", "stream = 'no-snapshot'"));
        Assert.Equal([5L], (await store.LoadAsync("s").ToListAsync()).Select(e => e.Version));
    }

    private static async Task<List<string>> ReadLinesAsync(Npgsql.NpgsqlCommand command)
    {
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return lines;
    }
}
