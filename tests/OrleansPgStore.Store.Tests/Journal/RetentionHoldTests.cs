using System.Collections.Concurrent;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Journal;

/// <summary>
/// Retention keeps what subscriptions have not consumed: blocked targets, targets behind, and events discovery has not
/// read yet. Each test has a schema of its own, as retention consults every subscriptions table of its schema.
/// </summary>
public sealed class RetentionHoldTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Later = DateTimeOffset.UtcNow.AddDays(1);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<long>> _handled = new(StringComparer.Ordinal);
    private volatile bool _failing = true;
    private PostgresTestSchema _schema = null!;
    private JournalStore _journal = null!;
    private LeaseStore _leases = null!;
    private ReactionLoop? _loop;

    public async ValueTask InitializeAsync()
    {
        _schema = await PostgresTestSchema.CreateAsync("keep");
        _journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        await _journal.SeedAsync();
        _leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        await _leases.SeedAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _journal.DisposeAsync();
        await _leases.DisposeAsync();
        await _schema.DisposeAsync();
    }

    /// <summary>
    /// Every "Happened" in its own stream; the handler fails for stream "s" while <see cref="_failing"/>, and blocks it at
    /// once. One loop per test.
    /// </summary>
    private ReactionLoop Loop() => _loop ??= new(
        _journal,
        _leases,
        new ReactionRegistry().On("Happened", (e, _) =>
        {
            if (_failing && e.Stream == "s")
            {
                throw new InvalidOperationException("poison");
            }

            _handled.GetOrAdd(e.Stream, _ => new ConcurrentQueue<long>()).Enqueue(e.Position);
            return Task.CompletedTask;
        }),
        new ReactionOptions { MaxRetries = 0, PollInterval = TimeSpan.FromMilliseconds(20) });

    private IReadOnlyList<long> Handled(string stream) => _handled.TryGetValue(stream, out var q) ? q.ToList() : [];

    /// <summary>Stream "s" (10 events) blocked at watermark -1, stream "t" (5 events) consumed; both with a snapshot at their last version.</summary>
    private async Task<(IReadOnlyList<RecordedEvent> S, IReadOnlyList<RecordedEvent> T)> BlockedAndConsumedAsync()
    {
        var s = await _journal.CommitAsync("s", Events.Many(10));
        var t = await _journal.CommitAsync("t", Events.Many(5));
        await Loop().UntilIdleAsync();
        Assert.True((await _leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("s"))).Single().Blocked);
        await _journal.SaveSnapshotAsync("s", 9, "{}");
        await _journal.SaveSnapshotAsync("t", 4, "{}");
        return (s, t);
    }

    [Fact]
    public async Task A_blocked_target_resumed_after_retention_receives_every_event()
    {
        var (s, t) = await BlockedAndConsumedAsync();
        using var capture = new TelemetryCapture("events", $"{_schema.Name}.events");

        var done = await _journal.RunRetentionAsync(new RetentionRun(Later));

        // "t" loses the history its target has passed; "s" keeps every event its blocked target has not consumed.
        Assert.Equal(5, done.RowsDeleted);
        Assert.Equal(10, done.RowsWithheld);
        Assert.Equal(1, done.StreamsWithheld);
        Assert.Equal(new RetentionHolder("subscriptions", "s", -1, Blocked: true), done.OldestHolder);
        Assert.Equal(0, done.UnconsumedDeleted);
        Assert.Equal(10, capture.Of("orleanspgstore.journal.retention.withheld").Sum(m => m.Value));
        Assert.Equal(5, capture.Of("orleanspgstore.journal.retention.deleted").Sum(m => m.Value));

        _failing = false;
        await _leases.UnblockAsync(SubscriptionFilter.ForStreams("s"));
        await Loop().UntilIdleAsync();
        Assert.Equal(s.Select(e => e.Position), Handled("s"));

        // Consumed now: the next run lets it go.
        var after = await _journal.RunRetentionAsync(new RetentionRun(Later));
        Assert.Equal(10, after.RowsDeleted);
        Assert.Equal(0, after.RowsWithheld);
        Assert.Null(after.OldestHolder);
        Assert.Equal(t.Select(e => e.Position), Handled("t"));
    }

    /// <summary>
    /// retention.md: the holds come from every subscriptions table in the journal's schema, whatever its name: a target
    /// with pending work in a second table keeps its stream's events, and one without a source keeps every stream's.
    /// </summary>
    [Theory]
    [InlineData("'v'")]
    [InlineData("NULL")]
    public async Task A_target_in_another_subscriptions_table_of_the_schema_holds_its_events_too(string source)
    {
        await using var second = new LeaseStore(new LeaseStoreOptions
        {
            ConnectionString = _schema.ConnectionString, Schema = _schema.Name, Table = "projection_leases",
        });
        await second.SeedAsync();
        var v = await _journal.CommitAsync("v", Events.Many(6));
        var w = await _journal.CommitAsync("w", Events.Many(2));
        await _journal.SaveSnapshotAsync("v", 5, "{}");
        await _journal.SaveSnapshotAsync("w", 1, "{}");
        // A target of the other table, behind at the first event of "v", with work up to its last.
        await _schema.ExecuteAsync(
            $"INSERT INTO \"{_schema.Name}\".projection_leases (stream, source, at, work) VALUES ('read-model', {source}, {v[0].Position}, {v[^1].Position})");

        var done = await _journal.RunRetentionAsync(new RetentionRun(Later));

        // Withheld: the 5 events of "v" after the watermark, and with no source also both of "w" (committed later).
        Assert.Equal(source == "NULL" ? 7 : 5, done.RowsWithheld);
        Assert.Equal(source == "NULL" ? 1 : 3, done.RowsDeleted);
        Assert.Equal(new RetentionHolder("projection_leases", "read-model", v[0].Position, Blocked: false), done.OldestHolder);
        var kept = await _schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{_schema.Name}\".events WHERE stream = 'v' AND NOT snapshot AND position > {v[0].Position}");
        Assert.Equal(5L, kept);
        Assert.Equal(source == "NULL" ? 2L : 0L, await _schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{_schema.Name}\".events WHERE stream = 'w' AND NOT snapshot AND position >= {w[0].Position}"));
    }

    [Fact]
    public async Task A_stopped_target_behind_and_undiscovered_events_are_kept_until_consumed()
    {
        var early = await _journal.CommitAsync("s", Events.Many(3));
        var behind = await _journal.CommitAsync("u", Events.Many(4));
        _failing = false;
        await Loop().UntilIdleAsync();

        // Then the workers stop: "u" has work found by discovery but never handled; "s" gets events discovery never read.
        var late = await _journal.CommitAsync("s", Events.Many(7));
        await _leases.ResetAsync(SubscriptionFilter.ForStreams("u"));
        await _journal.SaveSnapshotAsync("s", 9, "{}");
        await _journal.SaveSnapshotAsync("u", 3, "{}");

        var done = await _journal.RunRetentionAsync(new RetentionRun(Later));

        // "s": its 3 consumed events go; the 7 after the discovery checkpoint stay. "u": all 4 stay (watermark -1).
        Assert.Equal(3, done.RowsDeleted);
        Assert.Equal(7 + 4, done.RowsWithheld);
        Assert.Equal(2, done.StreamsWithheld);
        Assert.Equal(new RetentionHolder("subscriptions", "u", -1, Blocked: false), done.OldestHolder);

        _handled.Clear();
        await Loop().UntilIdleAsync();
        Assert.Equal(late.Select(e => e.Position), Handled("s"));
        Assert.Equal(behind.Select(e => e.Position), Handled("u"));
        Assert.DoesNotContain(early[0].Position, Handled("s"));
    }

    [Fact]
    public async Task A_discovery_checkpoint_holds_from_its_own_table_and_targets_named_like_checkpoints_are_only_targets()
    {
        // Targets named like the group's checkpoint, old key and new: consumed, so they hold nothing.
        await _journal.CommitAsync("$checkpoint:default", Events.Many(3));
        await _journal.CommitAsync("discovery:default", Events.Many(3));
        _failing = false;
        await Loop().UntilIdleAsync();
        var checkpoint = await _leases.ReadCheckpointAsync(ReactionOptions.DefaultName);

        // Then the workers stop: discovery never reads these, and its checkpoint holds them.
        await _journal.CommitAsync("x", Events.Many(4));
        await _journal.SaveSnapshotAsync("$checkpoint:default", 2, "{}");
        await _journal.SaveSnapshotAsync("discovery:default", 2, "{}");
        await _journal.SaveSnapshotAsync("x", 3, "{}");

        var done = await _journal.RunRetentionAsync(new RetentionRun(Later));

        Assert.Equal(3 + 3, done.RowsDeleted);
        Assert.Equal(4, done.RowsWithheld);
        Assert.Equal(new RetentionHolder("subscriptions_checkpoints", "discovery:default", checkpoint, Blocked: false), done.OldestHolder);
    }

    [Fact]
    public async Task A_subscriptions_table_of_an_older_release_not_seeded_since_still_holds_by_its_checkpoint_rows()
    {
        var early = await _journal.CommitAsync("s", Events.Many(3));
        await _journal.CommitAsync("s", Events.Many(2));
        await _journal.SaveSnapshotAsync("s", 4, "{}");

        // The older layout: no checkpoints table, and the checkpoint a row of the subscriptions table, as that release wrote it.
        await _schema.ExecuteAsync($"DROP TABLE \"{_schema.Name}\".subscriptions_checkpoints");
        await _schema.ExecuteAsync($"INSERT INTO \"{_schema.Name}\".subscriptions (stream, at) VALUES ('$checkpoint:old', {early[^1].Position})");

        var done = await _journal.RunRetentionAsync(new RetentionRun(Later));

        Assert.Equal(3, done.RowsDeleted);
        Assert.Equal(2, done.RowsWithheld);
        Assert.Equal(new RetentionHolder("subscriptions", "$checkpoint:old", early[^1].Position, Blocked: false), done.OldestHolder);
    }

    [Fact]
    public async Task The_override_deletes_what_blocked_targets_have_not_consumed_and_says_so()
    {
        await BlockedAndConsumedAsync();

        var done = await _journal.RunRetentionAsync(new RetentionRun(Later) { IgnoreBlockedTargets = true });

        Assert.Equal(15, done.RowsDeleted);
        Assert.Equal(10, done.UnconsumedDeleted);
        Assert.Equal(0, done.RowsWithheld);
        Assert.Null(done.OldestHolder);

        // What it traded away: the target resumes past the deleted events.
        _failing = false;
        await _leases.UnblockAsync(SubscriptionFilter.ForStreams("s"));
        await Loop().UntilIdleAsync();
        Assert.Empty(Handled("s"));
    }

    [Fact]
    public async Task A_dry_run_deletes_nothing_and_reports_what_a_run_then_does()
    {
        await BlockedAndConsumedAsync();
        var rows = await _schema.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema.Name}\".events");

        var dry = await _journal.RunRetentionAsync(new RetentionRun(Later) { DryRun = true });

        Assert.True(dry.DryRun);
        Assert.Null(dry.ResumeFrom);
        Assert.Equal(rows, await _schema.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema.Name}\".events"));
        var real = await _journal.RunRetentionAsync(new RetentionRun(Later));
        Assert.Equal((5L, 10L, 1L), (dry.RowsDeleted, dry.RowsWithheld, dry.StreamsWithheld));
        Assert.Equal((dry.RowsDeleted, dry.RowsWithheld, dry.OldestHolder), (real.RowsDeleted, real.RowsWithheld, real.OldestHolder));
        Assert.Equal(rows - 5, await _schema.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema.Name}\".events"));
    }

    [Fact]
    public async Task A_run_resumed_where_the_previous_left_visits_only_what_it_held_back_and_newer_snapshots()
    {
        await _journal.CommitAsync("s", Events.Many(10));
        await _journal.CommitAsync("t", Events.Many(5));
        for (var i = 0; i < 5; i++)
        {
            await _journal.CommitAsync($"quiet/{i}", Events.Many(2));
        }

        await Loop().UntilIdleAsync();
        await _journal.SaveSnapshotAsync("t", 4, "{}");
        for (var i = 0; i < 5; i++)
        {
            await _journal.SaveSnapshotAsync($"quiet/{i}", 1, "{}");
        }

        await _journal.SaveSnapshotAsync("s", 9, "{}");

        var first = await _journal.RunRetentionAsync(new RetentionRun(Later));
        Assert.Equal((7L, 7L, 5L + 5 * 2, 10L), (first.StreamsTotal, first.StreamsDone, first.RowsDeleted, first.RowsWithheld));

        // Only "s", held back (its snapshot the newest), is visited again; the streams trimmed for good are not.
        var second = await _journal.RunRetentionAsync(new RetentionRun(Later) { SnapshotsSince = first.ResumeFrom });
        Assert.Equal((1L, 1L, 0L, 10L), (second.StreamsTotal, second.StreamsDone, second.RowsDeleted, second.RowsWithheld));

        // Once nothing is held back, the next run starts at the cutoff: nothing older is visited again.
        _failing = false;
        await _leases.UnblockAsync(SubscriptionFilter.ForStreams("s"));
        await Loop().UntilIdleAsync();
        var third = await _journal.RunRetentionAsync(new RetentionRun(Later) { SnapshotsSince = second.ResumeFrom });
        Assert.Equal((1L, 10L), (third.StreamsDone, third.RowsDeleted));
        Assert.Equal(Later - JournalStore.RetentionResumeMargin, third.ResumeFrom);
        Assert.Equal(0, (await _journal.RunRetentionAsync(new RetentionRun(Later) { SnapshotsSince = third.ResumeFrom })).StreamsTotal);
    }
}
