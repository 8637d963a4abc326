using System.Text.Json;
using OrleansPgStore.Cli.Tests.Support;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Cli.Tests;

/// <summary>The tool end to end against a real PostgreSQL: a schema of its own per test.</summary>
public sealed class CliTests : IAsyncLifetime
{
    private PostgresTestSchema _schema = null!;

    public async ValueTask InitializeAsync() => _schema = await PostgresTestSchema.CreateAsync("cli");

    public async ValueTask DisposeAsync() => await _schema.DisposeAsync();

    private Task<CliRun> Run(params string[] args) => CliRunner.RunAsync([.. args, "--connection", _schema.ConnectionString, "--schema", _schema.Name]);

    [Fact]
    public async Task Schema_seed_creates_the_tables_and_status_then_reports_them()
    {
        var before = await Run("status", "--json");
        Assert.Equal(ExitCodes.Attention, before.ExitCode);

        var seed = await Run("schema", "seed");
        Assert.Equal(ExitCodes.Ok, seed.ExitCode);
        Assert.Contains($"Seeded {_schema.Name}.events, {_schema.Name}.durable_state, {_schema.Name}.subscriptions.", seed.Output);

        var status = await Run("status", "--json");
        Assert.True(status.ExitCode == ExitCodes.Ok, status.ToString());
        using var json = JsonDocument.Parse(status.Output);
        Assert.All(json.RootElement.GetProperty("tables").EnumerateArray(), t => Assert.True(t.GetProperty("exists").GetBoolean()));
        Assert.Equal(0, json.RootElement.GetProperty("events").GetInt64());
    }

    [Fact]
    public async Task Status_shows_counts_lag_and_blocked_targets_with_their_errors_and_exits_3()
    {
        await SeedAsync();
        await using var journal = Journal();
        await journal.CommitAsync("account/1", [new EventData("Deposited", "{}"), new EventData("Deposited", "{}")]);
        await using var leases = Leases();
        await leases.SubscribeAsync([new Subscription("projection/a", "account/1", Lane: "fast")]);
        await BlockAsync("projection/a", "handler threw: division by zero");

        var status = await Run("status");

        Assert.Equal(ExitCodes.Attention, status.ExitCode);
        Assert.Contains("Events: 2, snapshots: 0", status.Output);
        Assert.Contains("fast", status.Output);
        Assert.Contains("projection/a", status.Output);
        Assert.Contains("handler threw: division by zero", status.Output);
    }

    [Fact]
    public async Task Targets_filters_are_exact_and_dry_runs_change_nothing()
    {
        await SeedAsync();
        await using var leases = Leases();
        await leases.SubscribeAsync([new Subscription("s1"), new Subscription("s12"), new Subscription("s2")]);
        await BlockAsync("s1", "boom");
        await BlockAsync("s12", "boom");

        var list = await Run("targets", "list", "--stream", "s1", "--json");
        Assert.Equal(ExitCodes.Ok, list.ExitCode);
        using (var json = JsonDocument.Parse(list.Output))
        {
            Assert.Equal(["s1"], json.RootElement.EnumerateArray().Select(t => t.GetProperty("stream").GetString()));
        }

        var dry = await Run("targets", "unblock", "--stream", "s1", "--stream", "s2", "--dry-run", "--json");
        Assert.Equal(ExitCodes.Ok, dry.ExitCode);
        using (var json = JsonDocument.Parse(dry.Output))
        {
            Assert.Equal(1, json.RootElement.GetProperty("count").GetInt32());
        }

        Assert.Equal(2, await BlockedCountAsync());

        var unblock = await Run("targets", "unblock", "--stream", "s1");
        Assert.Equal(ExitCodes.Ok, unblock.ExitCode);
        Assert.Contains("'unblock' changed 1 target(s).", unblock.Output);
        Assert.Equal(["s12"], (await leases.QueryStreamsAsync(new SubscriptionFilter { Blocked = true })).Select(t => t.Stream));
    }

    [Fact]
    public async Task Changing_every_target_needs_all_and_reset_defer_prioritize_apply()
    {
        await SeedAsync();
        await using var leases = Leases();
        await leases.SubscribeAsync([new Subscription("a", Lane: "l1"), new Subscription("b", Lane: "l2", Priority: 5)]);

        var refused = await Run("targets", "reset");
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.Contains("--all", refused.Error);

        Assert.Equal(ExitCodes.Ok, (await Run("targets", "reset", "--all")).ExitCode);

        var dry = await Run("targets", "prioritize", "--priority", "5", "--all", "--dry-run", "--json");
        using (var json = JsonDocument.Parse(dry.Output))
        {
            // b already has priority 5: only a would change.
            Assert.Equal(["a"], json.RootElement.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("stream").GetString()));
        }

