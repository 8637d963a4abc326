using Npgsql;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// No call waits unboundedly: an exhausted pool fails after the connection string's Timeout, a statement after
/// <see cref="Connection.StoreOptions.CommandTimeout"/>, each with an error naming the operation, nothing written.
/// </summary>
public sealed class PoolExhaustionAndTimeoutTests(SchemaFixture db, ITestOutputHelper output) : IClassFixture<SchemaFixture>
{
    // Far above the 1-second limits under test: only an unbounded wait can reach it.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task With_every_pooled_connection_held_each_operation_fails_after_the_pool_timeout_naming_itself()
    {
        await using (await db.JournalAsync("pool_events"))
        await using (await db.StateAsync("pool_state"))
        await using (await db.LeasesAsync("pool_subs"))
        {
        }

        var builder = new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 2, Timeout = 1 };
        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "pool_events" });
        await using var state = new DurableStateStore(new DurableStateStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "pool_state" });
        await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "pool_subs" });
        var held = new[] { await dataSource.OpenConnectionAsync(), await dataSource.OpenConnectionAsync() };

        var calls = new (string Operation, Func<Task> Call)[]
        {
            ("Commit to stream 'x'", () => journal.CommitAsync("x", Events.Many(3))),
            ("Commit to stream 'x'", () => journal.CommitAsync("x", Events.Many(1))),
            ("Loading stream 'x'", () => journal.LoadAsync("x").ToListAsync()),
            ("Query of the journal", () => journal.QueryAsync(new JournalQuery()).ToListAsync()),
            ("Writing state 'p'", () => state.UpsertAsync("p", 0, "{}")),
            ("Loading state 'p'", () => state.LoadAsync("p")),
            ("Claim", () => leases.ClaimAsync(1, 0, "h", TimeSpan.FromMinutes(1))),
            ("Subscribe", () => leases.SubscribeAsync([new Subscription("t")])),
            ($"Seed of {journal.QualifiedTable}", () => journal.SeedAsync()),
        };
        // All at once: each waits for a connection on its own.
        var errors = await Task.WhenAll(calls.Select(c => Assert.ThrowsAsync<StoreOperationException>(() => c.Call().WaitAsync(Bound))));
        foreach (var ((operation, _), error) in calls.Zip(errors))
        {
            Assert.StartsWith(operation + " failed", error.Message);
            Assert.Contains("pool", error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.True(error.IsTransient, $"{operation}: an exhausted pool is worth a retry");
        }

        foreach (var connection in held)
        {
            await connection.DisposeAsync();
        }

        // Nothing was written meanwhile, and the same stores work once connections are free.
        Assert.Equal(0, await db.CountAsync("pool_events"));
        Assert.Equal(0, await db.CountAsync("pool_state"));
        Assert.Equal(0, await db.CountAsync("pool_subs"));
        Assert.Equal(3, (await journal.CommitAsync("x", Events.Many(3))).Count);
        Assert.Equal(1, await state.UpsertAsync("p", 0, "{}"));
    }

    [Fact]
    public async Task A_commit_held_past_the_command_timeout_is_cancelled_naming_the_operation_and_writes_nothing()
    {
        await using var journal = await db.JournalAsync("slow_events", o => o.CommandTimeout = TimeSpan.FromSeconds(1));
        await using var gate = await CommitGate.CloseAsync(db.Schema, "slow_events", "NEW.stream = 'slow'");

        var error = await Assert.ThrowsAsync<StoreOperationException>(() => journal.CommitAsync("slow", Events.Many(3)).WaitAsync(Bound));
        output.WriteLine(error.Message);

        Assert.StartsWith("Commit to stream 'slow' failed", error.Message);
        Assert.Contains("Timeout", error.Message); // the cause, not only Npgsql's generic "Exception while reading"
        Assert.True(error.IsTransient);
        await gate.OpenAsync();
        Assert.Equal(0, await db.CountAsync("slow_events"));
        Assert.Equal(3, (await journal.CommitAsync("slow", Events.Many(3))).Count);
    }

    [Fact]
    public async Task Writes_waiting_on_a_row_lock_past_the_command_timeout_fail_naming_the_operation_and_change_nothing()
    {
        var oneSecond = TimeSpan.FromSeconds(1);
        await using var state = await db.StateAsync("locked_state");
        await using var leases = await db.LeasesAsync("locked_subs");
        await using var quickState = new DurableStateStore(new DurableStateStoreOptions
            { ConnectionString = db.ConnectionString, Schema = db.Name, Table = "locked_state", CommandTimeout = oneSecond });
        await using var quickLeases = new LeaseStore(new LeaseStoreOptions
            { ConnectionString = db.ConnectionString, Schema = db.Name, Table = "locked_subs", CommandTimeout = oneSecond });
        await state.UpsertAsync("p", 0, """{"v":1}""");
        await leases.RaiseWorkAsync([new WorkMark(new Subscription("t"), 10)]);
        var lease = Assert.Single(await leases.ClaimAsync(1, 0, "h", TimeSpan.FromMinutes(1)));

        // Another session holds both rows locked in an open transaction.
        await using var locker = await db.Schema.DataSource.OpenConnectionAsync();
        await using var transaction = await locker.BeginTransactionAsync();
        await using (var lockRows = new NpgsqlCommand(
            $"SELECT 1 FROM \"{db.Name}\".locked_state WHERE persistence_id = 'p' FOR UPDATE; " +
            $"SELECT 1 FROM \"{db.Name}\".locked_subs WHERE stream = 't' FOR UPDATE", locker, transaction))
        {
            await lockRows.ExecuteNonQueryAsync();
        }

        var upsert = await Assert.ThrowsAsync<StoreOperationException>(() => quickState.UpsertAsync("p", 1, """{"v":2}""").WaitAsync(Bound));
        var delete = await Assert.ThrowsAsync<StoreOperationException>(() => quickState.DeleteAsync("p").WaitAsync(Bound));
        var ack = await Assert.ThrowsAsync<StoreOperationException>(() => quickLeases.AckAsync([new LeaseOutcome("t", "h", 10)]).WaitAsync(Bound));
        await transaction.RollbackAsync();

        Assert.StartsWith("Writing state 'p' failed", upsert.Message);
        Assert.StartsWith("Deleting state 'p' failed", delete.Message);
        Assert.StartsWith("Ack failed", ack.Message);
        Assert.All(new[] { upsert, delete, ack }, e => Assert.Contains("Timeout", e.Message));
        var stored = await state.LoadAsync("p");
        Assert.Equal((1L, """{"v": 1}"""), (stored!.Revision, stored.Json));
        var subscription = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("t")));
        Assert.Equal((-1L, "h"), (subscription.At, subscription.Holder));
        Assert.Single((await quickLeases.AckAsync([new LeaseOutcome("t", lease.Holder, 10)])).Applied);
    }
}
