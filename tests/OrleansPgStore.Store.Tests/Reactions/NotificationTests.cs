using System.Collections.Concurrent;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

public sealed class NotificationTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_commit_notifies_other_store_instances_but_not_its_own()
    {
        await using var writer = await db.JournalAsync("notify_events", o => o.NotifyOnCommit = true);
        await using var reader = await db.JournalAsync("notify_events", o => o.NotifyOnCommit = true);
        var heardByReader = new BlockingCollection<CommitNotification>();
        await using var listener = reader.CreateCommitListener(heardByReader.Add);
        await listener.StartAsync();

        await reader.CommitAsync("own", Events.Many(1));
        await writer.CommitAsync("theirs", Events.Many(1));

        Assert.True(heardByReader.TryTake(out var first, Patience));
        Assert.Equal(new CommitNotification("theirs", Local: false), first);
        Assert.False(heardByReader.TryTake(out _, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_notification_payload_that_would_reach_8000_bytes_is_skipped_in_the_same_statement()
    {
        await using var connection = await db.Schema.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new Npgsql.NpgsqlCommand(JournalStore.NotifySql, connection, transaction);
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = "some_channel" });
        command.Parameters.Add(new Npgsql.NpgsqlParameter<string> { TypedValue = new string('x', 9000) });

        await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync(); // would fail with "payload string too long" without the guard
    }

    [Fact]
    public async Task A_10_KB_event_is_announced_by_stream_name_alone_and_handled_by_another_store_instance()
    {
        await using var writer = await db.JournalAsync("big_events", o => o.NotifyOnCommit = true);
        await using var journal = await db.JournalAsync("big_events");
        await using var leases = await db.LeasesAsync("big_subs");
        var heard = new BlockingCollection<CommitNotification>();
        await using var listener = journal.CreateCommitListener(heard.Add);
        await listener.StartAsync();
        var handled = new BlockingCollection<RecordedEvent>();
        var registry = new ReactionRegistry().On("Big", (e, _) =>
        {
            handled.Add(e);
            return Task.CompletedTask;
        });
        var loop = new ReactionLoop(journal, leases, registry, new ReactionOptions { PollInterval = TimeSpan.FromMilliseconds(100) });
        await using var worker = new ReactionWorker(loop, journal, listen: true);
        await worker.StartAsync();

        // The payload never travels in the notification (which is capped at 8000 bytes), only the stream's name; at
        // the longest name the journal accepts (1024 bytes) the notification still fits, so it is sent and heard.
        var longStream = new string('s', 1024);
        var payload = $$"""{"blob":"{{new string('x', 10 * 1024)}}"}""";
        await writer.CommitAsync(longStream, [new EventData("Big", payload)]);

        Assert.True(heard.TryTake(out var notification, Patience));
        Assert.Equal(new CommitNotification(longStream, Local: false), notification);
        Assert.True(handled.TryTake(out var e, Patience));
        Assert.Equal(longStream, e.Stream);
        Assert.Equal(10 * 1024, e.Deserialize<Dictionary<string, string>>()!["blob"].Length);
    }

    [Fact]
    public async Task A_listener_that_loses_its_connection_comes_back()
    {
        await using var writer = await db.JournalAsync("heal_events", o => o.NotifyOnCommit = true);
        await using var reader = await db.JournalAsync("heal_events");
        var heard = new BlockingCollection<CommitNotification>();
        await using var listener = reader.CreateCommitListener(heard.Add);
        await listener.StartAsync();
        var backend = listener.BackendProcessId;

        await db.Schema.ExecuteAsync($"SELECT pg_terminate_backend({backend})");
        var deadline = DateTime.UtcNow + Patience;
        while (listener.Connections < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the listener did not reconnect");
            await Task.Delay(20);
        }

        await writer.CommitAsync("after-heal", Events.Many(1));
        Assert.True(heard.TryTake(out var notification, Patience));
        Assert.Equal("after-heal", notification.Stream);
        Assert.NotEqual(backend, listener.BackendProcessId);
    }

    [Fact]
    public async Task A_commit_in_this_process_wakes_an_idle_worker_without_waiting_for_the_poll()
    {
        await using var journal = await db.JournalAsync("wake_events");
        await using var leases = await db.LeasesAsync("wake_subs");
        var handled = new BlockingCollection<RecordedEvent>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            handled.Add(e);
            return Task.CompletedTask;
        });
        // A poll interval far beyond the patience: only the wake-up can deliver in time.
        var loop = new ReactionLoop(journal, leases, registry, new ReactionOptions { PollInterval = TimeSpan.FromHours(1) });
        await using var worker = new ReactionWorker(loop, journal);
        await worker.StartAsync();
        await Task.Delay(100); // let the worker go idle

        await journal.CommitAsync("s", Events.Many(1));

        Assert.True(handled.TryTake(out _, Patience));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task New_work_found_by_a_loop_is_announced_at_the_advances_commit_to_other_instances_and_to_its_own_workers(bool notify)
    {
        var tag = notify ? "on" : "off";
        await using var writer = await db.JournalAsync($"work_events_{tag}");
        await using var journal = await db.JournalAsync($"work_events_{tag}", o => o.NotifyOnCommit = notify);
        await using var other = await db.JournalAsync($"work_events_{tag}");
        await using var leases = await db.LeasesAsync($"work_subs_{tag}");
        var heardByOther = new BlockingCollection<CommitNotification>();
        await using var listener = other.CreateCommitListener(heardByOther.Add);
        await listener.StartAsync();
        var raisedHere = new BlockingCollection<CommitNotification>();
        journal.Committed += raisedHere.Add;
        var registry = new ReactionRegistry().On("Happened", (_, _) => Task.CompletedTask);
        var loop = new ReactionLoop(journal, leases, registry);

        // Nothing to discover: no announcement (negative control).
        await loop.RunCycleAsync();
        Assert.Empty(raisedHere);

        await writer.CommitAsync("s", Events.Many(3));
        var cycle = await loop.RunCycleAsync();
        Assert.Equal(3, cycle.Correlated);

        // This process's workers are woken directly, after the marks committed.
        Assert.True(raisedHere.TryTake(out var local, Patience));
        Assert.Equal(new CommitNotification(JournalStore.WorkAnnouncement, Local: true), local);
        if (notify)
        {
            // Other processes hear it through the NOTIFY sent in the advance's transaction.
            Assert.True(heardByOther.TryTake(out var remote, Patience));
            Assert.Equal(new CommitNotification(JournalStore.WorkAnnouncement, Local: false), remote);
        }

        // An advance that finds the checkpoint moved on by another worker writes nothing and announces nothing.
        var position = await leases.ReadCheckpointAsync(loop.Options.Name);
        var lost = await leases.AdvanceCheckpointAsync(
            loop.Options.Name, position - 1, position, [new WorkMark(new Subscription("never", "never"), position)], journal.WorkNotification);
        Assert.Equal(new CheckpointAdvance(false, position), lost);
        Assert.Empty(await leases.QueryStreamsAsync(new SubscriptionFilter { Streams = ["never"] }));

        // Another instance commits nothing, so with NotifyOnCommit off (or after the lost advance) it hears nothing.
        Assert.False(heardByOther.TryTake(out _, TimeSpan.FromMilliseconds(200)));
        Assert.Empty(raisedHere);
    }
}
