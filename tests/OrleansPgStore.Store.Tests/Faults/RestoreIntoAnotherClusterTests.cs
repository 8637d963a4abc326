using Npgsql;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// Positions stay monotonic across a restore into another cluster, whose transaction ids start below the stored
/// positions: the journal refuses to append (instead of appending below every consumer's checkpoint), and after the
/// documented fix (rebasing positions) appends continue above every stored position and a reaction sees each new event.
/// </summary>
public sealed class RestoreIntoAnotherClusterTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private const string Schema = "app";

    [Fact]
    public async Task After_pg_dump_and_pg_restore_into_a_fresh_cluster_appends_are_refused_until_rebased_then_a_reaction_sees_every_new_event()
    {
        await using var source = await PrivatePostgresCluster.StartAsync();
        await using var target = await PrivatePostgresCluster.StartAsync();

        // The old server has lived longer than the new one: its transaction ids are far ahead (each subtransaction
        // that writes takes one).
        await ExecuteAsync(source.ConnectionString, """
            CREATE TABLE burn (x int);
            DO $$ BEGIN FOR i IN 1..100000 LOOP BEGIN INSERT INTO burn VALUES (i); EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$;
            DROP TABLE burn;
            """);

        var handled = new List<long>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            lock (handled)
            {
                handled.Add(e.Position);
            }

            return Task.CompletedTask;
        });
        long oldMax;
        await using (var journal = await SeededJournalAsync(source.ConnectionString))
        await using (var leases = await SeededLeasesAsync(source.ConnectionString))
        {
            var old = new List<long>();
            for (var i = 0; i < 10; i++)
            {
                old.AddRange((await journal.CommitAsync($"account-{i % 3}", Events.Many(1))).Select(e => e.Position));
            }

            var loop = new ReactionLoop(journal, leases, registry, new ReactionOptions { Name = "balances" });
            await loop.UntilIdleAsync();
            await loop.ReleaseAsync();
            Assert.Equal(old, handled.Order());
            oldMax = old.Max();
        }

        var dump = Path.Combine(source.Directory, "app.dump");
        await source.RunProgramAsync("pg_dump", ["-h", "127.0.0.1", "-p", $"{source.Port}", "-U", "postgres", "-d", "postgres", "-n", Schema, "-Fc", "-f", dump]);
        await target.RunProgramAsync("pg_restore", ["-h", "127.0.0.1", "-p", $"{target.Port}", "-U", "postgres", "-d", "postgres", dump]);
        handled.Clear();

        await using var restored = new JournalStore(new JournalStoreOptions { ConnectionString = target.ConnectionString, Schema = Schema });
        await using var restoredLeases = new LeaseStore(new LeaseStoreOptions { ConnectionString = target.ConnectionString, Schema = Schema });
        // The new server's ids are below the stored positions: appending would put new events under the reaction's
        // checkpoint, where it would never look. Refused, by name, with nothing written.
        Assert.True(await ScalarAsync<long>(target.ConnectionString, "SELECT pg_current_xact_id()::text::bigint") < oldMax >> 20);
        await restored.SeedAsync(); // a silo's start: seeding succeeds (and logs the regression)
        var refused = await Assert.ThrowsAsync<PositionsRegressedException>(() => restored.CommitAsync("account-9", Events.Many(1)));
        Assert.Contains("orleanspgstore positions rebase", refused.Message);
        await Assert.ThrowsAsync<PositionsRegressedException>(() => restored.SaveSnapshotAsync("account-0", 0, "{}"));
        Assert.Equal(10, await ScalarAsync<long>(target.ConnectionString, $"SELECT count(*) FROM {Schema}.events"));

        var rebase = await restored.RebasePositionsAsync();
        Assert.True(rebase.Changed);
        Assert.False((await restored.RebasePositionsAsync()).Changed, "rebasing again changes nothing");

        var fresh = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            fresh.AddRange((await restored.CommitAsync($"account-{i % 4}", Events.Many(1 + i % 2))).Select(e => e.Position));
        }

        Assert.All(fresh, p => Assert.True(p > oldMax, $"new position {p} is not above the stored {oldMax}"));
        var after = new ReactionLoop(restored, restoredLeases, registry, new ReactionOptions { Name = "balances" });
        await after.UntilIdleAsync();
        Assert.Equal(fresh, handled.Order());
        var feed = await restored.QueryAsync(new JournalQuery { After = oldMax }).ToListAsync();
        Assert.Equal(fresh, feed.Select(e => e.Position));
    }

    [Fact]
    public async Task A_table_whose_positions_are_ahead_of_its_server_refuses_every_write_by_name_until_rebased()
    {
        // The same condition without a second cluster: the offset lowered by hand puts new positions below stored ones.
        await using var store = await db.JournalAsync("regressed");
        var before = await store.CommitAsync("s", Events.Many(3));
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".regressed_positions SET xid_offset = -1000000000");
        await using var restarted = new JournalStore(db.JournalOptions("regressed"));

        var commit = await Assert.ThrowsAsync<PositionsRegressedException>(() => restarted.CommitAsync("s", Events.Many(1)));
        await Assert.ThrowsAsync<PositionsRegressedException>(() => restarted.SaveSnapshotAsync("s", 2, "{}"));
        await Assert.ThrowsAsync<PositionsRegressedException>(() => restarted.TruncateAsync("s"));
        Assert.Equal(before[^1].Position >> 20, commit.StoredTransaction);
        Assert.True(commit.NextTransaction <= commit.StoredTransaction);
        Assert.Equal(3, await db.CountAsync("regressed"));

        var rebase = await restarted.RebasePositionsAsync();
        Assert.Equal(-1000000000, rebase.PreviousOffset);
        var after = await restarted.CommitAsync("s", Events.Many(2), expectedVersion: 2);
        Assert.All(after, e => Assert.True(e.Position > before[^1].Position));
        Assert.Equal(before.Concat(after).Select(e => e.Position), (await restarted.QueryAsync(new JournalQuery { After = 0 }).ToListAsync()).Select(e => e.Position));
    }

    private static async Task<JournalStore> SeededJournalAsync(string connectionString)
    {
        var journal = new JournalStore(new JournalStoreOptions { ConnectionString = connectionString, Schema = Schema });
        await journal.SeedAsync();
        return journal;
    }

    private static async Task<LeaseStore> SeededLeasesAsync(string connectionString)
    {
        var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = connectionString, Schema = Schema });
        await leases.SeedAsync();
        return leases;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