        Assert.Equal(ExitCodes.Ok, (await Run("targets", "prioritize", "--priority", "5", "--lane", "l1")).ExitCode);
        Assert.Equal(ExitCodes.Ok, (await Run("targets", "defer", "--for", "01:00:00", "--lane", "l2")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await Run("targets", "defer", "--lane", "l2")).ExitCode);

        var states = (await leases.QueryStreamsAsync(new SubscriptionFilter())).ToDictionary(t => t.Stream);
        Assert.Equal(5, states["a"].Priority);
        Assert.Null(states["a"].Due);
        Assert.NotNull(states["b"].Due);
    }

    [Fact]
    public async Task Stream_show_prints_events_with_their_metadata()
    {
        await SeedAsync();
        await using var journal = Journal();
        await journal.CommitAsync("account/7", [new EventData("Deposited", """{"amount":5}""")],
            new EventMetadata("order-9", EventCausation.FromCommand("PlaceOrder")));

        var text = await Run("stream", "show", "account/7");
        Assert.Equal(ExitCodes.Ok, text.ExitCode);
        Assert.Contains("order-9", text.Output);
        Assert.Contains("PlaceOrder", text.Output);

        var json = await Run("stream", "show", "account/7", "--json");
        using var document = JsonDocument.Parse(json.Output);
        var e = Assert.Single(document.RootElement.GetProperty("events").EnumerateArray());
        Assert.Equal("order-9", e.GetProperty("correlationId").GetString());
        Assert.Equal(5, e.GetProperty("data").GetProperty("amount").GetInt32());
    }

    [Fact]
    public async Task Retention_run_trims_behind_snapshots_and_reports_what_it_deleted()
    {
        await SeedAsync();
        await using var journal = Journal();
        for (var i = 0; i < 3; i++)
        {
            await journal.CommitAsync($"s{i}", Enumerable.Range(0, 4).Select(_ => new EventData("E", "{}")).ToList());
            await journal.SaveSnapshotAsync($"s{i}", 2, "{}");
        }

        var cutoff = DateTimeOffset.UtcNow.AddMinutes(1).ToString("O");
        var run = await Run("retention", "run", "--before", cutoff, "--batch-size", "2");

        Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
        Assert.Contains("Deleted 9 row(s) from 3 stream(s)", run.Output);
        var again = await Run("retention", "run", "--before", cutoff, "--json");
        using var json = JsonDocument.Parse(again.Output);
        Assert.Equal(0, json.RootElement.GetProperty("rowsDeleted").GetInt64());
    }

    [Fact]
    public async Task Retention_run_keeps_what_a_blocked_target_has_not_consumed_and_a_dry_run_deletes_nothing()
    {
        await SeedAsync();
        await using var journal = Journal();
        var consumed = await journal.CommitAsync("consumed", Enumerable.Range(0, 4).Select(_ => new EventData("E", "{}")).ToList());
        var stuck = await journal.CommitAsync("stuck", Enumerable.Range(0, 3).Select(_ => new EventData("E", "{}")).ToList());
        await journal.SaveSnapshotAsync("consumed", 3, "{}");
        await journal.SaveSnapshotAsync("stuck", 2, "{}");
        await _schema.ExecuteAsync(
            $"INSERT INTO \"{_schema.Name}\".subscriptions (stream, source, at, work, blocked) VALUES " +
            $"('projection/consumed', 'consumed', {consumed[^1].Position}, {consumed[^1].Position}, false), " +
            $"('projection/stuck', 'stuck', -1, {stuck[^1].Position}, true)");
        var rows = await EventRowsAsync();
        var cutoff = DateTimeOffset.UtcNow.AddMinutes(1).ToString("O");

        var dry = await Run("retention", "run", "--before", cutoff, "--dry-run");

        Assert.True(dry.ExitCode == ExitCodes.Ok, dry.ToString());
        Assert.Contains("Would delete 4 row(s) from 2 stream(s)", dry.Output);
        Assert.Contains("Would keep 3 event(s) in 1 stream(s) that subscriptions have not consumed; oldest holder: projection/stuck in", dry.Output);
        Assert.Contains("(blocked)", dry.Output);
        Assert.Equal(rows, await EventRowsAsync());

        var dryJson = await Run("retention", "run", "--before", cutoff, "--dry-run", "--ignore-blocked-targets", "--json");
        using (var json = JsonDocument.Parse(dryJson.Output))
        {
            Assert.True(json.RootElement.GetProperty("dryRun").GetBoolean());
            Assert.Equal(7, json.RootElement.GetProperty("rowsDeleted").GetInt64());
            Assert.Equal(3, json.RootElement.GetProperty("unconsumedDeleted").GetInt64());
        }

        Assert.Equal(rows, await EventRowsAsync());
        var run = await Run("retention", "run", "--before", cutoff, "--json");
        using (var json = JsonDocument.Parse(run.Output))
        {
            Assert.Equal(4, json.RootElement.GetProperty("rowsDeleted").GetInt64());
            Assert.Equal(3, json.RootElement.GetProperty("rowsWithheld").GetInt64());
            Assert.Equal("projection/stuck", json.RootElement.GetProperty("oldestHolder").GetProperty("subscription").GetString());
        }

        Assert.Equal(rows - 4, await EventRowsAsync());
    }

    [Fact]
    public async Task Schema_sql_prints_the_ddl_of_the_three_tables()
    {
        var run = await CliRunner.RunAsync("schema", "sql", "--schema", "app", "--events-table", "ev");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("CREATE TABLE IF NOT EXISTS \"app\".\"ev\"", run.Output);
        Assert.Contains("\"app\".\"durable_state\"", run.Output);
        Assert.Contains("\"app\".\"subscriptions\"", run.Output);
    }

    [Fact]
    public async Task Usage_errors_exit_1_and_failures_exit_2_naming_what_failed()
    {
        Assert.Equal(ExitCodes.Usage, (await CliRunner.RunAsync("nonsense")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await CliRunner.RunAsync("retention", "run", "--connection", "Host=x")).ExitCode);
        Assert.Equal(ExitCodes.Usage, (await CliRunner.RunAsync("schema", "sql", "--schema", "bad name")).ExitCode);

        var unreachable = await CliRunner.RunAsync("status", "--connection", "Host=127.0.0.1;Port=1;Timeout=2");
        Assert.Equal(ExitCodes.Failed, unreachable.ExitCode);
        Assert.Contains("host '127.0.0.1' (port 1) refused the connection", unreachable.Error);

        var missing = await Run("stream", "show", "x");
        Assert.Equal(ExitCodes.Failed, missing.ExitCode);
        Assert.Contains("events", missing.Error);
    }

    [Fact]
    public async Task Positions_rebase_lets_a_journal_whose_positions_regressed_append_again_above_every_stored_position()
    {
        await SeedAsync();
        await using (var journal = Journal())
        {
            await journal.CommitAsync("account/1", [new EventData("Deposited", "{}")]);
        }

        // What a restore into a younger cluster looks like: the server's next ids map below the stored positions.
        await _schema.ExecuteAsync($"UPDATE \"{_schema.Name}\".events_positions SET xid_offset = -1000000000");
        await using var restarted = Journal();
        var refused = await Assert.ThrowsAsync<OrleansPgStore.Store.Errors.PositionsRegressedException>(
            () => restarted.CommitAsync("account/1", [new EventData("Deposited", "{}")]));
        Assert.Contains("orleanspgstore positions rebase", refused.Message);

        var rebase = await Run("positions", "rebase", "--json");
        Assert.True(rebase.ExitCode == ExitCodes.Ok, rebase.ToString());
        using (var json = JsonDocument.Parse(rebase.Output))
        {
            Assert.True(json.RootElement.GetProperty("changed").GetBoolean());
            Assert.Equal(-1000000000, json.RootElement.GetProperty("previousOffset").GetInt64());
        }

        var appended = await restarted.CommitAsync("account/1", [new EventData("Deposited", "{}")], expectedVersion: 0);
        Assert.True(appended[0].Position >> 20 > refused.StoredTransaction);
        var again = await Run("positions", "rebase");
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
        Assert.Contains("nothing changed", again.Output);
    }

    private async Task SeedAsync() => Assert.Equal(ExitCodes.Ok, (await Run("schema", "seed")).ExitCode);

    private JournalStore Journal() => new(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });

    private LeaseStore Leases() => new(new LeaseStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });

    private Task BlockAsync(string stream, string error)
        => _schema.ExecuteAsync($"UPDATE \"{_schema.Name}\".subscriptions SET blocked = true, error = '{error}' WHERE stream = '{stream}'");

    private async Task<long> EventRowsAsync()
        => await _schema.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema.Name}\".events");

    private async Task<long> BlockedCountAsync()
        => await _schema.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema.Name}\".subscriptions WHERE blocked");
}
