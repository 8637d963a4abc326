using OrleansPgStore.Store.Admin;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Admin;

public sealed class StoreAdminTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private StoreAdmin Admin(string prefix) => new(new StoreAdminOptions
    {
        ConnectionString = db.ConnectionString,
        Schema = db.Name,
        Table = prefix + "_events",
        StateTable = prefix + "_states",
        SubscriptionsTable = prefix + "_subs",
    });

    [Fact]
    public async Task Status_reports_tables_counts_lag_per_lane_and_blocked_targets_with_their_errors()
    {
        await using var journal = await db.JournalAsync("status_events");
        await using var states = await db.StateAsync("status_states");
        await using var leases = await db.LeasesAsync("status_subs");
        await using var admin = Admin("status");
        var a = await journal.CommitAsync("a", Events.Many(3));
        await journal.CommitAsync("b", Events.Many(2));
        await journal.SaveSnapshotAsync("b", 1, "{}");
        await states.UpsertAsync("p", 0, "{}");
        await leases.SubscribeAsync([new Subscription("ta", "a"), new Subscription("tb", "b", Lane: "other")]);
        await leases.RaiseWorkAsync([new WorkMark(new Subscription("ta", "a"), a[^1].Position)]);
        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".status_subs SET blocked = true, error = 'boom', retry = 5 WHERE stream = 'tb'");

        var status = await admin.StatusAsync();

        Assert.True(status.Seeded);
        Assert.Equal([$"{db.Name}.status_events", $"{db.Name}.status_states", $"{db.Name}.status_subs", $"{db.Name}.status_subs_checkpoints"], status.Tables.Select(t => t.Name));
        Assert.Equal([6L, 1, 2, 0], status.Tables.Select(t => t.Rows));
        Assert.All(status.Tables, t => Assert.True(t.SizeBytes > 0));
        Assert.Equal(5, status.Events);
        Assert.Equal(1, status.Snapshots);
        var main = Assert.Single(status.Lanes, l => l.Lane == "");
        Assert.Equal((1L, 1L, 0L, 3L), (main.Targets, main.Lagging, main.Blocked, main.EventsBehind));
        Assert.True(main.TimeBehind >= TimeSpan.Zero);
        var other = Assert.Single(status.Lanes, l => l.Lane == "other");
        Assert.Equal((1L, 0L, 1L, 0L), (other.Targets, other.Lagging, other.Blocked, other.EventsBehind));
        Assert.Equal(new BlockedTarget("tb", "other", 5, "boom"), Assert.Single(status.Blocked));
    }

    [Fact]
    public async Task Missing_tables_are_reported_not_thrown()
    {
        await using var admin = Admin("nothing");

        var status = await admin.StatusAsync();

        Assert.False(status.Seeded);
        Assert.All(status.Tables, t => Assert.Equal((false, 0L, 0L), (t.Exists, t.SizeBytes, t.Rows)));
        Assert.Empty(status.Lanes);
        Assert.Empty(status.Blocked);
    }

    [Fact]
    public async Task An_unreachable_database_fails_with_the_operation_named()
    {
        await using var admin = new StoreAdmin(new StoreAdminOptions { ConnectionString = "Host=127.0.0.1;Port=1;Timeout=2" });

        var e = await Assert.ThrowsAsync<StoreOperationException>(() => admin.PingAsync());

        Assert.StartsWith("Reaching the database failed", e.Message);
        Assert.True(e.IsTransient);
    }
}
