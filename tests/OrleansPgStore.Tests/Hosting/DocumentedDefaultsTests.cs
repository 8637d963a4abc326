using System.Text.Json;
using OrleansPgStore.Health;
using OrleansPgStore.Options;
using OrleansPgStore.Store;

namespace OrleansPgStore.Tests.Hosting;

/// <summary>
/// The defaults the documentation states (docs/orleans.md's options table, docs/operations.md, docs/engine.md,
/// docs/retention.md, docs/clustering-and-reminders.md) are the options' defaults.
/// </summary>
public sealed class DocumentedDefaultsTests
{
    [Fact]
    public void The_journal_options_table_states_the_defaults()
    {
        var o = new PostgresJournalOptions();

        Assert.Null(o.ConnectionString);
        Assert.Null(o.DataSource);
        Assert.Equal("public", o.Schema);
        Assert.Equal(("events", "durable_state"), (o.EventsTable, o.StateTable));
        Assert.Equal(TimeSpan.FromSeconds(30), o.CommandTimeout);
        Assert.True(o.SeedSchema);
        Assert.Equal(ServiceLifecycleStage.ApplicationServices, o.InitStage);
        Assert.Equal("", o.StreamPrefix);
        Assert.Equal(100, o.SnapshotInterval);
        Assert.Empty(o.SnapshotIntervals);
        Assert.Empty(o.TypeNames);
        Assert.Equal(new JsonSerializerOptions(JsonSerializerDefaults.Web).PropertyNamingPolicy, o.JsonSerializerOptions.PropertyNamingPolicy);
        Assert.True(o.JsonSerializerOptions.PropertyNameCaseInsensitive);
        Assert.True(o.StrictReads);
        Assert.Empty(o.TolerantReadTypes);
        Assert.Equal(TimeSpan.FromSeconds(15), o.ReadRetryTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), o.WriteRetryTimeout);
        Assert.Equal(4, o.WarmReadConnections);
        Assert.Equal(TimeSpan.FromSeconds(30), o.Reactions.LagSampleInterval);
        Assert.Null(o.Retention.KeepFor);
        Assert.Equal(TimeSpan.FromHours(1), o.Retention.Interval);
        Assert.Equal(100, o.Retention.BatchSize);
        Assert.False(o.Retention.IgnoreBlockedTargets);
    }

    [Fact]
    public void The_other_documented_defaults_hold()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), new PostgresJournalHealthCheckOptions().MaxLag);
        Assert.Equal(TimeSpan.FromSeconds(5), new PgStoreOptions().FeedSettleTimeout);
        var clustering = new PostgresClusteringOptions();
        Assert.Equal(("orleans_membership", "orleans_membership_version"), (clustering.MembershipTable, clustering.MembershipVersionTable));
        Assert.Equal("orleans_reminders", new PostgresReminderOptions().Table);
        Assert.Equal("subscriptions", new PostgresJournalOptions().Reactions.SubscriptionsTable);
        Assert.Equal("Postgres", PostgresJournalOptions.DefaultName);
    }
}
