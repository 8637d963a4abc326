using System.Text.RegularExpressions;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Leasing;

/// <summary>
/// A database of an older release keeps discovery checkpoints and retention turns in the subscriptions table under reserved
/// '$' names. Seeding moves them into the checkpoints table, with their positions, leases and resume points, once: after
/// that, a stream of such a name in the subscriptions table is a target like any other.
/// </summary>
public sealed class CheckpointTableUpgradeTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly DateTimeOffset ResumeFrom = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Seeding_moves_an_older_releases_checkpoint_rows_over_once_with_their_positions_and_leases(bool withoutMove)
    {
        var table = $"upgrade_subs_{withoutMove}";
        var subscriptions = $"\"{db.Name}\".\"{table}\"";

        // The older release's layout: its subscriptions table (the same DDL) without a checkpoints table...
        await (await db.LeasesAsync(table)).DisposeAsync();
        await db.Schema.ExecuteAsync($"DROP TABLE \"{db.Name}\".\"{table}_checkpoints\"");

        // ...and the rows its statements wrote: a discovery checkpoint created and advanced to 42, a retention turn taken
        // (live for an hour) and finished, another one taken and expired, and a target.
        await db.Schema.ExecuteAsync($"""
            INSERT INTO {subscriptions} (stream) SELECT '$checkpoint:g' ON CONFLICT (stream) DO NOTHING;
            UPDATE {subscriptions} SET at = 42 WHERE stream = '$checkpoint:g' AND at >= -1 AND at < 42;
            INSERT INTO {subscriptions} AS s (stream, leased_by, leased_until) VALUES ('$retention:events', 'old-silo', now() + 3600000 * interval '1 millisecond')
            ON CONFLICT (stream) DO UPDATE SET leased_by = excluded.leased_by, leased_until = excluded.leased_until
            WHERE s.leased_until IS NULL OR s.leased_until <= now();
            UPDATE {subscriptions} SET due = '{ResumeFrom:O}' WHERE stream = '$retention:events' AND leased_by = 'old-silo';
            INSERT INTO {subscriptions} (stream, leased_by, leased_until, due) VALUES ('$retention:other', 'old-silo', now() - interval '1 minute', '{ResumeFrom:O}');
            INSERT INTO {subscriptions} (stream, source, work) VALUES ('t', 't', 7);
            """);

        LeaseStore leases;
        if (withoutMove)
        {
            // Negative control: the same DDL without the move (a DBA's hand-made table, say) loses the old rows' state.
            var ddl = LeaseStore.SchemaSql(db.Name, table);
            var broken = Regex.Replace(ddl, @"INSERT INTO [^;]*_checkpoints""[^;]*;", "");
            Assert.NotEqual(ddl, broken);
            await db.Schema.ExecuteAsync(broken);
            leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = db.ConnectionString, Schema = db.Name, Table = table });
        }
        else
        {
            leases = await db.LeasesAsync(table);
        }

        await using (leases)
        {
            if (withoutMove)
            {
                Assert.Equal(-1, await leases.ReadCheckpointAsync("g"));
                Assert.True((await leases.TryTakeRetentionTurnAsync("events", "new-silo", TimeSpan.FromHours(1))).Taken);
                return;
            }

            // Positions, leases and resume points came along; the subscriptions table holds only its target.
            Assert.Equal(42, await leases.ReadCheckpointAsync("g"));
            Assert.False((await leases.TryTakeRetentionTurnAsync("events", "new-silo", TimeSpan.FromHours(1))).Taken);
            Assert.Equal((true, (DateTimeOffset?)ResumeFrom), await leases.TryTakeRetentionTurnAsync("other", "new-silo", TimeSpan.FromHours(1)));
            Assert.Equal(
                "discovery:g=42/-, retention:events=-1/old-silo, retention:other=-1/new-silo",
                await db.Schema.ScalarAsync<string>(
                    $"SELECT string_agg(name || '=' || at || '/' || coalesce(leased_by, '-'), ', ' ORDER BY name) FROM {leases.CheckpointsTable}"));
            Assert.Equal(["t"], (await leases.QueryStreamsAsync(new SubscriptionFilter())).Select(s => s.Stream));
            Assert.Equal(0, await db.CountAsync(table, "left(stream, 1) = '$'"));

            // Seeding again moves nothing: a target named like an old checkpoint row now stays a target.
            await leases.RaiseWorkAsync([new WorkMark(new Subscription("$checkpoint:h"), 9), new WorkMark(new Subscription("$retention:x"), 9)]);
            await leases.SeedAsync();
            Assert.Equal(["$checkpoint:h", "$retention:x", "t"],
                (await leases.QueryStreamsAsync(new SubscriptionFilter())).Select(s => s.Stream).Order(StringComparer.Ordinal));
            Assert.Equal(-1, await leases.ReadCheckpointAsync("h"));
            Assert.Equal(42, await leases.ReadCheckpointAsync("g"));
        }
    }
}
