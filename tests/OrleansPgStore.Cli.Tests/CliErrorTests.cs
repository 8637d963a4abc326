using System.Text.Json;
using OrleansPgStore.Cli.Tests.Support;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Cli.Tests;

/// <summary>What the tool says when something is wrong: in its own words, naming what, with a distinct exit code.</summary>
public sealed class CliErrorTests : IAsyncLifetime
{
    private PostgresTestSchema _schema = null!;

    public async ValueTask InitializeAsync() => _schema = await PostgresTestSchema.CreateAsync("cli-errors");

    public async ValueTask DisposeAsync() => await _schema.DisposeAsync();

    private Task<CliRun> Run(params string[] args) => CliRunner.RunAsync([.. args, "--connection", _schema.ConnectionString, "--schema", _schema.Name]);

    public static TheoryData<string, string> BadConnectionStrings => new()
    {
        { "Host=localhost;Port", "malformed" },
        { "Host=localhost;=x", "malformed" },
        { "Hots=localhost;Database=app", "unknown keyword 'Hots'" },
        { "Host=localhost;Databse=app", "unknown keyword 'Databse'" },
        { "Host=localhost;Port=abc", "Port value 'abc'" },
        { "Host=localhost;Max Pool Size=5", "unknown keyword 'Max Pool Size'" },
    };

    [Theory]
    [MemberData(nameof(BadConnectionStrings))]
    public async Task A_bad_connection_string_is_a_usage_error_naming_what_is_wrong(string connectionString, string expected)
    {
        foreach (var command in new[] { new[] { "status" }, ["stream", "show", "s"], ["schema", "seed"] })
        {
            var run = await CliRunner.RunAsync([.. command, "--connection", connectionString]);
            Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
            Assert.Contains(expected, run.Error);
            Assert.DoesNotContain("initialization string", run.Error);
        }
    }

    [Fact]
    public async Task An_unknown_host_is_named()
    {
        var run = await CliRunner.RunAsync("status", "--connection", "Host=no-such-host.invalid;Database=app;Username=u;Timeout=5");
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        Assert.Contains("host 'no-such-host.invalid' (port 5432) is not known to DNS", run.Error);
    }

    [Fact]
    public async Task A_missing_table_gives_the_command_that_creates_it()
    {
        var run = await Run("stream", "show", "account/1");
        Assert.True(run.ExitCode == ExitCodes.Failed, run.ToString());
        Assert.Contains($"Table \"{_schema.Name}\".\"events\" does not exist", run.Error);
        Assert.Contains("orleanspgstore schema seed", run.Error);
        Assert.Contains("--schema", run.Error);
        Assert.DoesNotContain("SeedAsync", run.Error);
    }

    [Fact]
    public async Task Status_on_a_schema_without_tables_suggests_seed_and_schema()
    {
        var run = await Run("status");
        Assert.True(run.ExitCode == ExitCodes.Attention, run.ToString());
        Assert.Contains("orleanspgstore schema seed", run.Output);
        Assert.Contains("--schema", run.Output);
    }

    [Fact]
    public async Task A_stream_that_does_not_exist_exits_not_found_and_an_existing_one_ok()
    {
        Assert.Equal(ExitCodes.Ok, (await Run("schema", "seed")).ExitCode);
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        await journal.CommitAsync("account/1", [new EventData("Deposited", "{}")]);

        var missing = await Run("stream", "show", "account/2");
        Assert.True(missing.ExitCode == ExitCodes.NotFound, missing.ToString());
        Assert.Contains("Stream 'account/2' not found", missing.Error);

        var found = await Run("stream", "show", "account/1");
        Assert.True(found.ExitCode == ExitCodes.Ok, found.ToString());
    }

    [Fact]
    public async Task With_json_every_error_is_a_json_object_with_message_and_code()
    {
        Assert.Equal(ExitCodes.Ok, (await Run("schema", "seed")).ExitCode);
        var cases = new (string[] Args, int Code)[]
        {
            (["stream", "show", "nothing-here", "--json"], ExitCodes.NotFound),
            (["stream", "show", "s", "--limit", "0", "--json"], ExitCodes.Usage),
            (["status", "--json", "--events-table", "no_such_table"], ExitCodes.Attention),
        };
        foreach (var (args, code) in cases)
        {
            var run = await Run(args);
            Assert.True(run.ExitCode == code, run.ToString());
            if (code is ExitCodes.NotFound or ExitCodes.Usage)
            {
                using var error = JsonDocument.Parse(run.Error);
                Assert.Equal(code, error.RootElement.GetProperty("code").GetInt32());
                Assert.False(string.IsNullOrWhiteSpace(error.RootElement.GetProperty("error").GetString()));
            }
        }

        var badConnection = await CliRunner.RunAsync("status", "--json", "--connection", "Hots=x");
        using var json = JsonDocument.Parse(badConnection.Error);
        Assert.Equal(ExitCodes.Usage, json.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("unknown keyword 'Hots'", json.RootElement.GetProperty("error").GetString());
    }
}
