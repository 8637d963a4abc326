using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;
using OrleansPgStore.Tests.Grains;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Hosting;

/// <summary>What the hosting extensions wire, how they read configuration, and how they fail.</summary>
public sealed class HostingTests
{
    private static InProcessTestClusterBuilder Builder(Action<ISiloBuilder> configure, short silos = 2)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => configure(silo));
        return builder;
    }

    private static async Task<OrleansConfigurationException> StartFailsAsync(InProcessTestCluster cluster)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.DeployAsync());
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is OrleansConfigurationException configuration)
            {
                return configuration;
            }
        }

        throw new Xunit.Sdk.XunitException($"Silo start failed, but not with an OrleansConfigurationException: {error}");
    }

    [Fact]
    public async Task A_missing_connection_string_fails_silo_start_naming_the_setting()
    {
        await using var cluster = Builder(silo => silo.AddPostgresJournal(o => o.Schema = "app")).Build();

        var error = await StartFailsAsync(cluster);

        Assert.Contains("PostgreSQL journal 'Postgres'", error.Message);
        Assert.Contains("PostgresJournalOptions.ConnectionString (or PostgresJournalOptions.DataSource) is required", error.Message);
    }

    [Fact]
    public async Task Every_wrong_setting_is_named_in_one_message()
    {
        await using var cluster = Builder(silo => silo.AddPostgresJournal("Journal", o =>
        {
            o.ConnectionString = "Host=localhost;Password=never-shown";
            o.Schema = "app; DROP TABLE x";
            o.SnapshotInterval = -1;
            o.TypeNames[typeof(Incremented)] = "$reserved";
        })).Build();

        var error = await StartFailsAsync(cluster);

        Assert.Contains("PostgreSQL journal 'Journal'", error.Message);
        Assert.Contains("PostgresJournalOptions.Schema", error.Message);
        Assert.Contains("PostgresJournalOptions.SnapshotInterval must be 0 (off) or positive (was -1)", error.Message);
        Assert.Contains("must be a non-empty name not starting with '$'", error.Message);
        Assert.DoesNotContain("never-shown", error.Message);
    }

    [Fact]
    public async Task A_fine_grained_provider_with_a_bad_connection_string_fails_silo_start()
    {
        await using var cluster = Builder(silo => silo.AddPostgresGrainStorage("Store", o => o.ConnectionString = "Hots=x")).Build();

        var error = await StartFailsAsync(cluster);

        Assert.Contains("PostgreSQL grain storage 'Store'", error.Message);
        Assert.Contains("PostgresGrainStorageOptions.ConnectionString is not a valid Npgsql connection string", error.Message);
    }

    [Fact]
    public async Task The_connection_string_is_never_logged()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("hosting");
        var secret = "Sec" + Guid.NewGuid().ToString("N");
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            schema.ConnectionString + $";Password={secret}", schema.Name,
            configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();

        await cluster.Client.GetGrain<IAccountGrain>("logged").Deposit(1, "m");

        Assert.Contains(capture.Messages, m => m.Contains("PostgresJournalOptions", StringComparison.Ordinal) && m.Contains("REDACTED", StringComparison.Ordinal));
        Assert.DoesNotContain(capture.Messages, m => m.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddPostgresJournalAsDefault_serves_grains_that_name_no_provider_for_state_and_events()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("hosting");
        await using var cluster = Builder(silo => silo.AddPostgresJournalAsDefault(o =>
        {
            o.ConnectionString = schema.ConnectionString;
            o.Schema = schema.Name;
        }), silos: 1).Build();
        await cluster.DeployAsync();

        var plain = cluster.Client.GetGrain<IDefaultStorageGrain>("d");
        await plain.Rename("Ada");
        var counter = cluster.Client.GetGrain<ICounterGrain>(42);
        await counter.Increment(3);
        await cluster.DeactivateAsync(plain);
        await cluster.DeactivateAsync(counter);

        Assert.Equal(("Ada", true), await plain.Get());
        Assert.Equal((3, 1), await counter.Get());
        Assert.Equal("Ada", await schema.ScalarAsync<string>(
            $"SELECT state->>'name' FROM \"{schema.Name}\".durable_state WHERE persistence_id LIKE '%/plain/default-storage/d'"));
        Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'counter/2A'"));
    }

    [Fact]
    public async Task A_default_log_consistency_provider_registered_first_stays_the_default()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("hosting");
        await using var cluster = Builder(silo => silo
            .AddMemoryGrainStorageAsDefault()
            .AddLogStorageBasedLogConsistencyProviderAsDefault()
            .AddPostgresJournal(o =>
            {
                o.ConnectionString = schema.ConnectionString;
                o.Schema = schema.Name;
            }), silos: 1).Build();
        await cluster.DeployAsync();

        await cluster.Client.GetGrain<ICounterGrain>(7).Increment(1);      // names no provider: Orleans' LogStorage
        await cluster.Client.GetGrain<IAccountGrain>("named").Deposit(1, "m");   // names "Postgres"

        Assert.Equal((1, 1), await cluster.Client.GetGrain<ICounterGrain>(7).Get());
        Assert.Equal(0L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream LIKE 'counter/%'"));
        Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'account/named'"));
    }

    [Fact]
    public async Task A_data_source_passed_in_options_serves_the_silo_and_stays_open_after_it_stops()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("hosting");
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(schema.ConnectionString);
        var cluster = Builder(silo => silo.AddPostgresJournal(o =>
        {
            o.DataSource = dataSource;
            o.Schema = schema.Name;
        }), silos: 1).Build();
        await cluster.DeployAsync();
        await cluster.Client.GetGrain<IAccountGrain>("own-pool").Deposit(1, "m");
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();

        // orleans.md: a data source you pass is never disposed by the plugin.
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'account/own-pool'");
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Options_bind_from_a_configuration_section()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("hosting");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Postgres:ConnectionString"] = schema.ConnectionString,
            ["Postgres:Schema"] = schema.Name,
            ["Postgres:StreamPrefix"] = "bank:",
            ["Postgres:SnapshotInterval"] = "50",
            ["Postgres:SnapshotIntervals:account"] = "2",
            ["Postgres:CommandTimeout"] = "00:00:10",
        }).Build();
        await using var cluster = Builder(silo => silo.AddPostgresJournal(configuration.GetSection("Postgres"))).Build();
        await cluster.DeployAsync();

        var account = cluster.Client.GetGrain<IAccountGrain>("configured");
        await account.Deposit(1, "a");
        await account.Deposit(2, "b");

        Assert.Equal(2L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'bank:account/configured' AND NOT snapshot"));
        // Snapshots are saved in the background, after the confirm returned.
        await Eventually.WaitAsync(
            async () => await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'bank:account/configured' AND snapshot") == 1,
            "the snapshot at interval 2 is saved");
    }

    [Fact]
    public async Task The_fine_grained_providers_work_alone_and_seed_their_own_tables()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("hosting");
        await using var cluster = Builder(silo => silo
            .AddPostgresLogConsistencyProvider(TestClusters.Provider, o =>
            {
                o.ConnectionString = schema.ConnectionString;
                o.Schema = schema.Name;
                o.Table = "journal";
            })
            .AddPostgresLogConsistencyProviderAsDefault(o =>
            {
                o.ConnectionString = schema.ConnectionString;
                o.Schema = schema.Name;
                o.Table = "journal";
                o.TypeNames[typeof(Incremented)] = TestClusters.IncrementedName;
            })
            .AddPostgresGrainStorage(TestClusters.Provider, o =>
            {
                o.ConnectionString = schema.ConnectionString;
                o.Schema = schema.Name;
                o.Table = "states";
            })).Build();
        await cluster.DeployAsync();

        await cluster.Client.GetGrain<IAccountGrain>("fine").Deposit(3, "x");
        await cluster.Client.GetGrain<ICounterGrain>(7).Increment(4);
        await cluster.Client.GetGrain<IProfileGrain>("fine").Visit("fine");

        Assert.Equal(2L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".journal"));
        Assert.Equal(TestClusters.IncrementedName, await schema.ScalarAsync<string>($"SELECT name FROM \"{schema.Name}\".journal WHERE stream = 'counter/7'"));
        Assert.Equal(1L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".states"));
    }

    [Fact]
    public async Task With_seeding_off_and_no_tables_grain_calls_fail_with_a_message_naming_the_missing_table()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("hosting");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, configure: o => o.SeedSchema = false);
        await cluster.DeployAsync();

        var journalError = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<IAccountGrain>("unseeded").Get());
        var storageError = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<IProfileGrain>("unseeded").Get());

        Assert.Contains($"\"{schema.Name}\".\"events\" does not exist", journalError.ToString());
        Assert.Contains($"\"{schema.Name}\".\"durable_state\" does not exist", storageError.ToString());
    }
}
