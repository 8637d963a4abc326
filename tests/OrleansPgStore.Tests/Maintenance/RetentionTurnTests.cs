using OrleansPgStore.Store;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Hosting;
using OrleansPgStore.Maintenance;
using OrleansPgStore.Options;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Support;

namespace OrleansPgStore.Tests.Maintenance;

/// <summary>The retention schedule of every silo: one run per interval, which warns about what it keeps for subscriptions.</summary>
public sealed class RetentionTurnTests
{
    [Fact]
    public async Task Of_two_silos_scheduling_retention_at_once_one_runs_per_interval_and_warns_about_what_it_kept()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("turns");
        var options = new PostgresJournalOptions { ConnectionString = schema.ConnectionString, Schema = schema.Name };
        options.Retention.KeepFor = TimeSpan.FromMilliseconds(1);
        options.Retention.Interval = TimeSpan.FromHours(1);
        var logs = new LogCapture();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        await using var services = PostgresProviderFactory.Store(options, loggerFactory);
        await services.SeedAsync(CancellationToken.None);

        // "a" is consumed by nobody's reckoning (no subscription reads it); "b" has a blocked target at watermark -1.
        await services.Journal.CommitAsync("a", [new EventData("E", "{}"), new EventData("E", "{}"), new EventData("E", "{}")]);
        var b = await services.Journal.CommitAsync("b", [new EventData("E", "{}"), new EventData("E", "{}")]);
        await services.Journal.SaveSnapshotAsync("a", 2, "{}");
        await services.Journal.SaveSnapshotAsync("b", 1, "{}");
        await schema.ExecuteAsync(
            $"INSERT INTO \"{schema.Name}\".subscriptions (stream, source, work, blocked, error) VALUES ('b', 'b', {b[^1].Position}, true, 'poison')");
        await Task.Delay(10); // older than KeepFor

        var silos = Enumerable.Range(0, 2)
            .Select(_ => new PostgresRetentionService("Postgres", options.Retention, () => services, TimeProvider.System,
                loggerFactory.CreateLogger<PostgresRetentionService>()))
            .ToList();
        var runs = await Task.WhenAll(silos.Select(s => s.RunOnceAsync(options.Retention.KeepFor.Value, CancellationToken.None)));

        var run = Assert.Single(runs, r => r is not null)!;
        Assert.Equal((3L, 2L), (run.RowsDeleted, run.RowsWithheld));
        Assert.Contains(logs.Messages, m => m.StartsWith("Warning", StringComparison.Ordinal)
            && m.Contains("kept 2 events in 1 streams") && m.Contains("'b'") && m.Contains("blocked: True"));

        // The turn lasts the interval: neither runs again before it ends.
        Assert.All(await Task.WhenAll(silos.Select(s => s.RunOnceAsync(options.Retention.KeepFor.Value, CancellationToken.None))), Assert.Null);
        Assert.Equal(2 + 2, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events"));
    }

    /// <summary>retention.md: the turn is handed back after a failed run (the next silo's tick retries in the same
    /// interval), and kept after a successful one.</summary>
    [Fact]
    public async Task A_failed_run_hands_its_turn_back_so_another_silo_runs_in_the_same_interval()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("turns");
        var options = new PostgresJournalOptions { ConnectionString = schema.ConnectionString, Schema = schema.Name };
        options.Retention.KeepFor = TimeSpan.FromMilliseconds(1);
        options.Retention.Interval = TimeSpan.FromHours(1);
        var logs = new LogCapture();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var services = PostgresProviderFactory.Store(options, loggerFactory);
        await services.SeedAsync(CancellationToken.None);
        await services.Journal.CommitAsync("a", [new EventData("E", "{}"), new EventData("E", "{}"), new EventData("E", "{}")]);
        await services.Journal.SaveSnapshotAsync("a", 2, "{}");
        await Task.Delay(10); // older than KeepFor
        var silos = Enumerable.Range(0, 2)
            .Select(_ => new PostgresRetentionService("Postgres", options.Retention, () => services, TimeProvider.System,
                loggerFactory.CreateLogger<PostgresRetentionService>()))
            .ToList();

        // The first silo takes the turn and fails: its events table is away.
        await schema.ExecuteAsync($"ALTER TABLE \"{schema.Name}\".events RENAME TO events_away");
        Assert.Null(await silos[0].RunOnceAsync(options.Retention.KeepFor.Value, CancellationToken.None));
        await schema.ExecuteAsync($"ALTER TABLE \"{schema.Name}\".events_away RENAME TO events");
        Assert.Equal(4L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events"));

        // Handed back: the other silo runs in the same interval; then the turn is kept until the interval ends.
        var run = await silos[1].RunOnceAsync(options.Retention.KeepFor.Value, CancellationToken.None);
        Assert.NotNull(run);
        Assert.Equal(3L, run.RowsDeleted);
        Assert.Null(await silos[0].RunOnceAsync(options.Retention.KeepFor.Value, CancellationToken.None));
    }

    [Fact]
    public async Task With_IgnoreBlockedTargets_retention_deletes_what_blocked_targets_have_not_consumed_and_warns()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("turns");
        var options = new PostgresJournalOptions { ConnectionString = schema.ConnectionString, Schema = schema.Name };
        options.Retention.KeepFor = TimeSpan.FromMilliseconds(1);
        options.Retention.IgnoreBlockedTargets = true;
        var logs = new LogCapture();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var services = PostgresProviderFactory.Store(options, loggerFactory);
        await services.SeedAsync(CancellationToken.None);
        var b = await services.Journal.CommitAsync("b", [new EventData("E", "{}"), new EventData("E", "{}")]);
        await services.Journal.SaveSnapshotAsync("b", 1, "{}");
        await schema.ExecuteAsync(
            $"INSERT INTO \"{schema.Name}\".subscriptions (stream, source, work, blocked) VALUES ('b', 'b', {b[^1].Position}, true)");
        await Task.Delay(10);

        var run = await new PostgresRetentionService("Postgres", options.Retention, () => services, TimeProvider.System,
            loggerFactory.CreateLogger<PostgresRetentionService>()).RunOnceAsync(options.Retention.KeepFor.Value, CancellationToken.None);

        Assert.Equal((2L, 2L, 0L), (run!.RowsDeleted, run.UnconsumedDeleted, run.RowsWithheld));
        Assert.Contains(logs.Messages, m => m.StartsWith("Warning", StringComparison.Ordinal)
            && m.Contains("deleted 2 events that blocked targets had not consumed") && m.Contains("IgnoreBlockedTargets"));
    }
}
