using Npgsql;
using OrleansPgStore.Options;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Hosting;

public sealed class OptionsValidatorTests
{
    private static List<string> Check(PostgresStoreOptions options) => PostgresOptionsValidator.Check(options);

    [Fact]
    public void Defaults_plus_a_connection_string_are_valid()
    {
        Assert.Empty(Check(new PostgresJournalOptions { ConnectionString = "Host=localhost" }));
        Assert.Empty(Check(new PostgresGrainStorageOptions { ConnectionString = "Host=localhost" }));
        Assert.Empty(Check(new PostgresLogConsistencyOptions { ConnectionString = "Host=localhost" }));
    }

    [Fact]
    public void Exactly_one_of_connection_string_and_data_source_is_required()
    {
        Assert.Contains("PostgresJournalOptions.ConnectionString (or PostgresJournalOptions.DataSource) is required.", Check(new PostgresJournalOptions()));
        using var dataSource = NpgsqlDataSource.Create("Host=localhost");
        Assert.Contains(
            "Set PostgresGrainStorageOptions.ConnectionString or PostgresGrainStorageOptions.DataSource, not both.",
            Check(new PostgresGrainStorageOptions { ConnectionString = "Host=localhost", DataSource = dataSource }));
        Assert.Empty(Check(new PostgresGrainStorageOptions { DataSource = dataSource }));
    }

    [Fact]
    public void Activation_read_connections_must_not_be_negative()
        => Assert.Contains(
            "PostgresJournalOptions.WarmReadConnections must be 0 (share the main pool) or positive (was -1).",
            Check(new PostgresJournalOptions { ConnectionString = "Host=localhost", WarmReadConnections = -1 }));

    [Theory]
    [InlineData("Host=localhost;Minimum Pool Size=10;Maximum Pool Size=5", "Minimum Pool Size 10 above its Maximum Pool Size 5")]
    [InlineData("Host=localhost;Minimum Pool Size=101", "Minimum Pool Size 101 above its Maximum Pool Size 100")]
    public void Pool_sizes_that_cannot_work_are_named(string connectionString, string named)
    {
        var failures = Check(new PostgresJournalOptions { ConnectionString = connectionString });

        Assert.Contains(failures, f => f.StartsWith("PostgresJournalOptions.ConnectionString has ", StringComparison.Ordinal) && f.Contains(named));
    }

    [Fact]
    public void A_one_connection_pool_cannot_also_hold_the_reaction_workers_listen_connection()
    {
        var options = new PostgresJournalOptions { ConnectionString = "Host=localhost;Maximum Pool Size=1" };
        Assert.Empty(Check(options));
        options.Reactions.On("Deposited", (_, _, _) => Task.CompletedTask);

        Assert.Contains(Check(options), f => f.Contains("Maximum Pool Size 1") && f.Contains("PostgresJournalOptions.Reactions.NotifyOnCommit"));
        options.Reactions.NotifyOnCommit = false;
        Assert.Empty(Check(options));
    }

    [Fact]
    public void Pool_sizes_the_activation_reads_adapt_to_are_valid()
    {
        Assert.Empty(Check(new PostgresJournalOptions { ConnectionString = "Host=localhost;Minimum Pool Size=10" }));
        Assert.Empty(Check(new PostgresJournalOptions { ConnectionString = "Host=localhost;Minimum Pool Size=10;Maximum Pool Size=10", WarmReadConnections = 50 }));
    }

    [Fact]
    public void Read_retry_timeout_and_tolerant_types_are_checked()
    {
        var options = new PostgresLogConsistencyOptions { ConnectionString = "Host=localhost", ReadRetryTimeout = TimeSpan.Zero };
        options.TolerantReadTypes.Add(null!);

        var failures = Check(options);

        Assert.Contains("PostgresLogConsistencyOptions.ReadRetryTimeout must be positive (was 00:00:00).", failures);
        Assert.Contains("PostgresLogConsistencyOptions.TolerantReadTypes must not contain null.", failures);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Write_retry_timeout_must_be_positive(int seconds)
    {
        var timeout = TimeSpan.FromSeconds(seconds);
        Assert.Contains(
            $"PostgresJournalOptions.WriteRetryTimeout must be positive (was {timeout}).",
            Check(new PostgresJournalOptions { ConnectionString = "Host=localhost", WriteRetryTimeout = timeout }));
        Assert.Contains(
            $"PostgresLogConsistencyOptions.WriteRetryTimeout must be positive (was {timeout}).",
            Check(new PostgresLogConsistencyOptions { ConnectionString = "Host=localhost", WriteRetryTimeout = timeout }));
    }

    [Fact]
    public void Each_wrong_setting_is_named()
    {
        var options = new PostgresJournalOptions
        {
            ConnectionString = "Host=localhost",
            Schema = "",
            EventsTable = "1events",
            StateTable = "state-table",
            CommandTimeout = TimeSpan.Zero,
            SnapshotInterval = -5,
            StreamPrefix = "a\0b",
        };
        options.SnapshotIntervals["account"] = -1;
        options.TypeNames[typeof(Deposited)] = "dup";
        options.TypeNames[typeof(Withdrawn)] = "dup";

        var failures = string.Join("\n", Check(options));

        Assert.Contains("PostgresJournalOptions.Schema must be a non-empty SQL identifier", failures);
        Assert.Contains("PostgresJournalOptions.EventsTable '1events' is not a valid SQL identifier", failures);
        Assert.Contains("PostgresJournalOptions.StateTable 'state-table' is not a valid SQL identifier", failures);
        Assert.Contains("PostgresJournalOptions.CommandTimeout must be positive", failures);
        Assert.Contains("PostgresJournalOptions.SnapshotInterval must be 0 (off) or positive (was -5)", failures);
        Assert.Contains("PostgresJournalOptions.SnapshotIntervals['account'] must be 0 (off) or positive (was -1)", failures);
        Assert.Contains("PostgresJournalOptions.StreamPrefix must be a string without NUL characters", failures);
        Assert.Contains("PostgresJournalOptions.TypeNames gives the name 'dup' to both", failures);
    }

    [Fact]
    public void The_validator_throws_an_orleans_configuration_exception_naming_the_provider()
    {
        var validator = new PostgresOptionsValidator(new PostgresLogConsistencyOptions { Table = "" }, "PostgreSQL log-consistency provider 'Events'");

        var e = Assert.Throws<OrleansConfigurationException>(validator.ValidateConfiguration);

        Assert.StartsWith("PostgreSQL log-consistency provider 'Events' is misconfigured: ", e.Message);
        Assert.Contains("PostgresLogConsistencyOptions.Table", e.Message);
    }
}
