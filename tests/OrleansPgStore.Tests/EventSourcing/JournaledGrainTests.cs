using OrleansPgStore.Store;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Session;
using Orleans.Serialization.TypeSystem;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>JournaledGrains on the two-silo cluster: persistence, snapshots, event retrieval, clearing, naming.</summary>
[Collection(ClusterCollection.Name)]
public sealed class JournaledGrainTests(ClusterFixture fixture)
{
    private static string Key() => Guid.NewGuid().ToString("N");

    private Task<long> CountAsync(string stream, string where = "NOT snapshot")
        => fixture.ScalarAsync<long>($"SELECT count(*) FROM {{schema}}.events WHERE stream = @stream AND {where}", ("stream", stream));

    /// <summary>Snapshots are saved in the background: waits (by deadline) until the stream has <paramref name="count"/>.</summary>
    private async Task WaitForSnapshotsAsync(string stream, long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await CountAsync(stream, "snapshot AND name = '$snapshot'") < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Stream '{stream}' never got {count} snapshot(s).");
            await Task.Delay(20);
        }
    }

    private async Task<AccountView> ReactivateAsync(IAccountGrain account)
    {
        await fixture.Cluster.DeactivateAsync(account);
        Assert.False(fixture.Cluster.TryGetGrainContext(account.GetGrainId(), out _));
        return await account.Get();
    }

    [Fact]
    public async Task Events_survive_deactivation_and_are_stored_one_row_each_in_the_grains_stream()
    {
        var key = Key();
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.Deposit(100, "salary");
        await account.Withdraw(30);
        await account.Deposit(5, "interest");

        var reloaded = await ReactivateAsync(account);

        Assert.Equal(75, reloaded.Balance);
        Assert.Equal(3, reloaded.Version);
        Assert.Equal(new[] { "salary", "interest" }, reloaded.Memos);
        var stream = $"account/{key}";
        Assert.Equal(3, await CountAsync(stream));
        Assert.Equal(2L, await fixture.ScalarAsync<long>(
            "SELECT max(version) FROM {schema}.events WHERE stream = @stream", ("stream", stream)));
    }

    [Fact]
    public async Task Event_types_are_named_by_registered_name_else_alias_else_full_name_and_payloads_are_jsonb()
    {
        var key = Key();
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.Deposit(7, "m");
        await account.Note("hello");
        var counter = fixture.Client.GetGrain<ICounterGrain>(0x2a);
        await counter.Increment(3);

        var names = await fixture.ScalarAsync<string[]>(
            "SELECT array_agg(name ORDER BY version) FROM {schema}.events WHERE stream = @stream", ("stream", $"account/{key}"));
        Assert.Equal(new[] { "test.deposited", typeof(Noted).FullName! }, names);
        // Payloads stay queryable in SQL; Web defaults give camelCase members.
        Assert.Equal(7m, await fixture.ScalarAsync<decimal>(
            "SELECT (data->>'amount')::numeric FROM {schema}.events WHERE stream = @stream AND version = 0", ("stream", $"account/{key}")));
        // Integer keys appear in upper-case hex in the grain id, and so in the stream name.
        Assert.Equal(TestClusters.IncrementedName, await fixture.ScalarAsync<string>(
            "SELECT name FROM {schema}.events WHERE stream = 'counter/2A' ORDER BY version DESC LIMIT 1"));
    }

    [Fact]
    public async Task A_grain_without_the_attribute_finds_the_provider_as_default_and_applies_object_events()
    {
        var counter = fixture.Client.GetGrain<ICounterGrain>(Random.Shared.NextInt64(1_000, long.MaxValue));
        await counter.Increment(2);
        await counter.Increment(5);
        await fixture.Cluster.DeactivateAsync(counter);

        Assert.Equal((7, 2), await counter.Get());
    }

    [Fact]
    public async Task Snapshots_are_written_every_n_events_with_the_grain_version_and_activation_starts_from_the_newest()
    {
        var key = Key();
        var stream = $"account/{key}";
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        for (var i = 0; i < 12; i++)
        {
            await account.Deposit(1, $"d{i}");
        }

        // Interval 5: snapshots after grain versions 5 and 10, at stream versions 4 and 9.
        await WaitForSnapshotsAsync(stream, 2);
        var snapshots = await fixture.ScalarAsync<long[]>(
            "SELECT array_agg(version ORDER BY version) FROM {schema}.events WHERE stream = @stream AND snapshot", ("stream", stream));
        Assert.Equal(new[] { 4L, 9L }, snapshots);
        Assert.Equal(10, await fixture.ScalarAsync<int>(
            "SELECT (data->>'grainVersion')::int FROM {schema}.events WHERE stream = @stream AND snapshot AND version = 9", ("stream", stream)));

        // Mark the newest snapshot's state: a reload that starts from it shows the mark plus the two events after it.
        var marked = new AccountState { Balance = 1000, Memos = Enumerable.Range(0, 10).Select(i => $"d{i}").ToList() };
        Assert.Equal(1L, await fixture.ScalarAsync<long>(
            "WITH u AS (UPDATE {schema}.events SET data = @data::jsonb WHERE stream = @stream AND snapshot AND version = 9 RETURNING 1) SELECT count(*) FROM u",
            ("data", Snapshots().Write(10, marked)), ("stream", stream)));
        var reloaded = await ReactivateAsync(account);

        Assert.Equal(1002, reloaded.Balance);
        Assert.Equal(12, reloaded.Version);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"d{i}"), reloaded.Memos);
    }

    [Fact]
    public async Task Confirmed_events_are_retrieved_from_sql_across_snapshots_and_activations()
    {
        var key = Key();
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.DepositMany(8, 1, "a");
        await account.Withdraw(3);
        await account.Note("n");
        await ReactivateAsync(account);

        var segment = await account.History(6, 10);

        Assert.Equal(
            new AccountEvent[] { new Deposited(1, "a6"), new Deposited(1, "a7"), new Withdrawn(3), new Noted("n") },
            segment);
        Assert.Empty(await account.History(10, 10));
        Assert.Equal(10, (await account.History(0, 10)).Count);
    }

    [Fact]
    public async Task Clearing_the_log_restarts_the_grain_at_version_0_on_top_of_a_tombstone()
    {
        var key = Key();
        var stream = $"account/{key}";
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.DepositMany(6, 10, "old");

        await account.Clear();

        var cleared = await account.Get();
        Assert.Equal(0, cleared.Balance);
        Assert.Equal(0, cleared.Version);
        Assert.Empty(cleared.Memos);
        // One tombstone at the stream's last version; the events and the snapshot are gone.
        Assert.Equal(1, await CountAsync(stream, "true"));
        Assert.Equal("$tombstone", await fixture.ScalarAsync<string>(
            "SELECT name FROM {schema}.events WHERE stream = @stream AND version = 5 AND snapshot", ("stream", stream)));

        await account.Deposit(1, "new0");
        await account.Deposit(2, "new1");
        var reloaded = await ReactivateAsync(account);

        Assert.Equal(3, reloaded.Balance);
        Assert.Equal(2, reloaded.Version);
        Assert.Equal(new[] { "new0", "new1" }, reloaded.Memos);
        Assert.Equal(new AccountEvent[] { new Deposited(1, "new0"), new Deposited(2, "new1") }, await account.History(0, 2));
        // Stream versions continue after the tombstone.
        Assert.Equal(new[] { 6L, 7L }, await fixture.ScalarAsync<long[]>(
            "SELECT array_agg(version ORDER BY version) FROM {schema}.events WHERE stream = @stream AND NOT snapshot", ("stream", stream)));
    }

    [Fact]
    public async Task Clearing_the_log_while_the_background_snapshot_is_being_saved_succeeds_and_leaves_only_the_tombstone()
    {
        // The snapshot taken after DepositMany (grain version 6, stream version 5: the head) is held inside its INSERT
        // by a trigger until the clear's truncation waits for it (or finishes). Before the journal ordered the two, the
        // truncation's tombstone at version 5 collided with that snapshot: ClearLog failed with 23505.
        var key = Key();
        var stream = $"account/{key}";
        var gateKey = Random.Shared.Next(100_000, int.MaxValue);
        var trigger = $"hold_{key}";
        await fixture.ExecuteAsync($$"""
            CREATE FUNCTION {schema}.{{trigger}}() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
                IF NEW.stream = '{{stream}}' AND NEW.name = '$snapshot' THEN
                    PERFORM pg_advisory_lock({{gateKey}});
                    PERFORM pg_advisory_unlock({{gateKey}});
                END IF;
                RETURN NEW;
            END $f$;
            CREATE TRIGGER {{trigger}} AFTER INSERT ON {schema}.events FOR EACH ROW EXECUTE FUNCTION {schema}.{{trigger}}();
            """);
        try
        {
            await using var gate = await fixture.Schema.DataSource.OpenConnectionAsync();
            await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({gateKey})", gate))
            {
                await take.ExecuteNonQueryAsync();
            }

            var account = fixture.Client.GetGrain<IAccountGrain>(key);
            await account.DepositMany(6, 10, "old");
            var saverPid = 0;
            await Eventually.WaitAsync(async () => (saverPid = await fixture.ScalarAsync<int>(
                $"SELECT coalesce(max(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND objid = {gateKey} AND NOT granted")) != 0,
                "the background snapshot waits inside its INSERT");

            var clear = account.Clear();
            await Eventually.WaitAsync(async () => clear.IsCompleted || await fixture.ScalarAsync<long>($"""
                SELECT count(*) FROM pg_locks
                WHERE NOT granted AND pid <> {saverPid}
                  AND (transactionid = (SELECT backend_xid FROM pg_stat_activity WHERE pid = {saverPid})
                       OR (locktype = 'advisory' AND classid = {OrleansPgStore.Store.Journal.JournalSql.StreamLockClass}::oid))
                """) > 0, "the clear's truncation waits for the snapshot, or finishes");
            await using (var release = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_unlock({gateKey})", gate))
            {
                await release.ExecuteNonQueryAsync();
            }

            await clear;

            var cleared = await account.Get();
            Assert.Equal((0m, 0), (cleared.Balance, cleared.Version));
            Assert.Equal(1, await CountAsync(stream, "true"));
            Assert.Equal("$tombstone", await fixture.ScalarAsync<string>(
                "SELECT name FROM {schema}.events WHERE stream = @stream AND version = 5 AND snapshot", ("stream", stream)));
            await account.Deposit(1, "new0");
            var reloaded = await ReactivateAsync(account);
            Assert.Equal((1m, 1), (reloaded.Balance, reloaded.Version));
        }
        finally
        {
            await fixture.ExecuteAsync($"DROP TRIGGER {trigger} ON {{schema}}.events; DROP FUNCTION {{schema}}.{trigger}();");
        }
    }

    [Fact]
    public async Task Snapshots_after_a_clear_keep_grain_versions_apart_from_stream_versions()
    {
        var key = Key();
        var stream = $"account/{key}";
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.DepositMany(3, 1, "old");
        await account.Clear();
        for (var i = 0; i < 7; i++)
        {
            await account.Deposit(2, $"new{i}");
        }

        // The tombstone sits at stream version 2, so grain event g is stream version 3 + g: the snapshot after
        // grain version 5 (events 0..4) sits at stream version 7.
        await WaitForSnapshotsAsync(stream, 1);
        Assert.Equal(7L, await fixture.ScalarAsync<long>(
            "SELECT version FROM {schema}.events WHERE stream = @stream AND snapshot AND name = '$snapshot'", ("stream", stream)));
        var reloaded = await ReactivateAsync(account);
        Assert.Equal(7, reloaded.Version);
        Assert.Equal(14, reloaded.Balance);
        Assert.Equal(new Deposited(2, "new4"), Assert.Single(await account.History(4, 5)));

        await account.Clear();
        var again = await ReactivateAsync(account);
        Assert.Equal(0, again.Version);
        Assert.Equal(0, again.Balance);
    }

    [Fact]
    public async Task Conditional_events_commit_when_the_version_is_current()
    {
        var account = fixture.Client.GetGrain<IAccountGrain>(Key());
        Assert.True(await account.TryDeposit(5, "c1"));
        Assert.True(await account.TryDeposit(5, "c2"));
        var view = await ReactivateAsync(account);
        Assert.Equal(10, view.Balance);
        Assert.Equal(2, view.Version);
    }

    [Fact]
    public async Task An_event_whose_name_matches_no_type_fails_activation_with_a_message_naming_it()
    {
        var key = Key();
        var journal = fixture.Cluster.Silos[0].ServiceProvider
            .GetRequiredKeyedService<OrleansPgStore.Store.PgStore>(TestClusters.Provider).Journal;
        await journal.CommitAsync($"account/{key}", [new OrleansPgStore.Store.Journal.EventData("test.renamed-away", "{}")]);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => fixture.Client.GetGrain<IAccountGrain>(key).Get());

        Assert.Contains("test.renamed-away", error.ToString());
        Assert.Contains("names no loaded type", error.ToString());
    }

    [Fact]
    public async Task Snapshot_payloads_hold_the_grain_version_readable_and_the_state_in_orleans_serialization()
    {
        var key = Key();
        var account = fixture.Client.GetGrain<IAccountGrain>(key);
        await account.DepositMany(5, 2, "s");
        await WaitForSnapshotsAsync($"account/{key}", 1);

        var json = await fixture.ScalarAsync<string>(
            "SELECT data::text FROM {schema}.events WHERE stream = @stream AND snapshot", ("stream", $"account/{key}"));
        using var document = JsonDocument.Parse(json!);
        Assert.Equal(5, document.RootElement.GetProperty("grainVersion").GetInt32());
        Assert.Equal("orleans", document.RootElement.GetProperty("format").GetString());
        Assert.Contains(typeof(AccountState).FullName!, document.RootElement.GetProperty("type").GetString(), StringComparison.Ordinal);
        var (grainVersion, state) = Snapshots().Read<AccountState>(json!);
        Assert.Equal((5, 10m, 5), (grainVersion, state!.Balance, state.Memos.Count));
    }

    /// <summary>Writes and reads snapshot payloads as the silos do.</summary>
    private JournalSnapshot Snapshots()
    {
        var services = fixture.Cluster.Silos[0].ServiceProvider;
        return new JournalSnapshot(
            services.GetRequiredService<Serializer>(),
            services.GetRequiredService<SerializerSessionPool>(),
            services.GetRequiredService<TypeConverter>(),
            JsonSerializerOptions.Web);
    }
}
