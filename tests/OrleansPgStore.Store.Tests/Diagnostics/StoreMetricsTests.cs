using OrleansPgStore.Store.Admin;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Diagnostics;

public sealed class StoreMetricsTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task Every_journal_operation_records_its_duration_and_outcome()
    {
        await using var store = await db.JournalAsync("metrics_journal");
        using var capture = new TelemetryCapture("metrics_journal", $"{db.Name}.metrics_journal");

        await store.CommitAsync("s", Events.Many(3));
        await Assert.ThrowsAsync<StreamConcurrencyException>(() => store.CommitAsync("s", Events.Many(1), expectedVersion: 0));
        await store.LoadAsync("s").ToListAsync();
        await store.QueryAsync(new JournalQuery { Stream = "s" }).ToListAsync();
        await store.SaveSnapshotAsync("s", 2, "{}");
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SaveSnapshotAsync("s", 9, "{}"));
        await store.RunRetentionAsync(DateTimeOffset.UtcNow.AddDays(1));

        var durations = capture.Of("orleanspgstore.operation.duration").ToList();
        Assert.All(durations, m => Assert.True(m.Value >= 0));
        foreach (var (operation, status) in new[]
                 {
                     ("journal.commit", "ok"), ("journal.commit", "conflict"), ("journal.load", "ok"), ("journal.query", "ok"),
                     ("journal.snapshot", "ok"), ("journal.snapshot", "error"), ("journal.retention", "ok"),
                 })
        {
            Assert.Contains(durations, m => m.Tag("operation") == operation && m.Tag("status") == status);
        }

        Assert.Contains(durations, m => m.Tag("status") == "error" && m.Tag("error.type") == typeof(ArgumentOutOfRangeException).FullName);
        Assert.Equal(3, capture.Of("orleanspgstore.journal.events_appended").Sum(m => m.Value));
        Assert.Equal(1, capture.Of("orleanspgstore.concurrency.conflicts").Sum(m => m.Value));
        Assert.Equal(1, capture.Of("orleanspgstore.journal.snapshot_failures").Sum(m => m.Value));
        // The snapshot at version 2 covers events 0 to 2.
        Assert.Equal(3, capture.Of("orleanspgstore.journal.retention.deleted").Sum(m => m.Value));
    }

    [Fact]
    public async Task State_operations_record_duration_outcome_and_conflicts()
    {
        await using var states = await db.StateAsync("metrics_state");
        using var capture = new TelemetryCapture("metrics_state", $"{db.Name}.metrics_state");

        await states.UpsertAsync("p", 0, "{}");
        await Assert.ThrowsAsync<StateConcurrencyException>(() => states.UpsertAsync("p", 0, "{}"));
        await states.LoadAsync("p");
        await states.DeleteAsync("p");

        var durations = capture.Of("orleanspgstore.operation.duration").ToList();
        foreach (var (operation, status) in new[] { ("state.upsert", "ok"), ("state.upsert", "conflict"), ("state.load", "ok"), ("state.delete", "ok") })
        {
            Assert.Contains(durations, m => m.Tag("operation") == operation && m.Tag("status") == status);
        }

        Assert.Equal(1, capture.Of("orleanspgstore.concurrency.conflicts").Sum(m => m.Value));
    }

    [Fact]
    public async Task The_listener_reports_being_connected_and_disconnected()
    {
        await using var store = await db.JournalAsync("metrics_listener", o => o.NotifyOnCommit = true);
        using var capture = new TelemetryCapture("metrics_listener");

        var listener = store.CreateCommitListener(_ => { });
        await listener.StartAsync();
        Assert.True(listener.IsConnected);
        await listener.DisposeAsync();

        Assert.False(listener.IsConnected);
        // The up-down counter carries no table (other tests' listeners come and go meanwhile): this one added +1, then -1.
        Assert.Contains(capture.Of("orleanspgstore.listener.connected"), m => m.Value == 1);
        Assert.Contains(capture.Of("orleanspgstore.listener.connected"), m => m.Value == -1);
    }

    [Fact]
    public async Task Lag_gauges_report_the_published_sample_per_lane()
    {
        await using var journal = await db.JournalAsync("metrics_lag_events");
        await using var leases = await db.LeasesAsync("metrics_lag_subs");
        await using var admin = new StoreAdmin(new StoreAdminOptions
        {
            ConnectionString = db.ConnectionString, Schema = db.Name, Table = "metrics_lag_events", SubscriptionsTable = "metrics_lag_subs",
        });
        var committed = await journal.CommitAsync("src", Events.Many(4));
        await leases.SubscribeAsync([new Subscription("target", "src", Lane: "slow")]);
        await leases.RaiseWorkAsync([new WorkMark(new Subscription("target", "src", Lane: "slow"), committed[^1].Position)]);
        using var capture = new TelemetryCapture("metrics_lag", db.Name);

        StoreInstruments.PublishReactionLag(admin.SubscriptionsTable, await admin.ReactionLagAsync());
        capture.Observe();

        var events = Assert.Single(capture.Of("orleanspgstore.reactions.lag.events"), m => m.Tag("lane") == "slow");
        Assert.Equal(4, events.Value);
        Assert.Contains(capture.Of("orleanspgstore.reactions.lag.seconds"), m => m.Tag("lane") == "slow" && m.Value >= 0);
        Assert.Contains(capture.Of("orleanspgstore.reactions.blocked"), m => m.Tag("lane") == "slow" && m.Value == 0);
    }
}
